// The gateway's own Prometheus metrics, next to the runtime's defaults.
import client from 'prom-client';

export interface GatewayMetrics {
  connections: client.Gauge;
  sessions: client.Gauge;
  opened: client.Counter;
  closed: client.Counter<'code'>;
  refused: client.Counter<'reason'>;
  deviceCalls: client.Counter<'method' | 'code'>;
  deviceCallSeconds: client.Histogram<'method'>;
  onewayDropped: client.Counter;
  stored: client.Counter<'outcome'>;
  storeBatch: client.Histogram;
  pushed: client.Counter;
  delivered: client.Counter;
  notices: client.Counter<'direction' | 'type'>;
  gpsPublished: client.Counter<'outcome'>;
}

export function createGatewayMetrics(registry: client.Registry): GatewayMetrics {
  const r = [registry];
  return {
    connections: new client.Gauge({
      name: 'tce_gateway_connections',
      help: 'Open device WebSocket connections.',
      registers: r,
    }),
    sessions: new client.Gauge({
      name: 'tce_gateway_sessions',
      help: 'Authenticated device connections.',
      registers: r,
    }),
    opened: new client.Counter({
      name: 'tce_gateway_connections_opened_total',
      help: 'Device connections accepted.',
      registers: r,
    }),
    closed: new client.Counter({
      name: 'tce_gateway_connections_closed_total',
      help: 'Device connections closed, by WebSocket close code (docs/protocol.md).',
      labelNames: ['code'],
      registers: r,
    }),
    refused: new client.Counter({
      name: 'tce_gateway_upgrades_refused_total',
      help: 'WebSocket upgrades refused (origin, token, capacity, path, query).',
      labelNames: ['reason'],
      registers: r,
    }),
    deviceCalls: new client.Counter({
      name: 'tce_gateway_device_calls_total',
      help: 'Calls from devices by interface/method and result code.',
      labelNames: ['method', 'code'],
      registers: r,
    }),
    onewayDropped: new client.Counter({
      name: 'tce_gateway_oneway_dropped_total',
      help: 'Oneway frames from devices dropped because their connection already had 64 calls running (a oneway gets no answer).',
      registers: r,
    }),
    deviceCallSeconds: new client.Histogram({
      name: 'tce_gateway_device_call_seconds',
      help: 'Time from a device call frame to its answer.',
      labelNames: ['method'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: r,
    }),
    stored: new client.Counter({
      name: 'tce_gateway_messages_stored_total',
      help: 'Sends answered, by outcome (stored, duplicate, failed).',
      labelNames: ['outcome'],
      registers: r,
    }),
    storeBatch: new client.Histogram({
      name: 'tce_gateway_store_batch_size',
      help: 'Messages written per store batch (group commit).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers: r,
    }),
    pushed: new client.Counter({
      name: 'tce_gateway_pushes_total',
      help: 'ITerminal.onMessage and onMessages calls sent to devices.',
      registers: r,
    }),
    delivered: new client.Counter({
      name: 'tce_gateway_deliveries_total',
      help: 'Messages acked by devices (onMessage returned).',
      registers: r,
    }),
    notices: new client.Counter({
      name: 'tce_gateway_notices_total',
      help: 'Notices exchanged with other gateway replicas through mq.',
      labelNames: ['direction', 'type'],
      registers: r,
    }),
    gpsPublished: new client.Counter({
      name: 'tce_gateway_gps_reports_total',
      help: 'GPS reports published to mq_gps, by outcome.',
      labelNames: ['outcome'],
      registers: r,
    }),
  };
}

/** Store operations waiting, by kind, sampled at scrape time: how far the store is behind the gateway. */
export function watchStoreQueues(registry: client.Registry, sample: () => Record<string, number>): void {
  new client.Gauge({
    name: 'tce_gateway_store_queued',
    help: 'Store work waiting: sends not yet in a batch (sends), the store pace (reads, writes), the bookkeeping writer.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      for (const [kind, n] of Object.entries(sample())) this.set({ kind }, n);
    },
  });
}
