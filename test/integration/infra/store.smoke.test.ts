// The store is a real MongoDB-wire server: GridFS round trip through the
// official driver, and a clear, quick failure once the server is gone.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { GridFSBucket, MongoClient } from 'mongodb';
import { startStore, type Store } from '../../support/index.js';

describe('store (FerretDB) smoke', function () {
  let store: Store;
  let client: MongoClient;

  before(async function () {
    store = await startStore();
    client = new MongoClient(store.url, { serverSelectionTimeoutMS: 2000 });
    await client.connect();
  });

  after(async function () {
    await client?.close();
    await store?.stop();
  });

  it('round-trips 5 MB of random data through GridFS with an equal sha256', async function () {
    const data = crypto.randomBytes(5 * 1024 * 1024);
    const bucket = new GridFSBucket(client.db(), { bucketName: 'smoke' });
    const upload = bucket.openUploadStream('random.bin', { chunkSizeBytes: 255 * 1024 });
    await new Promise<void>((resolve, reject) => {
      upload.once('finish', () => resolve());
      upload.once('error', reject);
      upload.end(data);
    });
    const hash = crypto.createHash('sha256');
    let size = 0;
    for await (const chunk of bucket.openDownloadStream(upload.id)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    assert.equal(size, data.length);
    assert.equal(hash.digest('hex'), crypto.createHash('sha256').update(data).digest('hex'));
  });

  it('fails with a network error, not a hang, when the store is stopped', async function () {
    const own = await startStore();
    const c = new MongoClient(own.url, { serverSelectionTimeoutMS: 1000 });
    try {
      await c.db().command({ ping: 1 });
      await own.stop();
      // Which of these the driver reports depends on whether it notices the
      // closed socket, the write into it (a raw EPIPE) or the refused
      // reconnect first; all are network errors.
      await assert.rejects(
        c.db().collection('x').insertOne({ a: 1 }),
        (err: NodeJS.ErrnoException) =>
          /^Mongo(Network|NetworkTimeout|ServerSelection)Error$/.test(err.name) ||
          ['EPIPE', 'ECONNRESET', 'ECONNREFUSED'].includes(err.code ?? ''),
      );
    } finally {
      await c.close();
    }
  });
});
