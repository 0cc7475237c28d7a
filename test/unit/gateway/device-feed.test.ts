// Delivery to one device: order, window, acks and the persisted cursor, holes
// (waited for, then skipped), offers out of order, resume and retention resets.
import assert from 'node:assert/strict';
import type { Message } from '../../../proto/gen/ts/messaging.js';
import { silentLogger } from '../../../services/runtime/src/logger.js';
import type { InboxDoc } from '../../../services/gateway/src/message-store.js';
import { DeviceFeed, MAX_BATCH_CHARS, toMessage, type FeedDeps } from '../../../services/gateway/src/device-feed.js';
import { waitFor } from '../../support/wait.js';
import { FakeStore, doc } from './fake-store.js';

interface Harness {
  store: FakeStore;
  feed: DeviceFeed;
  pushed: Message[];
  /** The seq numbers of each push call (one call may carry several: onMessages). */
  calls: number[][];
  /** The doc arrays the feed pushed, as given. */
  arrays: (readonly InboxDoc[])[];
  /** Pending pushes the test acks by hand when autoAck is off. */
  pending: { msgs: Message[]; ack(): void; fail(e: Error): void }[];
  resets: number[];
  failures: unknown[];
  delivered: number[];
}

function harness(
  opts: {
    cursor?: number;
    window?: number;
    maxBatch?: number;
    gapTimeoutMs?: number;
    autoAck?: boolean;
    store?: FakeStore;
  } = {},
): Harness {
  const store = opts.store ?? new FakeStore();
  const h: Harness = {
    store,
    feed: undefined as never,
    pushed: [],
    calls: [],
    arrays: [],
    pending: [],
    resets: [],
    failures: [],
    delivered: [],
  };
  const deps: FeedDeps = {
    store: store.asStore(),
    logger: silentLogger,
    window: opts.window ?? 4,
    maxBatch: opts.maxBatch,
    gapTimeoutMs: opts.gapTimeoutMs ?? 60_000,
    push: (docs) => {
      const msgs = docs.map(toMessage);
      h.pushed.push(...msgs);
      h.calls.push(docs.map((d) => d.seq));
      h.arrays.push(docs);
      if (opts.autoAck !== false) return Promise.resolve();
      return new Promise<void>((resolve, reject) => h.pending.push({ msgs, ack: resolve, fail: reject }));
    },
    reset: async (first) => void h.resets.push(first),
    delivered: (d) => h.delivered.push(d.seq),
    failed: (e) => h.failures.push(e),
  };
  h.feed = new DeviceFeed('bob', 'phone', opts.cursor ?? 0, deps);
  return h;
}

const seqs = (h: Harness): number[] => h.pushed.map((m) => m.seq);

/** A harness whose feed has started and finished its first read (an empty store): offers push at once. */
async function started(opts: Parameters<typeof harness>[0] = {}): Promise<Harness> {
  const h = harness(opts);
  h.feed.start();
  await waitFor('the first read', () => h.store.reads > 0);
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  return h;
}

