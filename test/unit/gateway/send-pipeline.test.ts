// Storing sends: sequence numbers after the hint, conflicts with another
// writer (requeued, no holes), idempotency by client message id (declared
// retries, undeclared ones, racing copies), batching.
import assert from 'node:assert/strict';
import { silentLogger } from '../../../services/runtime/src/logger.js';
import { PlatformError } from '../../../services/runtime/src/errors.js';
import type { InboxDoc } from '../../../services/gateway/src/message-store.js';
import { SendPipeline, type SendRequest } from '../../../services/gateway/src/send-pipeline.js';
import { messageId } from '../../../services/gateway/src/message-store.js';
import { FakeStore } from './fake-store.js';

const req = (over: Partial<SendRequest> = {}): SendRequest => ({
  from: 'alice',
  to: 'bob',
  mime: '[{"type":"text","text":"x"}]',
  cmid: '',
  retry: false,
  ...over,
});

function pipeline(store: FakeStore, batches: number[] = [], stored: InboxDoc[] = []): SendPipeline {
  return new SendPipeline({
    store: store.asStore(),
    logger: silentLogger,
    onStored: (d) => stored.push(...d),
    onBatch: (n) => batches.push(n),
  });
}

describe('send pipeline', function () {
  it('numbers messages per recipient after the hint, in submission order', async function () {
    const store = new FakeStore();
    await store.raiseCounter('bob', 7);
    const stored: InboxDoc[] = [];
    const p = pipeline(store, [], stored);
    const rs = await Promise.all([req(), req({ to: 'carol' }), req(), req()].map((r) => p.submit(r)));
    assert.deepEqual(
      rs.map((r) => r.seq),
      [8, 1, 9, 10],
    );
    assert.deepEqual(stored.map((d) => `${d.to}:${d.seq}`).sort(), ['bob:10', 'bob:8', 'bob:9', 'carol:1']);
    // The stored hint moves only when it enters the next block of numbers.
    assert.equal((await store.getCounter('bob')).seq, 7);
    await Promise.all(Array.from({ length: 8 }, () => p.submit(req())));
    await p.drained();
    assert.equal((await store.getCounter('bob')).seq, 18);
  });

  it('tries the insert first only for a counter document that is probably missing', async function () {
    const store = new FakeStore();
    await store.raiseCounter('carol', 40); // written by another gateway
    store.hintWrites.length = 0;
    const p = pipeline(store);
    for (let i = 0; i < 40; i++) await p.submit(req());
    for (let i = 0; i < 10; i++) await p.submit(req({ to: 'carol' }));
    await p.drained();
    assert.deepEqual(store.hintWrites, [
      { to: 'bob', seq: 16, fresh: true },
      { to: 'bob', seq: 32, fresh: false },
      { to: 'carol', seq: 48, fresh: false },
    ]);
  });

  it('tries the insert first until a hint write has finished, even when several are under way', async function () {
    const store = new FakeStore();
    let open!: () => void;
    store.hintGate = new Promise<void>((r) => (open = r));
    const p = pipeline(store);
    for (let i = 0; i < 40; i++) await p.submit(req()); // blocks 1 and 2 while the first write waits
    open();
    await p.drained();
    assert.ok(store.hintWrites.length > 0 && store.hintWrites.every((w) => w.fresh), JSON.stringify(store.hintWrites));
    assert.equal(Math.max(...store.hintWrites.map((w) => w.seq)), 32);
    // Once one has finished, the next goes straight to the update.
    for (let i = 0; i < 16; i++) await p.submit(req());
    await p.drained();
    assert.deepEqual(store.hintWrites.at(-1), { to: 'bob', seq: 48, fresh: false });
  });

  it('batches what arrives while a batch is being written', async function () {
    const store = new FakeStore();
    const batches: number[] = [];
    const p = pipeline(store, batches);
    await Promise.all(Array.from({ length: 50 }, (_, i) => p.submit(req({ cmid: `c${i}` }))));
    assert.ok(batches.length < 50, `batches: ${batches.join(',')}`);
    assert.equal(
      batches.reduce((a, b) => a + b, 0),
      50,
    );
  });

  it('moves past numbers another gateway took, leaving no holes', async function () {
    const store = new FakeStore();
    const p = pipeline(store);
    await p.submit(req()); // hint for bob: 1
    // Meanwhile another gateway wrote 2 and 3.
    store.put({ to: 'bob', seq: 2, from: 'x', mime: '', cmid: '', msgId: 'o2', sentAt: 1 });
    store.put({ to: 'bob', seq: 3, from: 'x', mime: '', cmid: '', msgId: 'o3', sentAt: 1 });
    const r = await p.submit(req());
    assert.equal(r.seq, 4);
    assert.deepEqual([...store.inbox.keys()].sort(), ['bob\n1', 'bob\n2', 'bob\n3', 'bob\n4']);
  });

  it('answers a retried send from the first copy', async function () {
    const store = new FakeStore();
    const p = pipeline(store);
    const first = await p.submit(req({ cmid: 'k1' }));
    const declared = await p.submit(req({ cmid: 'k1', retry: true }));
    assert.deepEqual(declared, { ...first, duplicate: true });
    assert.equal(store.inbox.size, 1, 'a declared retry stores nothing');
    const undeclared = await p.submit(req({ cmid: 'k1' }));
    assert.deepEqual(undeclared, { ...first, duplicate: true });
    const live = [...store.inbox.values()].filter((d) => !d.tomb);
    assert.equal(live.length, 1, 'an undeclared retry’s copy is withdrawn');
  });

  it('answers a declared retry from a stored copy whose idempotency record was never written', async function () {
    const store = new FakeStore();
    const stored: InboxDoc[] = [];
    const p = pipeline(store, [], stored);
    for (let i = 0; i < 40; i++) await p.submit(req({ cmid: `old${i}` }));
    store.failDedup = 1;
    await assert.rejects(p.submit(req({ cmid: 'x' })), (e: PlatformError) => e.code === 'UNAVAILABLE');
    assert.equal(store.inbox.get('bob\n41')!.cmid, 'x'); // stored, but no record
    for (let i = 0; i < 5; i++) await p.submit(req({ cmid: `new${i}` }));
    // A fresh process (nothing cached) gets the retry.
    const pushed: InboxDoc[] = [];
    const r = await pipeline(store, [], pushed).submit(req({ cmid: 'x', retry: true }));
    assert.deepEqual([r.seq, r.duplicate, r.msg_id], [41, true, store.inbox.get('bob\n41')!.msgId]);
    assert.equal([...store.inbox.values()].filter((d) => d.cmid === 'x').length, 1);
    assert.equal(store.dedup.get('alice\nx')!.seq, 41);
    assert.deepEqual(
      pushed.map((d) => d.seq),
      [41],
    );
    // A gateway whose own hint is far behind: another one wrote 300 messages, then a
    // copy whose record is missing. The retry still finds it (the end is probed).
    const behind = new FakeStore();
    const g1 = pipeline(behind);
    await g1.submit(req({ cmid: 'first' }));
    for (let seq = 2; seq <= 301; seq++)
      behind.put({ to: 'bob', seq, from: 'carol', mime: '[]', cmid: '', msgId: `m${seq}`, sentAt: 1 });
    const lost = { to: 'bob', seq: 302, from: 'alice', mime: '[]', cmid: 'y', msgId: messageId('alice', 'y') };
    behind.put({ ...lost, sentAt: 1 });
    const again = await g1.submit(req({ cmid: 'y', retry: true }));
    assert.deepEqual([again.seq, again.duplicate], [302, true]);
    assert.equal([...behind.inbox.values()].filter((d) => d.cmid === 'y').length, 1);
    // A declared retry of a send that was never stored is stored.
    const fresh = await p.submit(req({ cmid: 'never-seen', retry: true }));
    assert.deepEqual([fresh.seq, fresh.duplicate], [47, false]);
  });

  it('stores racing copies of one send once', async function () {
    const store = new FakeStore();
    const stored: InboxDoc[] = [];
    const p = pipeline(store, [], stored);
    const rs = await Promise.all([1, 2, 3].map(() => p.submit(req({ cmid: 'race' }))));
    assert.equal(new Set(rs.map((r) => `${r.msg_id}:${r.seq}`)).size, 1);
    assert.deepEqual(rs.map((r) => r.duplicate).sort(), [false, true, true]);
    assert.equal(stored.length, 1);
  });

  it('refuses a client message id reused for another recipient', async function () {
    const store = new FakeStore();
    const p = pipeline(store);
    await p.submit(req({ cmid: 'k9' }));
    await assert.rejects(p.submit(req({ cmid: 'k9', to: 'dave', retry: true })), (e: PlatformError) => {
      assert.deepEqual(
        [e.code, e.message],
        ['ALREADY_EXISTS', "client_msg_id 'k9' was already used for a message to another user"],
      );
      return true;
    });
  });

  it('refuses a client message id reused for another recipient within the same batch', async function () {
    const store = new FakeStore();
    const stored: InboxDoc[] = [];
    const batches: number[] = [];
    const p = pipeline(store, batches, stored);
    // The first send is written alone; the two that follow wait and go in one batch.
    const [, first, other] = await Promise.allSettled([
      p.submit(req({ cmid: 'k0' })),
      p.submit(req({ cmid: 'k7' })),
      p.submit(req({ cmid: 'k7', to: 'dave' })),
    ]);
    assert.deepEqual(batches, [1, 1]);
    assert.equal(first.status, 'fulfilled');
    assert.equal(other.status, 'rejected');
    const e = (other as PromiseRejectedResult).reason as PlatformError;
    assert.deepEqual(
      [e.code, e.message],
      ['ALREADY_EXISTS', "client_msg_id 'k7' was already used for a message to another user"],
    );
    assert.deepEqual(
      stored.map((d) => `${d.to}:${d.cmid}`),
      ['bob:k0', 'bob:k7'],
    );
  });

  it('derives the message id from (sender, client id) so stored copies share it', async function () {
    const store = new FakeStore();
    const a = await pipeline(store).submit(req({ cmid: 'same' }));
    const b = await pipeline(new FakeStore()).submit(req({ cmid: 'same' }));
    assert.equal(a.msg_id, b.msg_id);
    const c = await pipeline(new FakeStore()).submit(req({ cmid: 'same', from: 'other' }));
    assert.notEqual(a.msg_id, c.msg_id);
  });
});
