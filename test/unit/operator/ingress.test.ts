// The Ingress for nginx-ingress: paths, class, host/TLS, and the annotations
// WebSocket and streaming uploads need.
import assert from 'node:assert/strict';
import { buildIngress, ingressAnnotations } from '../../../operator/src/resources/ingress.js';
import { ingressAnnotations as localNginx } from '../../../scripts/nginx/index.js';
import { ctx } from './fixtures.js';

const NGINX = 'nginx.ingress.kubernetes.io';

describe('operator Ingress builder', function () {
  it('routes /ws to the gateway and /files to the file service, class nginx, any host', function () {
    const ing = buildIngress(ctx())!;
    assert.equal(ing.metadata!.name, 'demo');
    assert.equal(ing.spec!.ingressClassName, 'nginx');
    assert.equal(ing.spec!.tls, undefined);
    const rule = ing.spec!.rules![0]!;
    assert.equal(rule.host, undefined);
    assert.deepEqual(
      rule.http!.paths.map((p) => [p.path, p.pathType, p.backend.service!.name, p.backend.service!.port!.name]),
      [
        ['/ws', 'Prefix', 'demo-gateway', 'ws'],
        ['/files', 'Prefix', 'demo-file-service', 'http'],
      ],
    );
  });

  const annotations: { spec: unknown; key: string; want: string | undefined }[] = [
    { spec: {}, key: `${NGINX}/proxy-read-timeout`, want: '3600' },
    { spec: {}, key: `${NGINX}/proxy-send-timeout`, want: '3600' },
    { spec: {}, key: `${NGINX}/proxy-request-buffering`, want: 'off' },
    { spec: {}, key: `${NGINX}/proxy-buffering`, want: 'off' },
    { spec: {}, key: `${NGINX}/proxy-body-size`, want: String(1073741824 + 1048576) },
    { spec: { fileService: { maxUploadBytes: 1000 } }, key: `${NGINX}/proxy-body-size`, want: String(1000 + 1048576) },
    {
      spec: { ingress: { annotations: { [`${NGINX}/proxy-read-timeout`]: '60' } } },
      key: `${NGINX}/proxy-read-timeout`,
      want: '60',
    },
    { spec: { ingress: { annotations: { 'example.com/x': 'y' } } }, key: 'example.com/x', want: 'y' },
  ];
  for (const a of annotations) {
    it(`annotates ${a.key}=${a.want} for ${JSON.stringify(a.spec)}`, function () {
      assert.equal(ingressAnnotations(ctx(a.spec))[a.key], a.want);
    });
  }

  it('asks nginx-ingress for what the local nginx (scripts/nginx) does, per route', function () {
    const ours = ingressAnnotations(ctx());
    for (const route of ['ws', 'files'] as const) {
      for (const [k, v] of Object.entries(localNginx(route, 1073741824))) {
        // One Ingress carries both routes: /files gets the WebSocket timeouts (an hour, not 5 min).
        const timeout = route === 'files' && /proxy-(read|send)-timeout$/.test(k);
        assert.equal(ours[k], timeout ? '3600' : v, `${route}: ${k}`);
      }
    }
  });

  it('sorts annotations (byte-identical objects)', function () {
    const keys = Object.keys(ingressAnnotations(ctx({ ingress: { annotations: { 'a.example/z': '1' } } })));
    assert.deepEqual(keys, [...keys].sort());
  });

  it('sets host and TLS when given', function () {
    const ing = buildIngress(
      ctx({ ingress: { host: 'chat.example.com', tlsSecretName: 'chat-tls', className: 'public' } }),
    )!;
    assert.equal(ing.spec!.ingressClassName, 'public');
    assert.equal(ing.spec!.rules![0]!.host, 'chat.example.com');
    assert.deepEqual(ing.spec!.tls, [{ hosts: ['chat.example.com'], secretName: 'chat-tls' }]);
  });

  it('is not built when the ingress is disabled', function () {
    assert.equal(buildIngress(ctx({ ingress: { enabled: false } })), undefined);
  });
});
