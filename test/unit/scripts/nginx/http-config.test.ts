import assert from 'node:assert/strict';
import { FILES_PROXY, ingressAnnotations, nginxHttpConfig, WS_PROXY } from '../../../../scripts/nginx/index.js';

describe('scripts/nginx: the http{} route table', function () {
  const conf = nginxHttpConfig({
    listen: 8443,
    files: { upstreams: ['127.0.0.1:8081', '127.0.0.1:8091'], maxUploadBytes: 1000 },
    ws: { upstreams: ['127.0.0.1:8080'] },
    staticRoot: '/srv/web',
  });

  it('streams /files to every replica, unbuffered, with the body limit', function () {
    assert.match(
      conf,
      /upstream tce_files \{\n {2}server 127\.0\.0\.1:8081;\n {2}server 127\.0\.0\.1:8091;\n {2}keepalive 32;\n\}/,
    );
    for (const loc of ['= /files', '\\^~ /files/']) {
      const block = new RegExp(`location ${loc} \\{([^}]*)\\}`).exec(conf)?.[1] ?? '';
      assert.match(block, /proxy_request_buffering off;/);
      assert.match(block, /proxy_buffering off;/);
      assert.match(block, new RegExp(`client_max_body_size ${1000 + FILES_PROXY.multipartSlackBytes};`));
      assert.match(block, /proxy_http_version 1\.1;/);
      assert.match(block, new RegExp(`proxy_read_timeout ${FILES_PROXY.readTimeoutS}s;`));
      assert.match(block, /proxy_pass http:\/\/tce_files;/);
    }
  });

  it('upgrades /ws to WebSocket with long timeouts', function () {
    const block = /location = \/ws \{([^}]*)\}/.exec(conf)?.[1] ?? '';
    assert.match(block, /proxy_set_header Upgrade \$http_upgrade;/);
    assert.match(block, /proxy_set_header Connection \$tce_connection_upgrade;/);
    assert.match(block, new RegExp(`proxy_read_timeout ${WS_PROXY.readTimeoutS}s;`));
    assert.match(block, new RegExp(`proxy_send_timeout ${WS_PROXY.sendTimeoutS}s;`));
  });

  it('serves the static root at /, or 404 without one', function () {
    assert.match(conf, /location \/ \{\n {4}root "\/srv\/web";/);
    assert.match(nginxHttpConfig({ listen: 1 }), /location \/ \{\n {4}return 404;/);
  });

  it('refuses bad upstreams and paths instead of writing a broken config', function () {
    assert.throws(() => nginxHttpConfig({ listen: 1, files: { upstreams: [], maxUploadBytes: 1 } }), /no servers/);
    assert.throws(
      () => nginxHttpConfig({ listen: 1, files: { upstreams: ['x; evil'], maxUploadBytes: 1 } }),
      /bad server 'x; evil'/,
    );
    assert.throws(() => nginxHttpConfig({ listen: 1, staticRoot: '/a;b' }), /unsafe path/);
  });

  it('states the same settings as nginx-ingress annotations', function () {
    assert.deepEqual(ingressAnnotations('files', 1000), {
      'nginx.ingress.kubernetes.io/proxy-body-size': String(1000 + FILES_PROXY.multipartSlackBytes),
      'nginx.ingress.kubernetes.io/proxy-request-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-http-version': '1.1',
      'nginx.ingress.kubernetes.io/proxy-connect-timeout': '5',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '300',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '300',
    });
    assert.deepEqual(ingressAnnotations('ws'), {
      'nginx.ingress.kubernetes.io/proxy-connect-timeout': '5',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
    });
  });
});
