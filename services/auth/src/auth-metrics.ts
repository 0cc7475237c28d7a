// Auth's own Prometheus metrics, next to the runtime's per-RPC ones.
import client from 'prom-client';
import type { Metrics } from '../../runtime/src/metrics.js';
import type { HashPool } from './hash-pool.js';

export interface AuthMetrics {
  logins: client.Counter<'outcome'>;
  registrations: client.Counter<'outcome'>;
  refreshes: client.Counter<'outcome'>;
  revokedSessions: client.Counter<'reason'>;
  hashSeconds: client.Histogram;
}

export function createAuthMetrics(m: Metrics, pool: HashPool): AuthMetrics {
  const registers = [m.registry];
  new client.Gauge({
    name: 'tce_auth_password_hashes_waiting',
    help: 'Password hashes waiting for a slot in the hash pool.',
    registers,
    collect() {
      this.set(pool.waiting);
    },
  });
  return {
    logins: new client.Counter({
      name: 'tce_auth_logins_total',
      help: 'Login attempts by outcome (success, invalid_credentials, throttled).',
      labelNames: ['outcome'],
      registers,
    }),
    registrations: new client.Counter({
      name: 'tce_auth_registrations_total',
      help: 'Registrations by outcome (created, taken).',
      labelNames: ['outcome'],
      registers,
    }),
    refreshes: new client.Counter({
      name: 'tce_auth_refreshes_total',
      help: 'Refresh-token presentations by outcome (rotated, reused, revoked, expired, unknown, device_mismatch).',
      labelNames: ['outcome'],
      registers,
    }),
    revokedSessions: new client.Counter({
      name: 'tce_auth_sessions_revoked_total',
      help: 'Sessions revoked, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    hashSeconds: new client.Histogram({
      name: 'tce_auth_password_hash_seconds',
      help: 'Time of one scrypt hash or verification (excluding queueing).',
      buckets: [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2],
      registers,
    }),
  };
}
