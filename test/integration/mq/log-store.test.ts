// The durable log against a real store: group-committed batches and
// checkpoints survive into recovery; a sealed collection whose messages are all
// finished is dropped (acked messages leave the store); a mostly finished one has
// its live messages copied forward, then is dropped.
import assert from 'node:assert/strict';
import { MongoClient, type Db } from 'mongodb';
import { Message } from '../../../proto/gen/ts/mq.js';
import type { Entry } from '../../../services/mq/src/message-log.js';
import type { Checkpoint, Queue } from '../../../services/mq/src/queue.js';
import { LogStore } from '../../../services/mq/src/store/log-store.js';
import { silentLogger } from '../../../services/runtime/src/index.js';
import { startStore, waitFor, type Store } from '../../support/index.js';

const queue = { uid: 'uid-1' } as Queue;
const entry = (seq: number): Entry => ({
  seq,
  bytes: Message.encode(
    Message.fromPartial({ payload: Buffer.from(`m${seq}`), id: `id${seq}`, timestamp: 1 }),
  ).finish(),
  id: `id${seq}`,
  need: 1,
  eph: 0,
  col: -1,
});
const cp = (acked: number): Checkpoint => ({
  acked,
  next: [1000],
  idle: false,
  cur: [{ g: '', parts: [{ f: 1, d: [[2, 3]], n: 5, c: [[4, 2]] }] }],
});

describe('EasyMQ durable log (store)', function () {
  let store: Store;
  let client: MongoClient;
  let db: Db;
  const logs = async (): Promise<string[]> =>
    (await db.listCollections({}, { nameOnly: true }).toArray())
      .map((c) => c.name)
      .filter((n) => n.startsWith('mq_log_'))
      .sort();

  before(async function () {
    store = await startStore();
    client = new MongoClient(store.url);
    db = client.db();
  });

  after(async function () {
    await client?.close();
    await store?.stop();
  });

  it('recovers batches and the latest checkpoint; drops collections whose messages are finished', async function () {
    const ls = new LogStore(db, { epoch: 1, logger: silentLogger, rotateMs: 50 });
    let all: Entry[] = [];
    ls.snapshot = () => [{ uid: 'uid-1', cp: cp(all.filter((e) => e.need === 0).length) }];
    ls.entriesIn = (col) =>
      [{ queue, p: 0, entries: all.filter((e) => e.col === col && e.need > 0) }].filter((g) => g.entries.length);
    all = Array.from({ length: 10 }, (_, i) => entry(i + 1));
    await ls.write(queue, 0, all.slice(0, 5));
    await ls.write(queue, 0, all.slice(5));
    ls.checkpoint('uid-1', cp(0));
    assert.ok(all.every((e) => e.col >= 0));
    const first = await logs();
    // One collection, or two when the first insert outlasted rotateMs on a busy store.
    assert.ok(first.length >= 1 && first.length <= 2, `log collections: ${first.join(', ')}`);

    const again = new LogStore(db, { epoch: 2, logger: silentLogger });
    const rec = await again.recover();
    assert.deepEqual(
      rec.stored.get('uid-1')![0]!.map((e) => [e.seq, e.id]),
      all.map((e) => [e.seq, e.id]),
    );
    assert.deepEqual(rec.checkpoints.get('uid-1')!.cur[0]!.parts[0]!.c, [[4, 2]]);

    // All acked: after the next rotation the sealed collections are dropped.
    for (const e of all) {
      e.need = 0;
      ls.release(e.col);
    }
    await waitFor('the finished collection to be dropped', async () => {
      ls.maintain();
      const now = await logs();
      return first.every((n) => !now.includes(n)) && now.length >= 1;
    });
    await ls.stop();
  });

  it('copies the few live messages of a sealed collection forward, then drops it', async function () {
    for (const n of await logs()) await db.collection(n).drop();
    const ls = new LogStore(db, { epoch: 3, logger: silentLogger, rotateMs: 50, compactRatio: 0.25 });
    const all = Array.from({ length: 100 }, (_, i) => entry(i + 1));
    ls.entriesIn = (col) =>
      [{ queue, p: 0, entries: all.filter((e) => e.col === col && e.need > 0) }].filter((g) => g.entries.length);
    await ls.write(queue, 0, all);
    const sealed = all[0]!.col;
    const name = (await logs())[0]!;
    // 90 of 100 finished: 10% live ≤ 25% → copied forward.
    for (const e of all.slice(0, 90)) {
      e.need = 0;
      ls.release(e.col);
    }
    await waitFor('the collection to be compacted away', async () => {
      ls.maintain();
      return !(await logs()).includes(name);
    });
    assert.ok(all.slice(90).every((e) => e.col !== sealed && e.col >= 0));
    await ls.stop();
    const rec = await new LogStore(db, { epoch: 4, logger: silentLogger }).recover();
    assert.deepEqual(
      rec.stored.get('uid-1')![0]!.map((e) => e.seq),
      all.slice(90).map((e) => e.seq),
    );
  });
});