describe('device feed', function () {
  it('catches up from the cursor in order and persists the cursor', async function () {
    const store = new FakeStore();
    for (let s = 1; s <= 40; s++) store.put(doc('bob', s));
    await store.raiseCounter('bob', 40);
    const h = harness({ cursor: 5, store });
    h.feed.start();
    await waitFor('all pushed', () => h.pushed.length === 35);
    assert.deepEqual(
      seqs(h),
      Array.from({ length: 35 }, (_, i) => i + 6),
    );
    await waitFor('cursor persisted', async () => (await store.getCursor('bob', 'phone')) === 40);
    assert.deepEqual(h.delivered, seqs(h));
  });

  it('keeps at most `window` pushes in flight and advances over the acked prefix only', async function () {
    const store = new FakeStore();
    for (let s = 1; s <= 10; s++) store.put(doc('bob', s));
    await store.raiseCounter('bob', 10);
    const h = harness({ store, window: 3, autoAck: false });
    h.feed.start();
    await waitFor('three in flight', () => h.pending.length === 3);
    assert.equal(h.feed.inFlight, 3);
    h.pending[1]!.ack(); // 2 acked before 1: the cursor must not move
    await new Promise((r) => setImmediate(r));
    assert.equal(h.feed.acked, 0);
    h.pending[0]!.ack();
    await waitFor('acked up to 2', () => h.feed.acked === 2);
    await waitFor('two more pushed', () => h.pending.length === 5);
    assert.deepEqual(seqs(h), [1, 2, 3, 4, 5]);
  });

  it('pushes nothing before it has started, then reads what was offered from the store', async function () {
    const store = new FakeStore();
    const h = harness({ store, window: 8, maxBatch: 8 });
    for (let s = 1; s <= 3; s++) store.put(doc('bob', s));
    await store.raiseCounter('bob', 3);
    h.feed.offer(doc('bob', 1));
    h.feed.offerMany([doc('bob', 2), doc('bob', 3)]);
    h.feed.recheck();
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.calls, [], 'the gateway answers authenticate before the first push');
    assert.equal(store.reads, 0);
    h.feed.start();
    await waitFor('all three pushed', () => h.pushed.length === 3);
    assert.deepEqual(seqs(h), [1, 2, 3]);
  });

  it('pushes offered messages directly and reads the store for what it missed', async function () {
    const store = new FakeStore();
    const h = harness({ store });
    h.feed.start();
    await waitFor('the first read', () => store.reads > 0);
    const before = store.reads;
    store.put(doc('bob', 1));
    h.feed.offer(doc('bob', 1));
    await waitFor('1 pushed', () => h.pushed.length === 1);
    assert.equal(store.reads, before, 'a contiguous offer costs no read');
    // 2 was stored but its notice lost; 3 arrives: the feed reads 2 from the store.
    store.put(doc('bob', 2));
    store.put(doc('bob', 3));
    await store.raiseCounter('bob', 3);
    h.feed.offer(doc('bob', 3));
    await waitFor('2 and 3 pushed', () => h.pushed.length === 3);
    assert.deepEqual(seqs(h), [1, 2, 3]);
    h.feed.offer(doc('bob', 2)); // late duplicate notice: ignored
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(seqs(h), [1, 2, 3]);
  });

  it('waits for a hole, then skips it with a tombstone', async function () {
    const store = new FakeStore();
    store.put(doc('bob', 1));
    store.put(doc('bob', 3));
    await store.raiseCounter('bob', 3);
    const h = harness({ store, gapTimeoutMs: 150 });
    h.feed.start();
    await waitFor('1 pushed', () => h.pushed.length === 1);
    await waitFor('3 pushed after the hole was skipped', () => h.pushed.length === 2, { timeoutMs: 5000 });
    assert.deepEqual(seqs(h), [1, 3]);
    assert.equal(store.inbox.get('bob\n2')?.tomb, true);
    await waitFor('cursor over the skipped number', () => h.feed.acked === 3);
  });

  it('delivers a late write that fills the hole in time, in order', async function () {
    const store = new FakeStore();
    store.put(doc('bob', 1));
    store.put(doc('bob', 3));
    await store.raiseCounter('bob', 3);
    const h = harness({ store, gapTimeoutMs: 10_000 });
    h.feed.start();
    await waitFor('1 pushed', () => h.pushed.length === 1);
    store.put(doc('bob', 2));
    h.feed.offer(doc('bob', 2));
    await waitFor('2 and 3 pushed', () => h.pushed.length === 3);
    assert.deepEqual(seqs(h), [1, 2, 3]);
    assert.equal(store.inbox.get('bob\n2')?.tomb, undefined);
  });

  it('finds messages past a lagging hint', async function () {
    const store = new FakeStore();
    for (let s = 1; s <= 3; s++) store.put(doc('bob', s));
    await store.raiseCounter('bob', 1); // a lost hint update
    const h = harness({ store });
    h.feed.start();
    await waitFor('all three', () => h.pushed.length === 3);
  });

  it('resume redelivers after the given sequence number', async function () {
    const store = new FakeStore();
    for (let s = 1; s <= 5; s++) store.put(doc('bob', s));
    await store.raiseCounter('bob', 5);
    const h = harness({ store });
    h.feed.start();
    await waitFor('5 pushed', () => h.pushed.length === 5);
    h.feed.resume(2);
    await waitFor('3..5 again', () => h.pushed.length === 8);
    assert.deepEqual(seqs(h), [1, 2, 3, 4, 5, 3, 4, 5]);
  });

  it('tells the device to reset when retention deleted what it had not seen', async function () {
    const store = new FakeStore();
    for (let s = 11; s <= 12; s++) store.put(doc('bob', s));
    await store.raiseCounter('bob', 12);
    await store.raiseTrimmed('bob', 10);
    const h = harness({ store, cursor: 3 });
    h.feed.start();
    await waitFor('11 and 12 pushed', () => h.pushed.length === 2);
    assert.deepEqual(h.resets, [11]);
    assert.deepEqual(seqs(h), [11, 12]);
  });

  it('reports a failed push (the caller closes the connection)', async function () {
    const store = new FakeStore();
    store.put(doc('bob', 1));
    await store.raiseCounter('bob', 1);
    const h = harness({ store, autoAck: false });
    h.feed.start();
    await waitFor('pushed', () => h.pending.length === 1);
    h.pending[0]!.fail(new Error('timeout'));
    await waitFor('failure reported', () => h.failures.length === 1);
    assert.equal(h.feed.acked, 0);
  });

  describe('batches (a device that takes onMessages)', function () {
    const docs = (from: number, to: number): InboxDoc[] =>
      Array.from({ length: to - from + 1 }, (_, i) => doc('bob', from + i));

    it('pushes one notice of consecutive messages as one call of the array it was given', async function () {
      const h = await started({ window: 8, maxBatch: 8, autoAck: false });
      const batch = docs(1, 5);
      h.feed.offerMany(batch);
      assert.deepEqual(h.calls, [[1, 2, 3, 4, 5]]);
      assert.equal(h.arrays[0], batch, 'the offered array itself, so a group fan-out encodes it once');
      assert.equal(h.feed.inFlight, 5);
      h.pending[0]!.ack();
      await waitFor('all five acked', () => h.feed.acked === 5);
      assert.deepEqual(h.delivered, [1, 2, 3, 4, 5]);
    });

    it('never puts more than the window in flight: the rest goes in the next call', async function () {
      const h = await started({ window: 4, maxBatch: 4, autoAck: false });
      h.feed.offerMany(docs(1, 10));
      assert.deepEqual(h.calls, [[1, 2, 3, 4]]);
      h.pending[0]!.ack();
      await waitFor('the next four', () => h.calls.length === 2);
      assert.deepEqual(h.calls[1], [5, 6, 7, 8]);
      h.pending[1]!.ack();
      await waitFor('the last two', () => h.calls.length === 3);
      assert.deepEqual(h.calls[2], [9, 10]);
      h.pending[2]!.ack();
      await waitFor('all acked', () => h.feed.acked === 10);
    });

    it('sends one message per call to a device that did not ask for batches', async function () {
      const h = await started({ window: 8 });
      h.feed.offerMany(docs(1, 3));
      await waitFor('three pushed', () => h.pushed.length === 3);
      assert.deepEqual(h.calls, [[1], [2], [3]]);
    });

    it('batches what it catches up on from the store', async function () {
      const store = new FakeStore();
      for (let s = 1; s <= 20; s++) store.put(doc('bob', s));
      await store.raiseCounter('bob', 20);
      const h = harness({ store, window: 8, maxBatch: 8 });
      h.feed.start();
      await waitFor('all pushed', () => h.pushed.length === 20);
      assert.deepEqual(
        seqs(h),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      assert.ok(h.calls.length < 20, `batched: ${JSON.stringify(h.calls)}`);
      assert.ok(h.calls.every((c) => c.length <= 8));
      await waitFor('cursor persisted', async () => (await store.getCursor('bob', 'phone')) === 20);
    });

    it('splits a batch whose MimeText would pass MAX_BATCH_CHARS; a bigger single message goes alone', async function () {
      const h = await started({ window: 8, maxBatch: 8, autoAck: false });
      const big = (seq: number, bytes: number): InboxDoc => ({ ...doc('bob', seq), mime: 'x'.repeat(bytes) });
      h.feed.offerMany([
        big(1, MAX_BATCH_CHARS / 2),
        big(2, MAX_BATCH_CHARS / 2),
        big(3, 10),
        big(4, MAX_BATCH_CHARS + 1),
        big(5, 10),
      ]);
      assert.deepEqual(h.calls, [[1, 2], [3], [4], [5]]);
    });

    it('skips tombstones inside a batch without sending them', async function () {
      const h = await started({ window: 8, maxBatch: 8 });
      const batch = docs(1, 4);
      batch[1] = { ...batch[1]!, tomb: true };
      h.feed.offerMany(batch);
      assert.deepEqual(h.calls, [[1, 3, 4]]);
      await waitFor('cursor over all four', () => h.feed.acked === 4);
      assert.deepEqual(h.delivered, [1, 3, 4]);
    });

    it('buffers a notice that does not start at the next number and sends it after the gap is filled', async function () {
      const h = await started({ window: 8, maxBatch: 8, autoAck: false });
      h.feed.offerMany(docs(3, 5));
      assert.deepEqual(h.calls, []);
      h.feed.offerMany(docs(1, 2));
      assert.deepEqual(h.calls, [[1, 2, 3, 4, 5]]);
    });

    it('a failed batch is reported once and acks none of it', async function () {
      const h = await started({ window: 8, maxBatch: 8, autoAck: false });
      h.feed.offerMany(docs(1, 3));
      h.pending[0]!.fail(new Error('timeout'));
      await waitFor('failure reported', () => h.failures.length === 1);
      assert.equal(h.feed.acked, 0);
      assert.deepEqual(h.delivered, []);
    });
  });
});
