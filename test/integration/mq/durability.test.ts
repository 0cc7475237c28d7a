// Durability: kill -9 of the broker in the middle of publishing to durable
// queues, then count — every acknowledged publish must be delivered (lost = 0);
// duplicates are allowed (at-least-once) and reported. Also: unacked
// deliveries survive a crash with their delivery count, acked ones do not come
// back, and transient queues come back empty.
import assert from 'node:assert/strict';
import { MqClient } from '../../../services/mq/src/client/index.js';
import { startStore, waitFor, type Store } from '../../support/index.js';
import { ADMIN, Collector, PW, startBroker, type Broker } from './broker.js';

const QUEUES = [
  { name: 'orders', durable: true },
  { name: 'orders-noid', durable: true },
  { name: 'parts', kind: 'partitioned', partitions: 8, durable: true },
  { name: 'inflight', durable: true },
  { name: 'scratch' },
];

describe('EasyMQ durability', function () {
  let store: Store;
  let broker: Broker;
  let mq: MqClient;

  before(async function () {
    store = await startStore();
    broker = await startBroker(store.url, QUEUES);
    mq = new MqClient(broker.addr, { retryMs: 50, maxRetryMs: 500 });
  });

  after(async function () {
    mq?.close();
    await broker?.svc.stop();
    await store?.stop();
  });

  it('loses nothing acknowledged when the broker is killed (-9) mid-publish', async function () {
    const acked = { orders: new Set<string>(), 'orders-noid': new Set<string>(), parts: new Set<string>() };
    const failed: string[] = [];
    let stop = false;
    const publisher = async (queue: keyof typeof acked, withId: boolean): Promise<void> => {
      for (let i = 0; !stop; i += 50) {
        const batch = Array.from({ length: 50 }, (_, j) => {
          const v = `${queue}-${i + j}`;
          return { payload: v, key: v, ...(withId ? { id: v } : {}) };
        });
        // Each publish resolves only once stored; across the crash the client retries on its own.
        await Promise.all(
          batch.map((m) =>
            mq.publish(queue, PW, m).then(
              () => acked[queue].add(m.payload),
              (e: Error) => failed.push(`${m.payload}: ${e.message}`),
            ),
          ),
        );
      }
    };
    const pubs = [publisher('orders', true), publisher('orders-noid', false), publisher('parts', true)];
    await waitFor('a good amount published', () => acked.orders.size >= 1500 && acked.parts.size >= 1500, {
      timeoutMs: 30_000,
    });
    await broker.svc.kill9();
    const atCrash = { orders: acked.orders.size, 'orders-noid': acked['orders-noid'].size, parts: acked.parts.size };
    broker = await startBroker(store.url, QUEUES, {}, broker.port);
    await waitFor('publishing to resume', () => acked.orders.size >= atCrash.orders + 500, { timeoutMs: 30_000 });
    stop = true;
    await Promise.all(pubs);
    assert.deepEqual(failed, []);

    const report: Record<string, unknown> = {};
    for (const queue of ['orders', 'orders-noid', 'parts'] as const) {
      const seen = new Map<string, number>();
      const c = new Collector(
        mq,
        { queue, password: PW, credit: 5000, ...(queue === 'parts' ? { group: 'g' } : {}) },
        (d) => {
          const v = d.payload.toString();
          seen.set(v, (seen.get(v) ?? 0) + 1);
        },
      );
      try {
        await waitFor(`every acknowledged ${queue} message`, () => [...acked[queue]].every((v) => seen.has(v)), {
          timeoutMs: 60_000,
        });
        await waitFor(`${queue} to drain`, async () => (await mq.admin(ADMIN).stats(queue)).depth === 0);
      } finally {
        c.close();
      }
      const lost = [...acked[queue]].filter((v) => !seen.has(v));
      const duplicates = [...seen.values()].filter((n) => n > 1).length;
      report[queue] = {
        acknowledged: acked[queue].size,
        atCrash: atCrash[queue],
        delivered: seen.size,
        lost: lost.length,
        duplicates,
      };
      assert.equal(lost.length, 0, `${queue}: lost ${lost.slice(0, 5).join(', ')}`);
    }
    console.log('      kill -9 report:', JSON.stringify(report));
  });

  it('after a crash, unacked deliveries come back with their delivery count; acked ones do not', async function () {
    await mq.publishBatch(
      'inflight',
      PW,
      Array.from({ length: 10 }, (_, i) => ({ payload: String(i) })),
    );
    const first = new Collector(mq, { queue: 'inflight', password: PW, autoAck: false }, (d) => {
      if (Number(d.payload.toString()) < 4) d.ack();
    });
    await first.until(10);
    await waitFor('the acks to reach the broker', async () => (await mq.admin(ADMIN).stats('inflight')).acked === 4);
    // Acks are made durable by the periodic checkpoint: wait until the last one written covers them.
    await waitFor('a checkpoint covering the acks', async () => {
      const m = await (await fetch(`http://127.0.0.1:${broker.svc.opsPort}/metrics`)).text();
      return /tce_mq_checkpointed_acks\{queue="inflight",component="mq"\} 4\b/.test(m);
    });
    await broker.svc.kill9();
    first.close();
    broker = await startBroker(store.url, QUEUES, {}, broker.port);
    const again = new Collector(mq, { queue: 'inflight', password: PW });
    try {
      await again.until(6);
      assert.deepEqual(again.payloads(), ['4', '5', '6', '7', '8', '9']);
      assert.ok(again.got.every((d) => d.deliveryCount === 2 && d.redelivered));
    } finally {
      again.close();
    }
  });

  it('a transient queue keeps its declaration but not its messages across a restart', async function () {
    await mq.publish('scratch', PW, { payload: 'gone' });
    await broker.svc.kill9();
    broker = await startBroker(store.url, QUEUES, {}, broker.port);
    const st = await mq.admin(ADMIN).stats('scratch');
    assert.equal(st.depth, 0);
    assert.equal(st.durable, false);
  });
});
