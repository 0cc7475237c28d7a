// The route table from scripts/nginx against Debian's real nginx: it passes
// `nginx -t`, upgrades /ws to WebSocket through to a gateway stand-in, serves
// the static root, and streams /files (covered by the other tests here).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer, WebSocket } from 'ws';
import { nginxHttpConfig } from '../../../scripts/nginx/index.js';
import { freePort, startNginx, testNginxConfig, type Nginx } from '../../support/index.js';

describe('scripts/nginx config on a real nginx', function () {
  let wss: WebSocketServer;
  let nginx: Nginx;
  let port: number;
  let root: string;

  before(async function () {
    const wsPort = await freePort();
    wss = new WebSocketServer({ host: '127.0.0.1', port: wsPort, path: '/ws' });
    wss.on('connection', (sock) => sock.on('message', (m) => sock.send(`echo:${m.toString()}`)));
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-web-'));
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>tce</title>');
    port = await freePort();
    nginx = await startNginx({
      http: nginxHttpConfig({
        listen: port,
        files: { upstreams: [`127.0.0.1:${await freePort()}`], maxUploadBytes: 1024 },
        ws: { upstreams: [`127.0.0.1:${wsPort}`] },
        staticRoot: root,
      }),
      waitPort: port,
    });
  });
  after(async function () {
    await nginx?.stop();
    await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()));
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('passes nginx -t', function () {
    const conf = nginxHttpConfig({
      listen: 1,
      files: { upstreams: ['127.0.0.1:2'], maxUploadBytes: 5 },
      ws: { upstreams: ['127.0.0.1:3'] },
    });
    assert.match(testNginxConfig(conf), /syntax is ok/);
  });

  it('upgrades /ws to a WebSocket and relays both ways', async function () {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    try {
      await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
      const reply = new Promise<string>((resolve) => ws.once('message', (m) => resolve(m.toString())));
      ws.send('hi');
      assert.equal(await reply, 'echo:hi');
    } finally {
      ws.close();
    }
  });

  it('serves the web client at / (SPA fallback) and refuses bodies over the limit on /files', async function () {
    const page = await fetch(`http://127.0.0.1:${port}/some/route`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>tce<\/title>/);
    const big = await fetch(`http://127.0.0.1:${port}/files`, { method: 'POST', body: Buffer.alloc(2 * 1024 * 1024) });
    assert.equal(big.status, 413);
  });
});
