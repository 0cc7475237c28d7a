// Topics: fan-out to every current subscriber, durable named subscriptions that
// catch up on what they missed (also across a broker restart), and slow
// subscribers bounded (dropped and counted, or disconnected).
import assert from 'node:assert/strict';
import { MqClient } from '../../../services/mq/src/client/index.js';
import { startStore, waitFor, type Store } from '../../support/index.js';
import { ADMIN, Collector, PW, startBroker, subscribed, type Broker } from './broker.js';

describe('EasyMQ topics', function () {
  let store: Store;
  let broker: Broker;
  let mq: MqClient;
  const queues = [
    { name: 'news', kind: 'topic' },
    { name: 'audit', kind: 'topic', durable: true },
    { name: 'firehose', kind: 'topic', subscriber_limit: 50 },
    { name: 'strict', kind: 'topic', subscriber_limit: 50, slow_policy: 'disconnect' },
  ];

  before(async function () {
    store = await startStore();
    broker = await startBroker(store.url, queues);
    mq = new MqClient(broker.addr);
  });

  after(async function () {
    mq?.close();
    await broker?.svc.stop();
    await store?.stop();
  });

  it('fans out every message to every current subscriber', async function () {
    const subs = [0, 1, 2].map(() => new Collector(mq, { queue: 'news', password: PW }));
    try {
      for (const s of subs) await subscribed(s);
      await mq.publishBatch(
        'news',
        PW,
        Array.from({ length: 100 }, (_, i) => ({ payload: String(i) })),
      );
      for (const s of subs) {
        await s.until(100);
        assert.deepEqual(
          s.payloads(),
          Array.from({ length: 100 }, (_, i) => String(i)),
        );
      }
      // A subscriber that arrives later gets only what is published from then on.
      const late = new Collector(mq, { queue: 'news', password: PW });
      subs.push(late);
      await subscribed(late);
      await mq.publish('news', PW, { payload: 'later' });
      await late.until(1);
      assert.deepEqual(late.payloads(), ['later']);
    } finally {
      for (const s of subs) s.close();
    }
  });

  it('a durable named subscription receives what it missed, also after a broker restart', async function () {
    const first = new Collector(mq, { queue: 'audit', password: PW, group: 'billing' });
    await subscribed(first);
    await mq.publish('audit', PW, { payload: 'seen' });
    await first.until(1);
    first.close();
    await waitFor('the subscriber to leave', async () => (await mq.admin(ADMIN).stats('audit')).consumers === 0);
    await mq.publishBatch(
      'audit',
      PW,
      Array.from({ length: 30 }, (_, i) => ({ payload: `missed-${i}` })),
    );
    // Restart the broker: the subscription's position and the missed messages are durable.
    await broker.svc.stop();
    broker = await startBroker(store.url, queues, {}, broker.port);
    const back = new Collector(mq, { queue: 'audit', password: PW, group: 'billing' });
    try {
      await back.until(30);
      assert.deepEqual(
        back.payloads(),
        Array.from({ length: 30 }, (_, i) => `missed-${i}`),
      );
      const groups = await mq.admin(ADMIN).groups('audit');
      assert.deepEqual(
        groups.map((g) => g.group),
        ['billing'],
      );
    } finally {
      back.close();
    }
  });

  it('drops the oldest messages of a slow subscriber beyond its limit, and counts them', async function () {
    const slow = new Collector(mq, { queue: 'firehose', password: PW, credit: 1, autoAck: false });
    try {
      await subscribed(slow);
      await mq.publishBatch(
        'firehose',
        PW,
        Array.from({ length: 500 }, (_, i) => ({ payload: String(i) })),
      );
      await waitFor('drops to be counted', async () => (await mq.admin(ADMIN).stats('firehose')).dropped >= 400);
      const st = await mq.admin(ADMIN).stats('firehose');
      assert.ok(st.dropped >= 449 && st.dropped <= 450, `dropped=${st.dropped}`);
      // What it gets is the newest 50: the limit it may fall behind.
      slow.sub.setCredit(1000);
      for (const d of slow.got) d.ack();
      await slow.until(500 - st.dropped);
      assert.deepEqual(
        slow.payloads(),
        Array.from({ length: 500 - st.dropped }, (_, i) => String(st.dropped + i)),
      );
      const metrics = await (await fetch(`http://127.0.0.1:${broker.svc.opsPort}/metrics`)).text();
      assert.match(metrics, /tce_mq_dropped_total\{queue="firehose",component="mq"\} (449|450)/);
    } finally {
      slow.close();
    }
  });

  it('disconnects a slow subscriber when the topic says so', async function () {
    const slow = new Collector(mq, { queue: 'strict', password: PW, credit: 1, autoAck: false });
    try {
      await subscribed(slow);
      await mq.publishBatch(
        'strict',
        PW,
        Array.from({ length: 200 }, (_, i) => ({ payload: String(i) })),
      );
      await waitFor('the disconnect', () => slow.states.some((s) => s.startsWith('reconnecting:RESOURCE_EXHAUSTED')));
      assert.ok(
        slow.states.some((s) =>
          /^reconnecting:RESOURCE_EXHAUSTED:subscriber too slow: \d+ messages behind on topic 'strict' \(subscriber_limit 50\)$/.test(
            s,
          ),
        ),
        slow.states.join('\n'),
      );
    } finally {
      slow.close();
    }
  });
});
