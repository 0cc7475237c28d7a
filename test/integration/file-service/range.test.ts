// Range requests through nginx (RFC 9110 §14), on a file of a few chunks so
// ranges cross chunk boundaries: every edge the issue lists, each checked
// byte-for-byte against the uploaded data.
import assert from 'node:assert/strict';
import { CHUNK, bytes, request, startHarness, type Harness } from './harness.js';

describe('file-service: Range through nginx', function () {
  let h: Harness;
  let auth: { authorization: string };
  const data = bytes(3 * CHUNK + 1234, 77);
  const size = data.length;
  let uri: string;
  let etag: string;

  before(async function () {
    h = await startHarness();
    auth = { authorization: `Bearer ${h.token()}` };
    const res = await request(
      h.base,
      'POST',
      '/files?name=r.bin',
      { ...auth, 'content-type': 'application/octet-stream' },
      data,
    );
    assert.equal(res.status, 201);
    const meta = JSON.parse(res.body.toString());
    uri = meta.uri;
    etag = `"${meta.sha256}"`;
  });
  after(async function () {
    await h?.stop();
  });

  const partial: [string, number, number][] = [
    ['bytes=0-0', 0, 0],
    ['bytes=0-99', 0, 99],
    ['bytes=-500', size - 500, size - 1],
    ['bytes=-1', size - 1, size - 1],
    [`bytes=-${size + 1000}`, 0, size - 1],
    [`bytes=${CHUNK - 10}-`, CHUNK - 10, size - 1],
    [`bytes=${CHUNK - 1}-${CHUNK}`, CHUNK - 1, CHUNK],
    [`bytes=${CHUNK}-${2 * CHUNK - 1}`, CHUNK, 2 * CHUNK - 1],
    [`bytes=${size - 1}-`, size - 1, size - 1],
    [`bytes=10-${size + 5000}`, 10, size - 1],
    [`bytes=${CHUNK + 5}-${3 * CHUNK + 7}`, CHUNK + 5, 3 * CHUNK + 7],
  ];
  for (const [range, start, end] of partial) {
    it(`${range} → 206 bytes ${start}-${end}`, async function () {
      const res = await request(h.base, 'GET', uri, { ...auth, range });
      assert.equal(res.status, 206);
      assert.equal(res.headers['content-range'], `bytes ${start}-${end}/${size}`);
      assert.equal(res.headers['content-length'], String(end - start + 1));
      assert.ok(res.body.equals(data.subarray(start, end + 1)), 'body bytes differ');
    });
  }

  const refused: [string, string][] = [
    [`bytes=${size}-`, 'range not satisfiable: range starts beyond the end'],
    [`bytes=${size + 10}-${size + 20}`, 'range not satisfiable: range starts beyond the end'],
    ['bytes=-0', 'range not satisfiable: empty suffix range'],
    ['bytes=9-5', 'range not satisfiable: malformed range'],
    ['bytes=x-y', 'range not satisfiable: malformed range'],
    ['bytes=0-1,4-5', 'range not satisfiable: only a single range is supported'],
    ['bytes=0-100,50-150,0-', 'range not satisfiable: only a single range is supported'],
    [
      `bytes=${Array.from({ length: 60 }, (_, i) => `${i}-${i}`).join(',')}`,
      'range not satisfiable: range header too long',
    ],
  ];
  for (const [range, message] of refused) {
    it(`${range.slice(0, 40)} → 416 with Content-Range: bytes */${size}`, async function () {
      const res = await request(h.base, 'GET', uri, { ...auth, range });
      assert.equal(res.status, 416);
      assert.equal(res.headers['content-range'], `bytes */${size}`);
      assert.deepEqual(JSON.parse(res.body.toString()), { error: { code: 'OUT_OF_RANGE', message } });
    });
  }

  it('ignores a unit other than bytes (full 200)', async function () {
    const res = await request(h.base, 'GET', uri, { ...auth, range: 'items=0-1' });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, size);
  });

  it('honours If-Range only while the ETag matches', async function () {
    const same = await request(h.base, 'GET', uri, { ...auth, range: 'bytes=0-9', 'if-range': etag });
    assert.equal(same.status, 206);
    const changed = await request(h.base, 'GET', uri, { ...auth, range: 'bytes=0-9', 'if-range': '"other"' });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.length, size);
  });

  it('HEAD ignores Range and describes the whole file', async function () {
    const res = await request(h.base, 'HEAD', uri, { ...auth, range: 'bytes=0-9' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], String(size));
    assert.equal(res.headers['accept-ranges'], 'bytes');
  });

  it('serves an empty file whole whatever the Range', async function () {
    const up = await request(
      h.base,
      'POST',
      '/files',
      { ...auth, 'content-type': 'application/octet-stream' },
      Buffer.alloc(0),
    );
    const empty = JSON.parse(up.body.toString()).uri;
    for (const range of ['bytes=0-0', 'bytes=-500']) {
      const res = await request(h.base, 'GET', empty, { ...auth, range });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-length'], '0');
    }
  });
});
