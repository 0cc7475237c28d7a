// Signed, expiring URLs (HTTP signer and gRPC signUrl) through nginx: a valid
// one needs no token; tampered or expired ones are 403; they grant reading only.
// Also files::IFileMeta and diag::IDiag over gRPC on a replica.
import assert from 'node:assert/strict';
import { IDiagProxy } from '../../../proto/gen/ts/diag.tce.js';
import { IFileMetaProxy } from '../../../proto/gen/ts/files.tce.js';
import { PlatformError } from '../../../services/runtime/src/errors.js';
import { signedQuery } from '../../../services/file-service/src/signed-url.js';
import { bytes, request, sha256, startHarness, type Harness } from './harness.js';

describe('file-service: signed URLs and IFileMeta over gRPC', function () {
  let h: Harness;
  let auth: { authorization: string };
  const data = bytes(100_000, 3);
  let id: string;
  let meta: IFileMetaProxy;

  before(async function () {
    h = await startHarness();
    auth = { authorization: `Bearer ${h.token('alice')}` };
    const res = await request(
      h.base,
      'POST',
      '/files?name=s.bin',
      { ...auth, 'content-type': 'application/octet-stream' },
      data,
    );
    id = JSON.parse(res.body.toString()).id;
    meta = new IFileMetaProxy(`127.0.0.1:${h.grpcPorts[1]}`);
  });
  after(async function () {
    meta?.close();
    await h?.stop();
  });

  it('POST /files/<id>/sign gives a URL that works without a token, for GET and HEAD', async function () {
    const res = await request(h.base, 'POST', `/files/${id}/sign?ttl=60`, auth);
    assert.equal(res.status, 200);
    const { url, expiresAt } = JSON.parse(res.body.toString());
    assert.match(url, new RegExp(`^/files/${id}\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    assert.ok(expiresAt > Date.now());
    const got = await request(h.base, 'GET', url);
    assert.equal(got.status, 200);
    assert.equal(sha256(got.body), sha256(data));
    assert.equal((await request(h.base, 'HEAD', url)).status, 200);
    const ranged = await request(h.base, 'GET', url, { range: 'bytes=0-9' });
    assert.equal(ranged.status, 206);
  });

  it('refuses tampered and expired signatures with 403', async function () {
    const url = await meta.signUrl(id, 60);
    const q = new URLSearchParams(url.split('?')[1]);
    const exp = q.get('exp')!;
    const sig = q.get('sig')!;
    const cases: [string, string][] = [
      [`/files/${id}?exp=${Number(exp) + 1}&sig=${sig}`, 'invalid URL signature'],
      [`/files/${id}?exp=${exp}&sig=${(sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)}`, 'invalid URL signature'],
      [`/files/${id}?exp=${exp}`, 'invalid URL signature'],
      [`/files/${id}?sig=${sig}`, 'invalid URL signature'],
      [`/files/${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}?exp=${exp}&sig=${sig}`, 'invalid URL signature'],
      // Correctly signed with the service's key, but already expired.
      [`/files/${id}?${signedQuery(h.signingKey, id, Math.floor(Date.now() / 1000) - 1)}`, 'signed URL expired'],
    ];
    for (const [u, message] of cases) {
      const res = await request(h.base, 'GET', u);
      assert.equal(res.status, 403, u);
      assert.deepEqual(JSON.parse(res.body.toString()), { error: { code: 'PERMISSION_DENIED', message } }, u);
    }
  });

  it('a signed URL does not authorise writes', async function () {
    const url = await meta.signUrl(id, 60);
    const del = await request(h.base, 'DELETE', url);
    assert.equal(del.status, 401);
    assert.equal((await request(h.base, 'GET', url)).status, 200);
  });

  it('IFileMeta.stat describes the file; signUrl checks its ttl', async function () {
    const info = await meta.stat(id);
    assert.equal(info.id, id);
    assert.equal(info.size, data.length);
    assert.equal(info.sha256, sha256(data));
    assert.equal(info.owner, 'alice');
    assert.equal(info.name, 's.bin');
    assert.equal(info.uri, `/files/${id}`);
    assert.equal(info.expires_at, 0);
    await assert.rejects(meta.stat('AAAAAAAAAAAAAAAAAAAAAA'), (e: PlatformError) => e.code === 'NOT_FOUND');
    await assert.rejects(
      meta.signUrl(id, 0),
      (e: PlatformError) =>
        e.code === 'INVALID_ARGUMENT' && e.message === 'ttl_seconds must be between 1 and 604800, got 0',
    );
  });

  it('IFileMeta.remove needs a signed identity and ownership', async function () {
    await assert.rejects(meta.remove(id), (e: PlatformError) => e.code === 'UNAUTHENTICATED');
    const as = (userId: string): IFileMetaProxy =>
      new IFileMetaProxy(`127.0.0.1:${h.grpcPorts[0]}`, {
        identity: { identity: { userId, deviceId: 'd' }, key: h.internalKey },
      });
    const bob = as('bob');
    const alice = as('alice');
    try {
      await assert.rejects(bob.remove(id), (e: PlatformError) => e.code === 'PERMISSION_DENIED');
      await alice.remove(id);
      assert.equal((await request(h.base, 'GET', `/files/${id}`, auth)).status, 404);
    } finally {
      bob.close();
      alice.close();
    }
  });

  it('serves diag::IDiag next to IFileMeta', async function () {
    const diag = new IDiagProxy(`127.0.0.1:${h.grpcPorts[0]}`);
    try {
      assert.equal(await diag.echo('files'), 'files');
    } finally {
      diag.close();
    }
  });
});
