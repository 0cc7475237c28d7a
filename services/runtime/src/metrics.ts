// Prometheus metrics: one registry per process, default process metrics plus
// the RPC counters every servant gets for free.
import client from 'prom-client';

export interface Metrics {
  registry: client.Registry;
  rpcHandled: client.Counter<'method' | 'code'>;
  rpcSeconds: client.Histogram<'method'>;
}

export function createMetrics(component: string): Metrics {
  const registry = new client.Registry();
  registry.setDefaultLabels({ component });
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    rpcHandled: new client.Counter({
      name: 'tce_rpc_handled_total',
      help: 'RPCs completed by servants, by method and gRPC status code.',
      labelNames: ['method', 'code'],
      registers: [registry],
    }),
    rpcSeconds: new client.Histogram({
      name: 'tce_rpc_duration_seconds',
      help: 'Servant handling time.',
      labelNames: ['method'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
  };
}
