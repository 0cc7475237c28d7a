// The queue's decisions without I/O: dispatch under credit, ack timeouts with
// delivery counts, dead-lettering, checkpoint → restore, and the group
// hand-over (revoke, confirm, assign). Consumers write to in-memory sinks.
import assert from 'node:assert/strict';
import { Message, SubscribeEvent } from '../../../proto/gen/ts/mq.js';
import { Consumer, type EventSink } from '../../../services/mq/src/consumer.js';
import { Queue, type RawMessage } from '../../../services/mq/src/queue.js';
import { normalizeSpec } from '../../../services/mq/src/queue-spec.js';

class Sink implements EventSink {
  frames: SubscribeEvent[] = [];
  ended: unknown = null;
  write(f: Uint8Array): boolean {
    this.frames.push(SubscribeEvent.decode(f));
    return true;
  }
  onDrain(): void {}
  end(err?: unknown): void {
    this.ended = err ?? 'ok';
  }
  deliveries(): { p: number; seq: number; n: number; body: string }[] {
    return this.frames.flatMap((f) =>
      f.deliveries.map((d) => ({ p: d.partition, seq: d.seq, n: d.delivery_count, body: d.msg!.payload.toString() })),
    );
  }
}

const raw = (body: string, key = ''): RawMessage => ({
  bytes: Message.encode(Message.fromPartial({ payload: Buffer.from(body), key, timestamp: 1 })).finish(),
  id: '',
  key,
});

function consumer(q: Queue, group = '', credit = 100): { c: Consumer; sink: Sink } {
  const sink = new Sink();
  const c = new Consumer({
    id: `c${Math.random()}`,
    queue: q.spec.name,
    group,
    credit,
    partitions: q.spec.partitions,
    metadata: {},
    sink,
  });
  q.attach(c);
  return { c, sink };
}

function flush(...cs: Consumer[]): void {
  for (const c of cs) c.flush();
}

describe('mq queue logic', function () {
  const dead: RawMessage[] = [];
  const hooks = {
    writer: undefined,
    dedupeWindowMs: 60_000,
    deadLetter: (_q: Queue, m: RawMessage) => (dead.push(m), true),
  };

  beforeEach(() => {
    dead.length = 0;
  });

  it('delivers up to the credit, then more as acks come back', async function () {
    const q = new Queue(normalizeSpec({ name: 'q' }, 4096), 'u1', hooks);
    const { c, sink } = consumer(q, '', 3);
    await q.publish(['a', 'b', 'c', 'd', 'e'].map((b) => raw(b)));
    q.pump();
    flush(c);
    assert.deepEqual(
      sink.deliveries().map((d) => d.body),
      ['a', 'b', 'c'],
    );
    assert.equal(q.inFlight(), 3);
    assert.equal(q.depth(), 2);
    q.settle(c, 0, 1, 2, 'ack');
    q.pump();
    flush(c);
    assert.deepEqual(
      sink.deliveries().map((d) => d.body),
      ['a', 'b', 'c', 'd', 'e'],
    );
  });

  it('redelivers after the ack timeout with a higher count, then dead-letters at max deliveries', async function () {
    const q = new Queue(normalizeSpec({ name: 'q', ack_timeout_ms: 1000, max_deliveries: 2 }, 4096), 'u1', hooks);
    const { c, sink } = consumer(q);
    await q.publish([raw('x')]);
    const t0 = Date.now();
    q.pump(t0);
    q.tick(t0 + 999);
    q.pump(t0 + 999);
    flush(c);
    assert.deepEqual(
      sink.deliveries().map((d) => d.n),
      [1],
    );
    q.tick(t0 + 1000);
    q.pump(t0 + 1000);
    flush(c);
    assert.deepEqual(
      sink.deliveries().map((d) => d.n),
      [1, 2],
    );
    q.tick(t0 + 2000);
    assert.equal(dead.length, 1);
    const m = Message.decode(dead[0]!.bytes);
    assert.equal(m.headers['x-dead-letter-reason'], 'max deliveries (2) reached, last: ack timeout');
    assert.equal(q.counters.deadLettered, 1);
    assert.equal(q.depth() + q.inFlight(), 0);
    // A late ack of the timed-out delivery is ignored, not an error.
    q.settle(c, 0, 1, 1, 'ack');
    assert.equal(q.counters.acked, 0);
  });

  it('checkpoints and restores positions, done sets and delivery counts', async function () {
    const spec = normalizeSpec({ name: 'q', durable: true }, 4096);
    const q = new Queue(spec, 'u1', hooks);
    const { c } = consumer(q);
    await q.publish(['0', '1', '2', '3', '4', '5'].map((b) => raw(b)));
    q.pump();
    q.settle(c, 0, 1, 2, 'ack');
    q.settle(c, 0, 4, 4, 'ack');
    q.settle(c, 0, 5, 5, 'nack'); // count 1, back for redelivery
    q.pump(); // redelivered: count 2, in flight
    const cp = q.checkpoint();
    assert.equal(cp.cur[0]!.parts[0]!.f, 3);
    assert.deepEqual(cp.cur[0]!.parts[0]!.d, [[4, 4]]);
    assert.deepEqual(cp.cur[0]!.parts[0]!.c, [[5, 2]]);
    // Restore from "storage": every message, the checkpoint decides.
    const entries = [1, 2, 3, 4, 5, 6].map((seq) => ({
      seq,
      bytes: raw(String(seq - 1)).bytes,
      id: '',
      need: 0,
      eph: 0,
      col: 0,
    }));
    const r = new Queue(spec, 'u1', hooks);
    const kept = r.restore([entries], JSON.parse(JSON.stringify(cp)));
    assert.deepEqual(
      kept.map((e) => e.seq),
      [3, 5, 6],
    );
    const { c: c2, sink } = consumer(r);
    r.pump();
    flush(c2);
    assert.deepEqual(
      sink.deliveries().map((d) => [d.seq, d.n]),
      [
        [3, 2],
        [5, 3],
        [6, 2],
      ],
    );
  });

  it('hands a partition over only after the old owner confirms the revocation', async function () {
    const q = new Queue(normalizeSpec({ name: 'p', kind: 'partitioned', partitions: 2 }, 4096), 'u1', hooks);
    const a = consumer(q, 'g');
    flush(a.c);
    assert.deepEqual(a.sink.frames.at(-1)!.assignment!.owned, [0, 1]);
    await q.publish([raw('m', 'k')]);
    q.pump();
    flush(a.c);
    const b = consumer(q, 'g');
    flush(a.c, b.c);
    const revoke = a.sink.frames.at(-1)!.assignment!;
    assert.equal(revoke.revoked.length, 1);
    const moving = revoke.revoked[0]!;
    assert.deepEqual(b.sink.frames.filter((f) => f.assignment).at(-1)!.assignment!.assigned, []);
    assert.deepEqual(q.groups.get('g')!.unowned(), [moving]);
    // Nothing more of the moving partition goes to a while the hand-over is pending.
    const before = a.sink.deliveries().length;
    await q.publish([raw('again', 'k'), raw('x', 'y'), raw('z', 'zz')]);
    q.pump();
    flush(a.c);
    assert.ok(
      a.sink
        .deliveries()
        .slice(before)
        .every((d) => d.p !== moving),
    );
    q.revokeDone(a.c, moving);
    flush(b.c);
    assert.deepEqual(b.sink.frames.at(-1)!.assignment!.assigned, [moving]);
    assert.deepEqual(q.groups.get('g')!.unowned(), []);
  });
});
