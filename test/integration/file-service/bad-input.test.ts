// What hostile or broken clients send, through nginx: traversal and CRLF in
// names and paths, huge headers, slow-drip bodies, aborted uploads, wrong
// methods, bad ids. Each gets its exact status; nothing is left in the store;
// both replicas keep serving.
import assert from 'node:assert/strict';
import net from 'node:net';
import { waitFor } from '../../support/index.js';
import { bytes, request, startHarness, storeCounts, type Harness } from './harness.js';

describe('file-service: bad input through nginx', function () {
  this.timeout(120_000);
  let h: Harness;
  let auth: Record<string, string>;

  before(async function () {
    h = await startHarness();
    auth = { authorization: `Bearer ${h.token('alice')}` };
  });
  after(async function () {
    await h?.stop();
  });

  async function settled(before: Awaited<ReturnType<typeof storeCounts>>): Promise<void> {
    await waitFor(
      'the store to hold nothing from the refused request',
      async () => {
        assert.deepEqual(await storeCounts(h.db), before);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  }

  it('stores a traversal name as its last segment, and refuses CR/LF and bidi tricks', async function () {
    const ok = await request(
      h.base,
      'POST',
      '/files?name=' + encodeURIComponent('../../etc/passwd'),
      auth,
      Buffer.from('x'),
    );
    assert.equal(ok.status, 201);
    assert.equal(JSON.parse(ok.body.toString()).name, 'passwd');
    const cases: [string, string][] = [
      ['a%0d%0aSet-Cookie:%20x=1', 'file name contains control characters'],
      ['a%00b', 'file name contains control characters'],
      [encodeURIComponent('evil\u202Egpj.exe'), 'file name contains bidirectional control characters'],
      ['..', 'file name is not a plain file name'],
    ];
    for (const [name, message] of cases) {
      const res = await request(h.base, 'POST', `/files?name=${name}`, auth, Buffer.from('x'));
      assert.equal(res.status, 400, name);
      assert.deepEqual(JSON.parse(res.body.toString()), { error: { code: 'INVALID_ARGUMENT', message } });
    }
  });

  it('refuses a bad Content-Type and a bad recipient', async function () {
    const type = await request(h.base, 'POST', '/files', { ...auth, 'content-type': 'nonsense' }, Buffer.from('x'));
    assert.equal(type.status, 400);
    assert.equal(JSON.parse(type.body.toString()).error.message, 'content type is not a valid media type');
    const to = await request(h.base, 'POST', '/files?to=' + encodeURIComponent('bob smith'), auth, Buffer.from('x'));
    assert.equal(to.status, 400);
    assert.equal(JSON.parse(to.body.toString()).error.message, 'recipient is not a valid user id');
  });

  it('answers bad ids and unknown paths precisely', async function () {
    const cases: [string, number, string][] = [
      ['/files/short', 400, 'invalid file id'],
      ['/files/AAAAAAAAAAAAAAAAAAAAAA', 404, 'no such file'],
      ['/files/AAAAAAAAAAAAAAAAAAAAAA/x/y', 404, 'not found'],
      ['/files/uploads/nope', 404, 'no such upload'],
    ];
    for (const [path, status, message] of cases) {
      const res = await request(h.base, 'GET', path, { ...auth, 'tus-resumable': '1.0.0' });
      if (path.startsWith('/files/uploads/')) {
        const head = await request(h.base, 'HEAD', path, { ...auth, 'tus-resumable': '1.0.0' });
        assert.equal(head.status, status, path);
        continue;
      }
      assert.equal(res.status, status, path);
      assert.equal(JSON.parse(res.body.toString()).error.message, message, path);
    }
    // nginx decodes and resolves dot segments before routing: these never reach the file service…
    for (const path of ['/files/../etc/passwd', '/files/%2e%2e%2fetc%2fpasswd']) {
      assert.equal((await request(h.base, 'GET', path, auth)).status, 404, path);
    }
    // …and the service refuses them on its own too.
    const direct = await request(`http://127.0.0.1:${h.httpPorts[0]}`, 'GET', '/files/%2e%2e%2fetc%2fpasswd', auth);
    assert.equal(direct.status, 400);
    assert.equal(JSON.parse(direct.body.toString()).error.message, 'invalid file id');
  });

  it('answers wrong methods with 405 and Allow', async function () {
    const cases: [string, string, string][] = [
      ['PUT', '/files', 'POST'],
      ['GET', '/files', 'POST'],
      ['POST', '/files/AAAAAAAAAAAAAAAAAAAAAA', 'GET, HEAD, DELETE'],
      ['PATCH', '/files/AAAAAAAAAAAAAAAAAAAAAA', 'GET, HEAD, DELETE'],
      ['GET', '/files/uploads', 'OPTIONS, POST'],
      ['GET', '/files/uploads/AAAAAAAAAAAAAAAAAAAAAA', 'HEAD, PATCH, DELETE, OPTIONS'],
      ['GET', '/files/AAAAAAAAAAAAAAAAAAAAAA/sign', 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await request(h.base, method, path, auth);
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.allow, allow, `${method} ${path}`);
    }
  });

  it('refuses huge headers: nginx with 400, the service itself with 431', async function () {
    const huge = { ...auth, 'x-junk': 'a'.repeat(64 * 1024) };
    const viaNginx = await request(h.base, 'GET', '/files/AAAAAAAAAAAAAAAAAAAAAA', huge);
    assert.equal(viaNginx.status, 400);
    assert.match(viaNginx.body.toString(), /Request Header Or Cookie Too Large/);
    // nginx never lets such a request through; the service still guards itself.
    const direct = await request(`http://127.0.0.1:${h.httpPorts[0]}`, 'GET', '/files/AAAAAAAAAAAAAAAAAAAAAA', huge);
    assert.equal(direct.status, 431);
  });

  it('answers a slow-drip upload with 408 and keeps nothing', async function () {
    const before = await storeCounts(h.db);
    const res = await request(
      h.base,
      'POST',
      '/files',
      { ...auth, 'content-type': 'application/octet-stream', 'content-length': 100_000 },
      (async function* () {
        yield bytes(50_000);
        for (let i = 0; i < 200; i++) {
          await new Promise((r) => setTimeout(r, 50));
          yield Buffer.from('x');
        }
      })(),
    ).catch((err: Error) => err);
    assert.ok(!(res instanceof Error), String(res));
    assert.equal(res.status, 408);
    assert.deepEqual(JSON.parse(res.body.toString()), {
      error: { code: 'DEADLINE_EXCEEDED', message: 'request body arrived too slowly' },
    });
    await settled(before);
  });

  it('keeps no file and no chunks when the client aborts mid-upload', async function () {
    const before = await storeCounts(h.db);
    for (let i = 0; i < 2; i++) {
      const sock = net.connect(h.port, '127.0.0.1');
      await new Promise<void>((r) => sock.once('connect', r));
      const head = `POST /files HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n`;
      await new Promise<void>((r) => sock.write(Buffer.concat([Buffer.from(head), bytes(3_000_000)]), () => r()));
      // The upload is under way (chunks are being written) before we cut it.
      await waitFor('chunks of the upload to appear', async () => (await storeCounts(h.db)).chunks > before.chunks);
      sock.destroy();
      await settled(before);
    }
  });

  it('survives all of it: both replicas are still ready and serving', async function () {
    for (const r of h.replicas) {
      assert.ok(r.process.running);
      assert.equal((await fetch(`http://127.0.0.1:${r.opsPort}/readyz`)).status, 200);
    }
    const res = await request(h.base, 'POST', '/files', auth, Buffer.from('still here'));
    assert.equal(res.status, 201);
  });
});
