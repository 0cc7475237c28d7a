// The store is a real MongoDB-wire server: GridFS round trip through the
// official driver, and a clear, quick failure once the server is gone.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { GridFSBucket, MongoClient, ObjectId } from 'mongodb';
import { freePort, removeStoreData, startStore, type Store } from '../../support/index.js';
import { reachableDir } from '../../support/store.js';

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

  // Our FerretDB build pushes `$in` of strings and ObjectIDs down to PostgreSQL
  // (scripts/ferretdb/in-pushdown.patch, docs/adr/0003): the answers must stay
  // exactly MongoDB's, whatever the values' types and shapes.
  it('answers $in exactly, on _id and on other fields, for every value type', async function () {
    const col = client.db().collection<{ _id: unknown; k?: unknown; n: number }>('in_pushdown');
    const oids = Array.from({ length: 5 }, () => new ObjectId());
    const values: unknown[] = [
      'a',
      'b',
      'c',
      '',
      'ä',
      '1',
      1,
      2.5,
      true,
      null,
      oids[0],
      oids[1],
      ['a', 'z'],
      { x: 'a' },
    ];
    const docs = [
      ...Array.from({ length: 300 }, (_, i) => ({ _id: `s${i}`, k: values[i % values.length], n: i })),
      ...oids.map((o, i) => ({ _id: o, k: `s${i}`, n: 1000 + i })),
      { _id: 7, n: 2000 },
      { _id: 's-missing-k', n: 2001 },
    ];
    await col.insertMany(docs);
    const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
    const matches = (field: unknown, wanted: unknown[]): boolean =>
      wanted.some((w) => same(field, w) || (Array.isArray(field) && field.some((e) => same(e, w))));
    const cases: { field: '_id' | 'k'; in: unknown[] }[] = [
      { field: '_id', in: ['s1', 's17', 's299', 'nope'] },
      { field: '_id', in: [oids[2], oids[4], 's3'] },
      { field: '_id', in: ['s5', 7] }, // a number: not pushed down, still exact
      { field: '_id', in: [] },
      { field: '_id', in: ['s2', 'b\u0000'] }, // NUL: PostgreSQL's jsonb cannot hold it, not pushed down
      { field: 'k', in: ['a'] }, // also matches the array ['a', 'z']
      { field: 'k', in: ['z', 'ä', ''] },
      { field: 'k', in: [oids[0], 'c'] },
      { field: 'k', in: ['s0', 's4'] },
      { field: 'k', in: [null] }, // matches missing fields too: not pushed down
      { field: 'k', in: Array.from({ length: 1200 }, (_, i) => `s${i}`) }, // over the pushdown bound
    ];
    for (const c of cases) {
      const got = (await col.find({ [c.field]: { $in: c.in } }).toArray()).map((d) => d.n).sort((a, b) => a - b);
      const want = docs
        .filter((d) => {
          const v = (d as Record<string, unknown>)[c.field];
          if (c.in.some((w) => w === null) && v === undefined) return true;
          return v !== undefined && matches(v, c.in);
        })
        .map((d) => d.n)
        .sort((a, b) => a - b);
      assert.deepEqual(got, want, `${c.field} $in ${JSON.stringify(c.in).slice(0, 80)}`);
    }
  });

  it('reads by _id see the write committed just before', async function () {
    const col = client.db().collection<{ _id: string; v: number }>('read_after_write');
    await col.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: `d${i}`, v: 0 })));
    for (let round = 1; round <= 20; round++) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          await col.updateOne({ _id: `d${i}` }, { $set: { v: round } });
          assert.equal((await col.findOne({ _id: `d${i}` }))?.v, round, `d${i} after round ${round}`);
        }),
      );
    }
  });

  // Run as root, a store's PostgreSQL cluster lives outside its data directory
  // (test/support/store.ts): removing the directory must still mean a fresh store.
  it('starts empty at the path of a removed data directory, and keeps data of one it reuses', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-store-reuse-'));
    const put = async (url: string): Promise<void> => {
      const c = new MongoClient(url);
      try {
        await c
          .db()
          .collection('kept')
          .insertOne({ _id: 'x' } as never);
      } finally {
        await c.close();
      }
    };
    const count = async (url: string): Promise<number> => {
      const c = new MongoClient(url);
      try {
        return await c.db().collection('kept').countDocuments();
      } finally {
        await c.close();
      }
    };
    try {
      let s = await startStore({ dataDir: dir });
      await put(s.url);
      await s.stop();
      s = await startStore({ dataDir: dir });
      assert.equal(await count(s.url), 1, 'a restarted store keeps its data');
      await s.stop();
      fs.rmSync(dir, { recursive: true, force: true });
      s = await startStore({ dataDir: dir });
      assert.equal(await count(s.url), 0, 'a store at a removed directory starts empty');
      await s.stop();
    } finally {
      removeStoreData(dir);
    }
  });

  it('keeps its clusters only in directories of its own: links, files and foreign directories are refused', function () {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reachable-'));
    try {
      const fresh = path.join(tmp, 'a', 'b');
      reachableDir(fresh);
      assert.equal(fs.statSync(fresh).mode & 0o777, 0o755);
      const elsewhere = fs.mkdtempSync(path.join(tmp, 'elsewhere-'));
      fs.chmodSync(elsewhere, 0o700);
      fs.symlinkSync(elsewhere, path.join(tmp, 'link'));
      assert.throws(() => reachableDir(path.join(tmp, 'link')), /is a symbolic link, not a directory of uid/);
      assert.equal(fs.statSync(elsewhere).mode & 0o777, 0o700, 'not chmod-ed through the link');
      fs.writeFileSync(path.join(tmp, 'file'), '');
      assert.throws(() => reachableDir(path.join(tmp, 'file')), /is not a directory/);
      if (process.getuid?.() === 0) {
        const foreign = path.join(tmp, 'foreign');
        fs.mkdirSync(foreign);
        fs.chownSync(foreign, 65534, 65534);
        assert.throws(() => reachableDir(foreign), /is owned by uid 65534, not a directory of uid 0/);
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('moves to another port when a port picked free is taken before its server binds it', async function () {
    this.timeout(120_000);
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    const picks: number[] = [];
    // PostgreSQL's first pick and FerretDB's first pick are the taken port.
    const pickPort = async (): Promise<number> => {
      const p = picks.length % 2 === 0 ? taken : await freePort();
      picks.push(p);
      return p;
    };
    let s: Store | undefined;
    try {
      s = await startStore({ pickPort });
      assert.equal(picks.length, 4);
      assert.deepEqual([picks[0], picks[2]], [taken, taken]);
      assert.equal(s.port, picks[3]);
      const c = await new MongoClient(s.url, { serverSelectionTimeoutMS: 2000 }).connect();
      try {
        await c
          .db()
          .collection('t')
          .insertOne({ _id: 'x' as never });
        assert.equal(await c.db().collection('t').countDocuments({}), 1);
      } finally {
        await c.close();
      }
    } finally {
      await s?.stop();
      blocker.close();
    }
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
