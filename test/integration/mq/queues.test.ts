// Plain queues against a real broker process and store: FIFO order, competing
// consumers, redelivery on consumer death and on ack timeout with delivery
// counts, nack/reject, dead-lettering after max deliveries, credit, publish
// idempotency, purge, and the same guarantees for a durable queue.
import assert from 'node:assert/strict';
import { MqClient, type Delivery } from '../../../services/mq/src/client/index.js';
import { startStore, waitFor, type Store } from '../../support/index.js';
import { ADMIN, Collector, PW, startBroker, subscribed, type Broker } from './broker.js';

describe('EasyMQ queues', function () {
  let store: Store;
  let broker: Broker;
  let mq: MqClient;

  before(async function () {
    store = await startStore();
    broker = await startBroker(store.url, [
      { name: 'fifo' },
      { name: 'fifo-durable', durable: true },
      { name: 'work' },
      { name: 'death' },
      { name: 'slow', ack_timeout_ms: 1000 },
      { name: 'poison', max_deliveries: 3 }, // nacks drive redelivery: no ack timeout can race them
      { name: 'nacks', max_deliveries: -1 },
      { name: 'rejects' },
      { name: 'credit' },
      { name: 'idem', durable: true },
      { name: 'purge' },
    ]);
    mq = new MqClient(broker.addr);
  });

  after(async function () {
    mq?.close();
    await broker?.svc.stop();
    await store?.stop();
  });

  for (const queue of ['fifo', 'fifo-durable']) {
    it(`delivers in publish order to one consumer (${queue})`, async function () {
      const n = 2000;
      await Promise.all(Array.from({ length: n }, (_, i) => mq.publish(queue, PW, { payload: String(i) })));
      const c = new Collector(mq, { queue, password: PW, credit: 500 });
      try {
        await c.until(n);
        assert.deepEqual(
          c.payloads(),
          Array.from({ length: n }, (_, i) => String(i)),
        );
        assert.ok(c.got.every((d) => d.deliveryCount === 1));
        const seqs = c.got.map((d) => d.seq);
        assert.deepEqual(
          seqs,
          [...seqs].sort((a, b) => a - b),
        );
      } finally {
        c.close();
      }
      await waitFor('acks to reach the broker', async () => (await mq.admin(ADMIN).stats(queue)).acked === n);
      const st = await mq.admin(ADMIN).stats(queue);
      assert.equal(st.depth, 0);
      assert.equal(st.in_flight, 0);
    });
  }

  it('shares a queue between competing consumers: each message to exactly one', async function () {
    const a = new Collector(mq, { queue: 'work', password: PW, credit: 10 });
    const b = new Collector(mq, { queue: 'work', password: PW, credit: 10 });
    try {
      await subscribed(a);
      await subscribed(b);
      const n = 400;
      await mq.publishBatch(
        'work',
        PW,
        Array.from({ length: n }, (_, i) => ({ payload: String(i) })),
      );
      await waitFor('all messages consumed', () => a.got.length + b.got.length >= n);
      const all = [...a.payloads(), ...b.payloads()].map(Number).sort((x, y) => x - y);
      assert.deepEqual(
        all,
        Array.from({ length: n }, (_, i) => i),
      );
      assert.ok(a.got.length > 0 && b.got.length > 0, `both consumed (${a.got.length} / ${b.got.length})`);
    } finally {
      a.close();
      b.close();
    }
  });

  it('redelivers to another consumer when a consumer dies with messages unacked', async function () {
    const dying = new Collector(mq, { queue: 'death', password: PW, autoAck: false, credit: 100 });
    await subscribed(dying);
    await mq.publishBatch(
      'death',
      PW,
      Array.from({ length: 20 }, (_, i) => ({ payload: `m${i}` })),
    );
    await dying.until(20);
    dying.close(); // gone without acking anything
    const heir = new Collector(mq, { queue: 'death', password: PW });
    try {
      await heir.until(20);
      assert.deepEqual(
        heir.payloads(),
        Array.from({ length: 20 }, (_, i) => `m${i}`),
      );
      assert.ok(heir.got.every((d) => d.deliveryCount === 2 && d.redelivered));
      assert.ok((await mq.admin(ADMIN).stats('death')).redelivered >= 20);
    } finally {
      heir.close();
    }
  });

  it('redelivers when a delivery is not acked within the ack timeout, counting deliveries', async function () {
    let acked = false;
    const c = new Collector(mq, { queue: 'slow', password: PW, autoAck: false }, (d) => {
      if (d.deliveryCount === 3) {
        d.ack();
        acked = true;
      }
    });
    try {
      await subscribed(c);
      await mq.publish('slow', PW, { payload: 'late' });
      await waitFor('the third delivery', () => acked, { timeoutMs: 10_000 });
      assert.deepEqual(
        c.got.map((d) => d.deliveryCount),
        [1, 2, 3],
      );
      assert.ok(c.got.every((d) => d.seq === c.got[0]!.seq));
    } finally {
      c.close();
    }
  });

  it('dead-letters a message after max deliveries, with the reason in its headers', async function () {
    const c = new Collector(mq, { queue: 'poison', password: PW }, () => {
      throw new Error('cannot handle this'); // nack → redelivery
    });
    const dlq = new Collector(mq, { queue: 'poison.dlq', password: PW });
    try {
      await mq.publish('poison', PW, { payload: 'bad', key: 'k1', headers: { origin: 'test' } });
      await dlq.until(1);
      assert.equal(c.got.length, 3);
      assert.deepEqual(
        c.got.map((d) => d.deliveryCount),
        [1, 2, 3],
      );
      const d = dlq.got[0]!;
      assert.equal(d.payload.toString(), 'bad');
      assert.equal(d.key, 'k1');
      assert.equal(d.headers.origin, 'test');
      assert.equal(d.headers['x-original-queue'], 'poison');
      assert.equal(d.headers['x-delivery-count'], '3');
      assert.match(d.headers['x-dead-letter-reason']!, /^max deliveries \(3\) reached, last: nacked$/);
      const st = await mq.admin(ADMIN).stats('poison');
      assert.equal(st.dead_lettered, 1);
      assert.equal(st.depth, 0);
    } finally {
      c.close();
      dlq.close();
    }
  });

  it('nack requeues (delivery count kept); with max_deliveries -1 it never dead-letters', async function () {
    const c = new Collector(mq, { queue: 'nacks', password: PW, autoAck: false }, (d) => {
      if (d.deliveryCount < 12) d.nack();
      else d.ack();
    });
    try {
      await mq.publish('nacks', PW, { payload: 'again' });
      await c.until(12);
      assert.deepEqual(
        c.got.map((d) => d.deliveryCount),
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
    } finally {
      c.close();
    }
  });

  it('reject (nack without requeue) dead-letters at once', async function () {
    const c = new Collector(mq, { queue: 'rejects', password: PW, autoAck: false }, (d) => d.reject());
    const dlq = new Collector(mq, { queue: 'rejects.dlq', password: PW });
    try {
      await mq.publish('rejects', PW, { payload: 'no' });
      await dlq.until(1);
      assert.equal(c.got.length, 1);
      assert.equal(dlq.got[0]!.headers['x-dead-letter-reason'], 'rejected');
    } finally {
      c.close();
      dlq.close();
    }
  });

  it('never has more unacked deliveries than the consumer credit', async function () {
    const held: Delivery[] = [];
    const c = new Collector(mq, { queue: 'credit', password: PW, credit: 5, autoAck: false }, (d) => {
      held.push(d);
    });
    try {
      await mq.publishBatch(
        'credit',
        PW,
        Array.from({ length: 30 }, (_, i) => ({ payload: String(i) })),
      );
      await c.until(5);
      await waitFor('stats to show 5 in flight', async () => {
        const st = await mq.admin(ADMIN).stats('credit');
        return st.in_flight === 5 && st.depth === 25;
      });
      assert.equal(c.got.length, 5);
      for (const d of held.splice(0)) d.ack();
      await c.until(10);
      assert.deepEqual(
        c.payloads(),
        Array.from({ length: 10 }, (_, i) => String(i)),
      );
      c.sub.setCredit(100);
      await waitFor('the rest after raising the credit', () => {
        for (const d of held.splice(0)) d.ack();
        return c.got.length === 30;
      });
    } finally {
      c.close();
    }
  });

  it('stores a retried publish with the same id once', async function () {
    const a = await mq.publish('idem', PW, { id: 'order-1', payload: 'first' });
    const b = await mq.publish('idem', PW, { id: 'order-1', payload: 'retry' });
    const batch = await mq.publishBatch('idem', PW, [
      { id: 'order-2', payload: 'x' },
      { id: 'order-2', payload: 'x again' },
      { payload: 'no id' },
    ]);
    assert.equal(a.duplicate, false);
    assert.equal(b.duplicate, true);
    assert.equal(b.offset, a.offset);
    assert.deepEqual(
      batch.map((r) => r.duplicate),
      [false, true, false],
    );
    const c = new Collector(mq, { queue: 'idem', password: PW });
    try {
      await c.until(3);
      assert.deepEqual(c.payloads(), ['first', 'x', 'no id']);
      const st = await mq.admin(ADMIN).stats('idem');
      assert.equal(st.duplicates, 2);
      assert.equal(st.published, 3);
    } finally {
      c.close();
    }
  });

  it('purge drops waiting messages and reports how many', async function () {
    await mq.publishBatch(
      'purge',
      PW,
      Array.from({ length: 25 }, (_, i) => ({ payload: String(i) })),
    );
    assert.equal(await mq.admin(ADMIN).purge('purge'), 25);
    assert.equal((await mq.admin(ADMIN).stats('purge')).depth, 0);
    await mq.publish('purge', PW, { payload: 'after' });
    const c = new Collector(mq, { queue: 'purge', password: PW });
    try {
      await c.until(1);
      assert.deepEqual(c.payloads(), ['after']);
    } finally {
      c.close();
    }
  });
});
