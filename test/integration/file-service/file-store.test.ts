// The resumable-upload lock against the real store. FerretDB 1.x runs a
// conditional update as a read and a separate write, so the lock must be taken
// by an insert that the unique _id arbitrates: of many concurrent takers exactly
// one may win, on every try (the conditional update granted it to 2-8 of 8).
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { FileStore } from '../../../services/file-service/src/file-store.js';
import { newId } from '../../../services/file-service/src/ids.js';
import { Sweeper } from '../../../services/file-service/src/sweeper.js';
import { silentLogger } from '../../../services/runtime/src/logger.js';
import { collections, ensureIndexes, type UploadDoc } from '../../../services/file-service/src/store.js';
import { startStore, waitFor, type Store } from '../../support/index.js';

describe('file-service: the upload lock on the real store', function () {
  this.timeout(120_000);
  let store: Store;
  let mongo: MongoClient;
  let fs: FileStore;

  before(async function () {
    store = await startStore();
    mongo = new MongoClient(store.url);
    const c = collections(mongo.db());
    await ensureIndexes(c);
    fs = new FileStore(c);
  });
  after(async function () {
    await mongo?.close();
    await store?.stop();
  });

  async function upload(owner = 'alice'): Promise<string> {
    const now = Date.now();
    const doc: UploadDoc = {
      _id: newId(),
      owner,
      length: 1000,
      offset: 0,
      chunkSize: 255 * 1024,
      name: 't.bin',
      contentType: 'application/octet-stream',
      createdAt: now,
      expiresAt: now + 60_000,
    };
    await fs.createUpload(doc);
    return doc._id;
  }

  it('grants the lock to exactly one of 8 concurrent takers, every round', async function () {
    for (let round = 0; round < 10; round++) {
      const id = await upload();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => fs.lockUpload(id, 'alice', `taker-${i}`, 10_000)),
      );
      const winners = results.filter((r) => r.ok).length;
      assert.equal(winners, 1, `round ${round}: ${winners} takers hold the lock`);
      assert.deepEqual(
        results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.why)),
        Array(7).fill('locked'),
      );
    }
  });

  it('lets the next taker in after a release or once the lease ran out, and only the holder commit', async function () {
    const id = await upload();
    assert.ok((await fs.lockUpload(id, 'alice', 'a', 10_000)).ok);
    assert.equal(await fs.uploadLocked(id), true);
    assert.deepEqual(await fs.lockUpload(id, 'alice', 'b', 10_000), { ok: false, why: 'locked' });
    assert.equal(await fs.commitOffset(id, 'b', 10), false, 'a non-holder must not move the offset');
    assert.equal(await fs.commitOffset(id, 'a', 10), true);
    await fs.releaseLock(id, 'a');
    assert.equal(await fs.uploadLocked(id), false);
    const b = await fs.lockUpload(id, 'alice', 'b', 1);
    assert.ok(b.ok && b.upload.offset === 10, 'the next holder reads the committed offset');
    // b's 1 ms lease runs out without a release (a replica that died mid-PATCH).
    await waitFor('the 1 ms lease to run out', async () => !(await fs.uploadLocked(id)));
    const c = await fs.lockUpload(id, 'alice', 'c', 10_000);
    assert.ok(c.ok, 'an expired lease can be taken');
    assert.equal(await fs.renewLock(id, 'b', 10_000), false, 'the old holder learns it lost the lock');
    assert.equal(await fs.commitOffset(id, 'b', 20), false);
  });

  it('keeps one lock record per upload however many PATCHes took it', async function () {
    const id = await upload();
    for (let i = 0; i < 5; i++) {
      assert.ok((await fs.lockUpload(id, 'alice', `p${i}`, 10_000)).ok);
      await fs.releaseLock(id, `p${i}`);
    }
    const left = await mongo.db().collection('file_upload_locks').find({ upload: id }).toArray();
    assert.deepEqual(
      left.map((l) => [l.epoch, l.by]),
      [[5, 'p4']],
    );
  });

  it('purging an upload that already became a file keeps the file and its chunks', async function () {
    // A completion that died between its files insert and its upload delete: the
    // upload record is still there (and expires), but the chunks are the file's now.
    const id = await upload();
    const db = mongo.db();
    await db.collection('fs.files').insertOne({ _id: id as never, length: 3, chunkSize: 255 * 1024, metadata: {} });
    await db
      .collection('fs.chunks')
      .insertOne({ _id: `${id}-0` as never, files_id: id, n: 0, data: Buffer.from('abc') });
    await fs.purgeUpload(id);
    assert.equal(await fs.getUpload(id), null);
    assert.equal(await db.collection('fs.chunks').countDocuments({ files_id: id }), 1);
    assert.equal(await db.collection('fs.files').countDocuments({ _id: id as never }), 1);
  });

  it('answers not-found to another user and locked to a DELETE while a PATCH holds the lock', async function () {
    const id = await upload();
    assert.deepEqual(await fs.lockUpload(id, 'bob', 'x', 10_000), { ok: false, why: 'not-found' });
    assert.ok((await fs.lockUpload(id, 'alice', 'p', 10_000)).ok);
    assert.equal(await fs.terminateUpload(id, 'alice', 10_000), 'locked');
    assert.equal(await fs.terminateUpload(id, 'bob', 10_000), 'not-found');
    await fs.releaseLock(id, 'p');
    assert.equal(await fs.terminateUpload(id, 'alice', 10_000), 'removed');
    assert.equal(await fs.getUpload(id), null);
    assert.equal(await mongo.db().collection('file_upload_locks').countDocuments({ upload: id }), 0);
  });

  it("sweeps the lock records of uploads that are gone, and keeps a live upload's newest epoch", async function () {
    const db = mongo.db();
    const locks = db.collection('file_upload_locks');
    // A completion that died between the upload's delete and its locks' delete.
    const gone = await upload();
    assert.ok((await fs.lockUpload(gone, 'alice', 'p', 10_000)).ok);
    await fs.releaseLock(gone, 'p');
    await db.collection('file_uploads').deleteOne({ _id: gone as never });
    // A live upload whose lock lapsed long ago: its record is the epoch the next taker builds on.
    const live = await upload();
    for (const by of ['q1', 'q2']) {
      assert.ok((await fs.lockUpload(live, 'alice', by, 10_000)).ok);
      await fs.releaseLock(live, by);
    }
    // A gone upload whose lock is still held (lease not lapsed): left for now.
    const held = await upload();
    assert.ok((await fs.lockUpload(held, 'alice', 'h', 3_600_000)).ok);
    await db.collection('file_uploads').deleteOne({ _id: held as never });

    // Released locks have lapsed (until 0); the uploads themselves have not expired yet.
    const now = Date.now();
    const sweeper = new Sweeper(fs, { intervalMs: 60_000, staleMs: 60_000, logger: silentLogger });
    const swept = await sweeper.sweepOnce(now);
    assert.equal(swept.locks, 1);
    assert.equal(await locks.countDocuments({ upload: gone }), 0);
    assert.deepEqual(
      (await locks.find({ upload: live }).toArray()).map((l) => [l.epoch, l.by]),
      [[2, 'q2']],
    );
    assert.equal(await locks.countDocuments({ upload: held }), 1);
    // The live upload's lock still goes to exactly the next epoch.
    assert.ok((await fs.lockUpload(live, 'alice', 'q3', 10_000)).ok);
    assert.deepEqual(
      (await locks.find({ upload: live }).toArray()).map((l) => [l.epoch, l.by]),
      [[3, 'q3']],
    );
    assert.equal((await sweeper.sweepOnce(now)).locks, 0, 'nothing left to sweep');
  });
});
