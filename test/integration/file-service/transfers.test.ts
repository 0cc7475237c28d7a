// Plain uploads and downloads through nginx to two replicas on a real store:
// byte-exact integrity by SHA-256 at the chunk boundaries and at 50 MB, raw and
// multipart bodies, the client checksum, the response headers that keep files
// inert in a browser, conditional requests, deletion by the owner.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { GridFSBucket } from 'mongodb';
import { CHUNK, bytes, request, sha256, startHarness, storeCounts, type Harness } from './harness.js';

describe('file-service: uploads and downloads through nginx', function () {
  this.timeout(300_000);
  let h: Harness;
  let auth: { authorization: string };

  before(async function () {
    h = await startHarness();
    auth = { authorization: `Bearer ${h.token('alice')}` };
  });
  after(async function () {
    await h?.stop();
  });

  async function upload(data: Buffer, path = '/files?name=blob.bin', headers: Record<string, string> = {}) {
    const res = await request(
      h.base,
      'POST',
      path,
      { ...auth, 'content-type': 'application/octet-stream', ...headers },
      data,
    );
    assert.equal(res.status, 201, res.body.toString());
    return JSON.parse(res.body.toString()) as {
      id: string;
      size: number;
      sha256: string;
      contentType: string;
      name: string;
      uri: string;
    };
  }

  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 50 * 1024 * 1024]) {
    it(`stores and returns ${size} bytes exactly (SHA-256)`, async function () {
      const data = bytes(size, size + 1);
      const want = sha256(data);
      const meta = await upload(data);
      assert.equal(meta.size, size);
      assert.equal(meta.sha256, want);
      assert.equal(meta.uri, `/files/${meta.id}`);
      assert.match(meta.id, /^[A-Za-z0-9_-]{22}$/);
      // Twice, so both replicas behind nginx serve it.
      for (let i = 0; i < 2; i++) {
        const res = await request(h.base, 'GET', meta.uri, auth);
        assert.equal(res.status, 200);
        assert.equal(res.headers['content-length'], String(size));
        assert.equal(sha256(res.body), want);
      }
      // And any GridFS client reads the same bytes (the layout is standard GridFS).
      const chunks: Buffer[] = [];
      for await (const c of new GridFSBucket(h.db).openDownloadStream(meta.id as never)) chunks.push(c as Buffer);
      assert.equal(sha256(Buffer.concat(chunks)), want);
      // Keep the store small for the tests that follow.
      if (size > CHUNK + 1) assert.equal((await request(h.base, 'DELETE', meta.uri, auth)).status, 204);
    });
  }

  it('streams a chunked (no Content-Length) body', async function () {
    const data = bytes(3 * CHUNK + 17, 9);
    async function* pieces() {
      for (let i = 0; i < data.length; i += 10_000) yield data.subarray(i, i + 10_000);
    }
    const res = await request(
      h.base,
      'POST',
      '/files?name=c.bin',
      { ...auth, 'content-type': 'application/octet-stream' },
      pieces(),
    );
    assert.equal(res.status, 201, res.body.toString());
    assert.equal(JSON.parse(res.body.toString()).sha256, sha256(data));
  });

  it('answers 201 with the metadata JSON and a Location', async function () {
    const res = await request(
      h.base,
      'POST',
      '/files?name=' + encodeURIComponent('Grüße.txt'),
      { ...auth, 'content-type': 'Text/Plain; charset=UTF-8' },
      Buffer.from('hallo'),
    );
    assert.equal(res.status, 201);
    const meta = JSON.parse(res.body.toString());
    assert.deepEqual(Object.keys(meta).sort(), ['contentType', 'id', 'name', 'sha256', 'size', 'uri']);
    assert.equal(meta.contentType, 'text/plain; charset=utf-8');
    assert.equal(meta.name, 'Grüße.txt');
    assert.equal(res.headers.location, meta.uri);
  });

  it('accepts multipart/form-data with one file part, streamed', async function () {
    const data = bytes(2 * CHUNK + 5, 3);
    const boundary = 'XyZ' + crypto.randomBytes(8).toString('hex');
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n`),
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="pic.png"\r\nContent-Type: image/png\r\n\r\n`,
      ),
      data,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await request(
      h.base,
      'POST',
      '/files',
      { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    );
    assert.equal(res.status, 201, res.body.toString());
    const meta = JSON.parse(res.body.toString());
    assert.equal(meta.name, 'pic.png');
    assert.equal(meta.contentType, 'image/png');
    assert.equal(meta.sha256, sha256(data));
    const down = await request(h.base, 'GET', meta.uri, auth);
    assert.equal(sha256(down.body), sha256(data));
  });

  it('refuses multipart bodies with no file or two files, leaving nothing behind', async function () {
    const before = await storeCounts(h.db);
    const b = 'bnd';
    const part = (name: string) =>
      `--${b}\r\nContent-Disposition: form-data; name="f"; filename="${name}"\r\n\r\n${'x'.repeat(1000)}\r\n`;
    const two = await request(
      h.base,
      'POST',
      '/files',
      { ...auth, 'content-type': `multipart/form-data; boundary=${b}` },
      Buffer.from(part('a') + part('b') + `--${b}--\r\n`),
    );
    assert.equal(two.status, 400);
    assert.deepEqual(JSON.parse(two.body.toString()), {
      error: { code: 'INVALID_ARGUMENT', message: 'multipart body has more than one file part' },
    });
    const none = await request(
      h.base,
      'POST',
      '/files',
      { ...auth, 'content-type': `multipart/form-data; boundary=${b}` },
      Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="x"\r\n\r\ny\r\n--${b}--\r\n`),
    );
    assert.equal(none.status, 400);
    assert.equal(JSON.parse(none.body.toString()).error.message, 'multipart body has no file part');
    assert.deepEqual(await storeCounts(h.db), before);
  });

  it('verifies a client Content-Digest; a mismatch is 400 and stores nothing', async function () {
    const data = bytes(CHUNK + 100, 4);
    const good = `sha-256=:${crypto.createHash('sha256').update(data).digest('base64')}:`;
    const meta = await upload(data, '/files?name=d.bin', { 'content-digest': good });
    assert.equal(meta.sha256, sha256(data));
    const before = await storeCounts(h.db);
    const bad = `sha-256=:${crypto.createHash('sha256').update('other').digest('base64')}:`;
    const res = await request(
      h.base,
      'POST',
      '/files',
      { ...auth, 'content-type': 'application/octet-stream', 'content-digest': bad },
      data,
    );
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body.toString()).error.message, 'Content-Digest does not match the uploaded bytes');
    assert.deepEqual(await storeCounts(h.db), before);
  });

  it('serves files with ETag, nosniff, sandbox CSP and a safe Content-Disposition', async function () {
    const html = await upload(
      Buffer.from('<script>alert(1)</script>'),
      '/files?name=' + encodeURIComponent('x "y".html'),
      { 'content-type': 'text/html' },
    );
    const res = await request(h.base, 'GET', html.uri, auth);
    assert.equal(res.headers['content-type'], 'text/html');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['content-security-policy'], "sandbox; default-src 'none'");
    assert.equal(
      res.headers['content-disposition'],
      `attachment; filename="x _y_.html"; filename*=UTF-8''x%20%22y%22.html`,
    );
    assert.equal(res.headers.etag, `"${html.sha256}"`);
    assert.equal(res.headers['accept-ranges'], 'bytes');
    const png = await upload(bytes(100), '/files?name=p.png', { 'content-type': 'image/png' });
    const img = await request(h.base, 'GET', png.uri, auth);
    assert.equal(img.headers['content-disposition'], 'inline; filename="p.png"');
  });

  it('answers If-None-Match with 304 and no body; HEAD has the headers and no body', async function () {
    const meta = await upload(bytes(5000, 5));
    const etag = `"${meta.sha256}"`;
    const cached = await request(h.base, 'GET', meta.uri, { ...auth, 'if-none-match': `"nope", ${etag}` });
    assert.equal(cached.status, 304);
    assert.equal(cached.body.length, 0);
    assert.equal(cached.headers.etag, etag);
    const stale = await request(h.base, 'GET', meta.uri, { ...auth, 'if-none-match': '"nope"' });
    assert.equal(stale.status, 200);
    const head = await request(h.base, 'HEAD', meta.uri, auth);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '5000');
    assert.equal(head.body.length, 0);
  });

  it('lets only the owner delete; chunks go with the file', async function () {
    const meta = await upload(bytes(3 * CHUNK, 6));
    const bob = { authorization: `Bearer ${h.token('bob')}` };
    const denied = await request(h.base, 'DELETE', meta.uri, bob);
    assert.equal(denied.status, 403);
    assert.equal(JSON.parse(denied.body.toString()).error.message, 'only the owner may delete a file');
    const del = await request(h.base, 'DELETE', meta.uri, auth);
    assert.equal(del.status, 204);
    assert.equal((await request(h.base, 'GET', meta.uri, auth)).status, 404);
    assert.equal((await request(h.base, 'DELETE', meta.uri, auth)).status, 404);
    assert.equal(await h.db.collection('fs.chunks').countDocuments({ files_id: meta.id }), 0);
  });

  it('requires a valid bearer token', async function () {
    const none = await request(h.base, 'POST', '/files', {}, Buffer.from('x'));
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="tce-files"');
    const bad = await request(h.base, 'GET', '/files/AAAAAAAAAAAAAAAAAAAAAA', { authorization: 'Bearer a.b.c' });
    assert.equal(bad.status, 401);
    assert.match(String(bad.headers['www-authenticate']), /error="invalid_token"/);
    assert.equal(JSON.parse(bad.body.toString()).error.code, 'UNAUTHENTICATED');
  });

  it('refuses a body over TCE_MAX_UPLOAD_BYTES with 413 before reading it', async function () {
    const before = await storeCounts(h.db);
    // Within nginx's limit (which adds multipart room) but over the service's.
    const res = await request(
      h.base,
      'POST',
      '/files',
      { ...auth, 'content-length': h.maxUploadBytes + 1 },
      bytes(h.maxUploadBytes + 1),
    );
    assert.equal(res.status, 413);
    assert.deepEqual(JSON.parse(res.body.toString()), {
      error: { code: 'RESOURCE_EXHAUSTED', message: `upload exceeds the limit of ${h.maxUploadBytes} bytes` },
    });
    assert.deepEqual(await storeCounts(h.db), before);
  });

  it('refuses a chunked body that grows over the limit with 413 while reading, leaving nothing behind', async function () {
    const before = await storeCounts(h.db);
    const piece = bytes(1024 * 1024, 8);
    async function* endless() {
      for (let i = 0; i < 200; i++) yield piece;
    }
    const res = await request(
      h.base,
      'POST',
      '/files',
      { ...auth, 'content-type': 'application/octet-stream' },
      endless(),
    ).catch((e: Error) => e);
    // nginx answers with the service's 413 (or the client sees the connection end after it).
    if (!(res instanceof Error)) assert.equal(res.status, 413);
    await assertSettled(before);
  });

  async function assertSettled(before: Awaited<ReturnType<typeof storeCounts>>): Promise<void> {
    const { waitFor } = await import('../../support/index.js');
    await waitFor(
      'the store to hold nothing from the refused upload',
      async () => {
        assert.deepEqual(await storeCounts(h.db), before);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  }
});
