// Prometheus metrics of the broker, read from its state at scrape time (the hot
// paths only bump plain counters): per queue published/delivered/acked/
// redelivered/dead-lettered/dropped, depth, in flight, consumers; leadership.
import client from 'prom-client';
import type { Metrics } from '../../runtime/src/metrics.js';
import type { Broker } from './broker.js';
import type { Counters } from './queue.js';

export interface MqMetrics {
  leader: client.Gauge;
  storeWriteSeconds: client.Histogram;
  attach(broker: Broker): void;
}

export function createMqMetrics(m: Metrics): MqMetrics {
  let broker: Broker | undefined;
  const registers = [m.registry];
  const counter = (name: string, help: string, key: keyof Counters): void => {
    new client.Counter({
      name,
      help,
      labelNames: ['queue'],
      registers,
      collect() {
        this.reset();
        for (const [q, queue] of broker?.queues ?? []) this.inc({ queue: q }, queue.counters[key]);
      },
    });
  };
  counter('tce_mq_published_total', 'Messages accepted by publish.', 'published');
  counter('tce_mq_delivered_total', 'Deliveries to subscribers (redeliveries included).', 'delivered');
  counter('tce_mq_acked_total', 'Deliveries acknowledged.', 'acked');
  counter('tce_mq_redelivered_total', 'Redeliveries (delivery count > 1).', 'redelivered');
  counter('tce_mq_dead_lettered_total', 'Messages moved to a dead-letter queue.', 'deadLettered');
  counter(
    'tce_mq_dropped_total',
    'Messages dropped for slow topic subscribers (or without a dead-letter queue).',
    'dropped',
  );
  counter('tce_mq_duplicates_total', 'Publishes recognised as retries by their idempotency key.', 'duplicates');
  new client.Counter({
    name: 'tce_mq_checkpoints_total',
    help: 'Checkpoints (subscription positions) of a durable queue written to MongoDB.',
    labelNames: ['queue'],
    registers,
    collect() {
      this.reset();
      for (const [q, queue] of broker?.queues ?? [])
        if (queue.durable) this.inc({ queue: q }, broker!.checkpointsWritten(queue).n);
    },
  });
  new client.Gauge({
    name: 'tce_mq_checkpointed_acks',
    help: 'Acks covered by the last checkpoint written: what a crash right now would remember.',
    labelNames: ['queue'],
    registers,
    collect() {
      this.reset();
      for (const [q, queue] of broker?.queues ?? [])
        if (queue.durable) this.set({ queue: q }, broker!.checkpointsWritten(queue).acked);
    },
  });
  const gauge = (name: string, help: string, read: (b: Broker, q: string) => number): void => {
    new client.Gauge({
      name,
      help,
      labelNames: ['queue'],
      registers,
      collect() {
        this.reset();
        for (const q of broker?.queues.keys() ?? []) this.set({ queue: q }, read(broker!, q));
      },
    });
  };
  gauge('tce_mq_depth', 'Messages ready for delivery.', (b, q) => b.queues.get(q)!.depth());
  gauge('tce_mq_in_flight', 'Deliveries not yet acknowledged.', (b, q) => b.queues.get(q)!.inFlight());
  gauge('tce_mq_consumers', 'Subscribers connected.', (b, q) => b.queues.get(q)!.consumers());
  return {
    leader: new client.Gauge({ name: 'tce_mq_leader', help: '1 on the active broker, 0 on a standby.', registers }),
    storeWriteSeconds: new client.Histogram({
      name: 'tce_mq_store_write_seconds',
      help: 'Duration of one group-commit insert into MongoDB.',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1],
      registers,
    }),
    attach: (b) => {
      broker = b;
    },
  };
}
