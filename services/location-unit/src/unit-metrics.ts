// Location-unit metrics next to the runtime's RPC metrics.
import client from 'prom-client';
import type { Metrics } from '../../runtime/src/metrics.js';
import type { UnitState } from './unit-state.js';

export interface UnitMetrics {
  points: client.Counter<'result'>;
  batchSeconds: client.Histogram;
  compactSeconds: client.Histogram;
  partial: client.Counter<'query'>;
}

export function unitMetrics(m: Metrics, state: UnitState, backlog: () => number): UnitMetrics {
  const r = [m.registry];
  new client.Gauge({
    name: 'tce_location_partitions',
    help: 'Partitions of this unit by status (ready = answered for, loading = being rebuilt).',
    labelNames: ['status'],
    registers: r,
    collect() {
      this.set({ status: 'ready' }, state.ownership.ready().length);
      this.set({ status: 'loading' }, state.ownership.loading().length);
    },
  });
  new client.Gauge({
    name: 'tce_location_users',
    help: 'Users whose latest position this unit holds.',
    registers: r,
    collect() {
      this.set(state.userCount);
    },
  });
  new client.Gauge({
    name: 'tce_location_compaction_backlog_points',
    help: 'Points durable in write-ahead segments and not yet compacted into location_points/location_latest.',
    registers: r,
    collect() {
      this.set(backlog());
    },
  });
  return {
    points: new client.Counter({
      name: 'tce_location_points_total',
      help: 'GPS points by result (stored = durable in a segment and acked, compacted, invalid, not_owned).',
      labelNames: ['result'],
      registers: r,
    }),
    batchSeconds: new client.Histogram({
      name: 'tce_location_store_batch_seconds',
      help: 'Time to make one batch of points durable (its write-ahead segments).',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: r,
    }),
    compactSeconds: new client.Histogram({
      name: 'tce_location_compaction_round_seconds',
      help: 'Time to expand one round of segments into points and latest records.',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10],
      registers: r,
    }),
    partial: new client.Counter({
      name: 'tce_location_partial_queries_total',
      help: 'Queries answered partially (some partitions missing).',
      labelNames: ['query'],
      registers: r,
    }),
  };
}
