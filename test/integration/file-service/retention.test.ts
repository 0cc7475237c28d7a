// Offline file transfer and the sweeper: a file sent to a user is readable by
// its owner and recipient only, is deleted when its retention ends, and is kept
// only briefly once the recipient has fetched it; chunks of an upload whose
// replica died (kill -9) are removed by the other replica's sweeper.
import assert from 'node:assert/strict';
import net from 'node:net';
import { waitFor } from '../../support/index.js';
import { bytes, request, startHarness, storeCounts, type Harness } from './harness.js';

describe('file-service: offline transfers, retention and the sweeper', function () {
  this.timeout(120_000);
  let h: Harness;
  const token = (u: string): Record<string, string> => ({ authorization: `Bearer ${h.token(u)}` });

  before(async function () {
    // Short enough to wait for, long enough for the second test's seven requests on a busy box.
    h = await startHarness({ env: { TCE_FILE_RETENTION: '8s' } });
  });
  after(async function () {
    await h?.stop();
  });

  it('a transfer is for its owner and recipient only, and is deleted when its retention ends', async function () {
    const before = await storeCounts(h.db);
    const res = await request(h.base, 'POST', '/files?name=t.bin&to=bob', token('alice'), bytes(300_000));
    assert.equal(res.status, 201);
    const meta = JSON.parse(res.body.toString());
    assert.ok(meta.expiresAt > Date.now() && meta.expiresAt <= Date.now() + 9000);
    assert.equal((await request(h.base, 'HEAD', meta.uri, token('alice'))).status, 200);
    assert.equal((await request(h.base, 'HEAD', meta.uri, token('carol'))).status, 404);
    await waitFor(
      'the sweeper to delete the unfetched transfer',
      async () => {
        assert.deepEqual(await storeCounts(h.db), before);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    assert.equal((await request(h.base, 'GET', meta.uri, token('bob'))).status, 404);
  });

  it('a fetched transfer keeps its (shorter) expiry; a partial fetch does not count', async function () {
    const res = await request(h.base, 'POST', '/files?to=bob', token('alice'), bytes(1000));
    const meta = JSON.parse(res.body.toString());
    const expiry = async (): Promise<number> =>
      ((await h.db.collection('fs.files').findOne({ _id: meta.id })) as unknown as { metadata: { expiresAt: number } })
        .metadata.expiresAt;
    const first = await expiry();
    assert.equal((await request(h.base, 'GET', meta.uri, { ...token('bob'), range: 'bytes=0-9' })).status, 206);
    assert.equal(await expiry(), first);
    assert.equal((await request(h.base, 'GET', meta.uri, token('bob'))).status, 200);
    // The grace after a fetch (10 min) is longer than this test's 8 s retention: the earlier expiry stands.
    assert.equal(await expiry(), first);
    assert.equal((await request(h.base, 'DELETE', meta.uri, token('alice'))).status, 204);
  });

  it('removes the chunks of an upload whose replica was killed mid-stream', async function () {
    const before = await storeCounts(h.db);
    // Straight to replica 0 (not through nginx) so we know which process to kill.
    const sock = net.connect(h.httpPorts[0]!, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', r));
    sock.on('error', () => undefined);
    const head = `POST /files HTTP/1.1\r\nHost: x\r\nAuthorization: ${token('alice').authorization}\r\nContent-Length: 10000000\r\n\r\n`;
    sock.write(Buffer.concat([Buffer.from(head), bytes(2_000_000)]));
    await waitFor('chunks of the upload to appear', async () => (await storeCounts(h.db)).chunks > before.chunks);
    await h.replicas[0]!.kill9();
    sock.destroy();
    const left = await storeCounts(h.db);
    assert.equal(left.pending, before.pending + 1);
    await waitFor(
      'the surviving replica to sweep the dead upload',
      async () => {
        assert.deepEqual(await storeCounts(h.db), before);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  });
});
