// nginx is real: a generated config passes `nginx -t`, and a request is proxied
// through it to a Node server on loopback; without the upstream, nginx says 502;
// a port held by another process makes start fail instead of passing for nginx.
import assert from 'node:assert/strict';
import http from 'node:http';
import { freePort, startNginx, testNginxConfig, type Nginx } from '../../support/index.js';

describe('nginx smoke', function () {
  let upstream: http.Server;
  let upstreamPort: number;
  let nginx: Nginx;
  let port: number;

  before(async function () {
    upstream = http.createServer((req, res) => {
      res.setHeader('x-upstream', 'node');
      res.end(`hello ${req.url} via ${req.headers['x-forwarded-for'] ?? 'direct'}`);
    });
    upstreamPort = await freePort();
    await new Promise<void>((r) => upstream.listen(upstreamPort, '127.0.0.1', r));
    port = await freePort();
    nginx = await startNginx({ http: proxyConfig(port, upstreamPort), waitPort: port });
  });

  after(async function () {
    await nginx?.stop();
    await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
  });

  it('accepts the generated configuration (nginx -t)', function () {
    assert.match(testNginxConfig(proxyConfig(port, upstreamPort)), /syntax is ok/);
  });

  it("rejects a broken configuration with nginx's message", function () {
    assert.throws(
      () => testNginxConfig('server { listen 1; bogus_directive on; }'),
      /unknown directive "bogus_directive"/,
    );
  });

  it('proxies a request to the upstream', async function () {
    const res = await fetch(`http://127.0.0.1:${port}/hello`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-upstream'), 'node');
    assert.equal(await res.text(), 'hello /hello via 127.0.0.1');
  });

  it('answers 502 quickly when the upstream is down', async function () {
    const deadPort = await freePort();
    const p2 = await freePort();
    const n2 = await startNginx({ http: proxyConfig(p2, deadPort), waitPort: p2 });
    try {
      const res = await fetch(`http://127.0.0.1:${p2}/x`);
      assert.equal(res.status, 502);
    } finally {
      await n2.stop();
    }
  });

  it('fails to start, with the bind error, when another process already listens on its port', async function () {
    // Something else answering on waitPort must not pass for a running nginx.
    const taken = http.createServer((_req, res) => res.end('not nginx'));
    const p3 = await freePort();
    await new Promise<void>((r) => taken.listen(p3, '127.0.0.1', r));
    try {
      await assert.rejects(
        startNginx({ http: proxyConfig(p3, upstreamPort), waitPort: p3 }),
        /bind\(\) to 127\.0\.0\.1:\d+ failed \(98: Address already in use\)/,
      );
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});

function proxyConfig(listen: number, upstream: number): string {
  return `
  upstream app { server 127.0.0.1:${upstream}; }
  server {
    listen 127.0.0.1:${listen};
    location / {
      proxy_pass http://app;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_connect_timeout 2s;
    }
  }`;
}
