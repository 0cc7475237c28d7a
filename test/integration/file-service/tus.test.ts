// Resumable uploads (tus 1.0: core, creation, expiration, checksum,
// termination) through nginx to two replicas: PATCHes alternate between
// replicas, connections are cut at random offsets and resumed from HEAD, and
// the result is checked byte for byte. Locks, checksums and expiry hold across
// replicas because they live in the store.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { waitFor } from '../../support/index.js';
import { CHUNK, bytes, request, sha256, startHarness, storeCounts, type Harness, type RawResponse } from './harness.js';

const TUS = { 'tus-resumable': '1.0.0' };
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('file-service: resumable uploads (tus) through nginx', function () {
  this.timeout(180_000);
  let h: Harness;
  let auth: Record<string, string>;

  before(async function () {
    // A roomy body timeout: the 423 test holds a PATCH open mid-body on purpose.
    h = await startHarness({ env: { TCE_FILES_BODY_TIMEOUT: '15s' } });
    auth = { authorization: `Bearer ${h.token('alice')}`, ...TUS };
  });
  after(async function () {
    await h?.stop();
  });

  async function create(
    length: number,
    metadata = `filename ${b64('t.bin')},filetype ${b64('application/octet-stream')}`,
  ) {
    const res = await request(h.base, 'POST', '/files/uploads', {
      ...auth,
      'upload-length': length,
      'upload-metadata': metadata,
    });
    assert.equal(res.status, 201, res.body.toString());
    return String(res.headers.location);
  }
  const head = (loc: string, who = auth): Promise<RawResponse> => request(h.base, 'HEAD', loc, who);
  const patch = (loc: string, offset: number, body: Buffer, extra: Record<string, string> = {}): Promise<RawResponse> =>
    request(
      h.base,
      'PATCH',
      loc,
      { ...auth, 'content-type': 'application/offset+octet-stream', 'upload-offset': offset, ...extra },
      body,
    );

  /** PATCHes `data` from the server's offset to the end, retrying while a previous PATCH still holds the lock. */
  async function finish(loc: string, data: Buffer): Promise<RawResponse> {
    return waitFor(
      'the final PATCH to be accepted',
      async () => {
        const off = Number((await head(loc)).headers['upload-offset']);
        const res = await patch(loc, off, data.subarray(off));
        if (res.status === 423 || res.status === 409) throw new Error(`PATCH answered ${res.status}`);
        return res;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  /** Sends a PATCH from `offset` but cuts the connection after `cutAt` bytes of the file. */
  async function cutPatch(loc: string, offset: number, data: Buffer, cutAt: number): Promise<void> {
    const sock = net.connect(h.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    const headLines = [
      `PATCH ${loc} HTTP/1.1`,
      `Host: 127.0.0.1:${h.port}`,
      `Authorization: ${auth.authorization}`,
      'Tus-Resumable: 1.0.0',
      'Content-Type: application/offset+octet-stream',
      `Upload-Offset: ${offset}`,
      `Content-Length: ${data.length - offset}`,
      '',
      '',
    ].join('\r\n');
    await new Promise<void>((resolve) =>
      sock.write(Buffer.concat([Buffer.from(headLines), data.subarray(offset, cutAt)]), () => resolve()),
    );
    sock.destroy();
  }

  /**
   * A PATCH of all of `data` that sends its first chunk and then waits (the
   * caller writes the rest on `sock`); resolves once it holds the upload's lock.
   */
  async function heldPatch(
    loc: string,
    data: Buffer,
  ): Promise<{ sock: net.Socket; answer: Promise<string>; id: string }> {
    const sock = net.connect(h.port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', r));
    const answer = new Promise<string>((resolve) => {
      let text = '';
      sock.on('data', (b: Buffer) => {
        text += b.toString();
        if (text.includes('\r\n\r\n')) resolve(text);
      });
      sock.on('close', () => resolve(text));
    });
    sock.write(
      [
        `PATCH ${loc} HTTP/1.1`,
        `Host: x`,
        `Authorization: ${auth.authorization}`,
        'Tus-Resumable: 1.0.0',
        'Content-Type: application/offset+octet-stream',
        'Upload-Offset: 0',
        `Content-Length: ${data.length}`,
        'Connection: close',
        '',
        '',
      ].join('\r\n'),
    );
    sock.write(data.subarray(0, CHUNK));
    const id = loc.split('/').pop()!;
    // Not before: a second PATCH that came first would take the lock and, carrying the
    // whole body, complete the upload (every later PATCH then answers 404).
    await waitFor('the first PATCH to hold the lock', async () =>
      h.db.collection('file_upload_locks').findOne({ upload: id, until: { $gt: Date.now() } }),
    );
    return { sock, answer, id };
  }

  it('OPTIONS advertises version, extensions, max size and checksum algorithms (no auth needed)', async function () {
    const res = await request(h.base, 'OPTIONS', '/files/uploads');
    assert.equal(res.status, 204);
    assert.equal(res.headers['tus-resumable'], '1.0.0');
    assert.equal(res.headers['tus-version'], '1.0.0');
    assert.equal(res.headers['tus-extension'], 'creation,expiration,checksum,termination');
    assert.equal(res.headers['tus-max-size'], String(h.maxUploadBytes));
    assert.equal(res.headers['tus-checksum-algorithm'], 'sha1,sha256,md5');
  });

  it('requires Tus-Resumable: 1.0.0 (412 with Tus-Version)', async function () {
    const res = await request(h.base, 'POST', '/files/uploads', {
      authorization: auth.authorization,
      'upload-length': 10,
    });
    assert.equal(res.status, 412);
    assert.equal(res.headers['tus-version'], '1.0.0');
  });

  it('creates with Location and Upload-Expires; HEAD reports offset 0, no-store and the metadata', async function () {
    const meta = `filename ${b64('ü.txt')},filetype ${b64('text/plain')}`;
    const loc = await create(1000, meta);
    assert.match(loc, /^\/files\/uploads\/[A-Za-z0-9_-]{22}$/);
    const res = await head(loc);
    assert.equal(res.status, 200);
    assert.equal(res.headers['upload-offset'], '0');
    assert.equal(res.headers['upload-length'], '1000');
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['upload-metadata'], meta);
    assert.ok(Date.parse(String(res.headers['upload-expires'])) > Date.now());
  });

  it('refuses bad creations', async function () {
    const cases: [Record<string, string | number>, number, string][] = [
      [{}, 400, 'Upload-Length is required'],
      [{ 'upload-length': -1 }, 400, 'Upload-Length must be a non-negative integer'],
      [{ 'upload-length': h.maxUploadBytes + 1 }, 413, `upload exceeds the limit of ${h.maxUploadBytes} bytes`],
      [{ 'upload-defer-length': 1 }, 400, 'Upload-Defer-Length is not supported'],
      [
        { 'upload-length': 5, 'upload-metadata': `filename ${b64('a\r\nb')}` },
        400,
        'file name contains control characters',
      ],
      [
        { 'upload-length': 5, 'upload-metadata': 'filename %%%' },
        400,
        "Upload-Metadata value of 'filename' is not base64",
      ],
    ];
    for (const [headers, status, message] of cases) {
      const res = await request(h.base, 'POST', '/files/uploads', { ...auth, ...headers });
      assert.equal(res.status, status, JSON.stringify(headers));
      assert.equal(JSON.parse(res.body.toString()).error.message, message);
      assert.equal(res.headers['tus-resumable'], '1.0.0');
    }
  });

  it('uploads in PATCHes landing on both replicas, then the upload is a normal file with the same id', async function () {
    const data = bytes(5 * CHUNK + 999, 21);
    const loc = await create(data.length);
    const cuts = [0, 1, CHUNK - 1, CHUNK, 2 * CHUNK + 7, 4 * CHUNK, data.length];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const res = await patch(loc, cuts[i]!, data.subarray(cuts[i], cuts[i + 1]));
      assert.equal(res.status, 204, res.body.toString());
      assert.equal(res.headers['upload-offset'], String(cuts[i + 1]));
      assert.equal(res.headers['tus-resumable'], '1.0.0');
    }
    const id = loc.split('/').pop()!;
    const got = await request(h.base, 'GET', `/files/${id}`, auth);
    assert.equal(got.status, 200);
    assert.equal(sha256(got.body), sha256(data));
    assert.equal(got.headers.etag, `"${sha256(data)}"`);
    // A client that lost the last answer asks again and learns the upload is complete.
    const after = await head(loc);
    assert.equal(after.headers['upload-offset'], String(data.length));
  });

  it('resumes after connections cut at random offsets', async function () {
    const data = bytes(8 * CHUNK + 4321, 22);
    const loc = await create(data.length);
    const cuts = Array.from({ length: 5 }, () => crypto.randomInt(1, data.length)).sort((a, b) => a - b);
    let offset = 0;
    const seen: number[] = [];
    for (const cut of cuts) {
      if (cut <= offset) continue;
      await cutPatch(loc, offset, data, cut);
      const res = await head(loc);
      const now = Number(res.headers['upload-offset']);
      assert.ok(now >= offset && now <= cut, `offset ${now} not within [${offset}, ${cut}]`);
      seen.push(now);
      offset = now;
    }
    const last = await finish(loc, data);
    assert.equal(last.status, 204);
    assert.equal(last.headers['upload-offset'], String(data.length));
    const got = await request(h.base, 'GET', `/files/${loc.split('/').pop()}`, auth);
    assert.equal(sha256(got.body), sha256(data), `cut at ${cuts.join(', ')}; offsets seen ${seen.join(', ')}`);
  });

  it('answers 409 for a wrong Upload-Offset, 415 for a wrong Content-Type, 413 beyond Upload-Length', async function () {
    const loc = await create(100);
    assert.equal((await patch(loc, 0, Buffer.alloc(10))).status, 204);
    const wrong = await patch(loc, 5, Buffer.alloc(10));
    assert.equal(wrong.status, 409);
    assert.equal(
      JSON.parse(wrong.body.toString()).error.message,
      "Upload-Offset 5 does not match the upload's offset 10",
    );
    const type = await request(
      h.base,
      'PATCH',
      loc,
      { ...auth, 'content-type': 'application/octet-stream', 'upload-offset': 10 },
      Buffer.alloc(1),
    );
    assert.equal(type.status, 415);
    const over = await patch(loc, 10, Buffer.alloc(91));
    assert.equal(over.status, 413);
    assert.equal((await head(loc)).headers['upload-offset'], '10');
  });

  it('verifies Upload-Checksum: a match advances, a mismatch is 460 and keeps nothing', async function () {
    const data = bytes(CHUNK + 50, 23);
    const loc = await create(data.length);
    const part1 = data.subarray(0, 1000);
    const sha1 = (b: Buffer): string => crypto.createHash('sha1').update(b).digest('base64');
    const ok = await patch(loc, 0, part1, { 'upload-checksum': `sha1 ${sha1(part1)}` });
    assert.equal(ok.status, 204);
    const part2 = data.subarray(1000);
    const bad = await patch(loc, 1000, part2, { 'upload-checksum': `sha1 ${sha1(Buffer.from('other'))}` });
    assert.equal(bad.status, 460);
    assert.equal(JSON.parse(bad.body.toString()).error.message, 'Upload-Checksum does not match the received bytes');
    assert.equal((await head(loc)).headers['upload-offset'], '1000');
    const unsupported = await patch(loc, 1000, part2, { 'upload-checksum': 'crc32 AAAA' });
    assert.equal(unsupported.status, 400);
    const sha256b64 = crypto.createHash('sha256').update(part2).digest('base64');
    const good = await patch(loc, 1000, part2, { 'upload-checksum': `sha256 ${sha256b64}` });
    assert.equal(good.status, 204);
    const got = await request(h.base, 'GET', `/files/${loc.split('/').pop()}`, auth);
    assert.equal(sha256(got.body), sha256(data));
  });

  it('answers 423 to a second PATCH while one is streaming (on either replica)', async function () {
    const data = bytes(2 * CHUNK, 24);
    const loc = await create(data.length);
    const { sock, answer, id } = await heldPatch(loc, data);
    try {
      for (let i = 0; i < 2; i++) {
        const second = await waitFor('the second PATCH to meet the lock', async () => {
          const r = await patch(loc, 0, data);
          // Thrown, not returned: a timeout then says what the PATCH answered instead.
          if (r.status !== 423) throw new Error(`the second PATCH answered ${r.status} ${r.body.toString()}`);
          return r;
        });
        assert.equal(JSON.parse(second.body.toString()).error.message, 'another request is writing to this upload');
      }
    } finally {
      // write, not end: nginx takes a half-closed client connection for an abort.
      sock.write(data.subarray(CHUNK));
    }
    assert.match(await answer, /^HTTP\/1\.1 204 /);
    sock.destroy();
    const got = await request(h.base, 'GET', `/files/${id}`, auth);
    assert.equal(sha256(got.body), sha256(data));
  });

  it('a PATCH that lost its lock (its lease lapsed, another took it) answers 409 and moves nothing', async function () {
    const data = bytes(2 * CHUNK, 26);
    const loc = await create(data.length);
    const { sock, answer, id } = await heldPatch(loc, data);
    // What a lapse looks like in the store: a newer epoch, held by someone else.
    const locks = h.db.collection<{ _id: string; upload: string; epoch: number; by: string; until: number }>(
      'file_upload_locks',
    );
    const held = (await locks.find({ upload: id }).sort({ epoch: -1 }).limit(1).next())!;
    await locks.insertOne({
      _id: `${id}.${held.epoch + 1}`,
      upload: id,
      epoch: held.epoch + 1,
      by: 'other',
      until: Date.now() + 60_000,
    });
    sock.write(data.subarray(CHUNK));
    const text = await answer;
    sock.destroy();
    assert.match(text, /^HTTP\/1\.1 409 /);
    assert.match(text, /the upload lock was lost; retry from HEAD/);
    await locks.updateOne({ _id: `${id}.${held.epoch + 1}` }, { $set: { until: 0 } });
    assert.equal((await head(loc)).headers['upload-offset'], '0', 'the offset did not move');
  });

  it('hides an upload from other users (404) and lets its owner terminate it, chunks and all', async function () {
    const loc = await create(3 * CHUNK);
    assert.equal((await patch(loc, 0, bytes(2 * CHUNK + 5, 25))).status, 204);
    const bob = { authorization: `Bearer ${h.token('bob')}`, ...TUS };
    assert.equal((await head(loc, bob)).status, 404);
    assert.equal((await request(h.base, 'DELETE', loc, bob)).status, 404);
    const id = loc.split('/').pop()!;
    assert.equal(await h.db.collection('fs.chunks').countDocuments({ files_id: id }), 3);
    const del = await request(h.base, 'DELETE', loc, auth);
    assert.equal(del.status, 204);
    assert.equal((await head(loc)).status, 404);
    assert.equal(await h.db.collection('fs.chunks').countDocuments({ files_id: id }), 0);
  });

  it('a zero-length upload is complete at creation', async function () {
    const loc = await create(0);
    const got = await request(h.base, 'GET', `/files/${loc.split('/').pop()}`, auth);
    assert.equal(got.status, 200);
    assert.equal(got.body.length, 0);
  });
});

describe('file-service: tus expiry and the sweeper', function () {
  this.timeout(120_000);
  let h: Harness;

  before(async function () {
    // Long enough for the POST, PATCH and count below on a busy box, short enough to wait for.
    h = await startHarness({ env: { TCE_FILES_UPLOAD_EXPIRY: '8s' } });
  });
  after(async function () {
    await h?.stop();
  });

  it('removes an unfinished upload and its chunks after Upload-Expires', async function () {
    const auth = { authorization: `Bearer ${h.token()}`, ...TUS };
    const before = await storeCounts(h.db);
    const created = await request(h.base, 'POST', '/files/uploads', { ...auth, 'upload-length': 3 * CHUNK });
    const loc = String(created.headers.location);
    const expires = Date.parse(String(created.headers['upload-expires']));
    assert.ok(expires > Date.now() && expires <= Date.now() + 9000);
    const res = await request(
      h.base,
      'PATCH',
      loc,
      { ...auth, 'content-type': 'application/offset+octet-stream', 'upload-offset': 0 },
      bytes(CHUNK + 10),
    );
    assert.equal(res.status, 204);
    assert.equal((await storeCounts(h.db)).chunks, before.chunks + 2);
    await waitFor(
      'the sweeper to remove the expired upload',
      async () => {
        assert.deepEqual(await storeCounts(h.db), before);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    assert.equal((await request(h.base, 'HEAD', loc, auth)).status, 404);
    const late = await request(
      h.base,
      'PATCH',
      loc,
      { ...auth, 'content-type': 'application/offset+octet-stream', 'upload-offset': CHUNK + 10 },
      Buffer.alloc(5),
    );
    assert.equal(late.status, 404);
  });
});
