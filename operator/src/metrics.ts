// The operator's Prometheus metrics, served on /metrics (port 9090): reconciles
// (count, duration, errors), every API request by verb and resource (so tests
// and the benchmark can count writes), leadership and queue depth.
import client from 'prom-client';
import type { RequestInfo } from './kube/client.js';
import { WRITE_VERBS } from './kube/client.js';

export interface OperatorMetrics {
  registry: client.Registry;
  reconciles: client.Counter<'result'>;
  reconcileSeconds: client.Histogram;
  reconcileErrors: client.Counter;
  apiRequests: client.Counter<'verb' | 'resource' | 'code'>;
  apiWrites: client.Counter<'verb' | 'resource'>;
  leader: client.Gauge;
  queueDepth: client.Gauge;
  /** Feed for KubeClient's onRequest. */
  observeRequest(info: RequestInfo): void;
}

export function createOperatorMetrics(): OperatorMetrics {
  const registry = new client.Registry();
  registry.setDefaultLabels({ component: 'operator' });
  client.collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const apiRequests = new client.Counter({
    name: 'tce_operator_api_requests_total',
    help: 'Requests to the Kubernetes API, by verb, resource and HTTP status.',
    labelNames: ['verb', 'resource', 'code'] as const,
    registers,
  });
  const apiWrites = new client.Counter({
    name: 'tce_operator_api_writes_total',
    help: 'Writing requests to the Kubernetes API (create, update, patch, apply, delete), by verb and resource.',
    labelNames: ['verb', 'resource'] as const,
    registers,
  });
  return {
    registry,
    reconciles: new client.Counter({
      name: 'tce_operator_reconciles_total',
      help: 'Reconciles of Platforms, by result (applied, invalid, error).',
      labelNames: ['result'] as const,
      registers,
    }),
    reconcileSeconds: new client.Histogram({
      name: 'tce_operator_reconcile_duration_seconds',
      help: 'Time to reconcile one Platform.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    reconcileErrors: new client.Counter({
      name: 'tce_operator_reconcile_errors_total',
      help: 'Reconciles that failed and will be retried.',
      registers,
    }),
    apiRequests,
    apiWrites,
    leader: new client.Gauge({
      name: 'tce_operator_leader',
      help: '1 while this replica holds the leader Lease.',
      registers,
    }),
    queueDepth: new client.Gauge({
      name: 'tce_operator_queue_depth',
      help: 'Platforms waiting to be reconciled.',
      registers,
    }),
    observeRequest(info) {
      apiRequests.inc({ verb: info.verb, resource: info.resource, code: String(info.code) });
      if (WRITE_VERBS.has(info.verb)) apiWrites.inc({ verb: info.verb, resource: info.resource });
    },
  };
}
