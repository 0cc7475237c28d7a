// What the HTTP handlers share: the store, the authenticator, settings, logs
// and metrics. Built once in service.ts.
import type { Logger } from '../../runtime/src/logger.js';
import type { Authenticator } from './auth.js';
import type { FileStore } from './file-store.js';
import type { FilesMetrics } from './files-metrics.js';
import type { HashCache } from './hash-cache.js';
import type { StoreGate } from './store-gate.js';

export interface FilesSettings {
  maxUploadBytes: number;
  chunkBytes: number;
  retentionMs: number;
  uploadExpiryMs: number;
  bodyTimeoutMs: number;
  /** How often a live upload refreshes its record, so sweepers leave it alone. */
  touchMs: number;
  /** A record untouched this long belongs to a dead upload. */
  staleMs: number;
  /** Lease of a PATCH's lock; renewed every touchMs while the PATCH streams. */
  lockLeaseMs: number;
  signingKey: Buffer;
}

export interface FilesContext {
  store: FileStore;
  auth: Authenticator;
  settings: FilesSettings;
  logger: Logger;
  metrics: FilesMetrics;
  hashes: HashCache;
  /** Per-process limit on concurrent chunk writes, shared by every upload. */
  writeGate: StoreGate;
}

/** After an offline transfer is fetched by its recipient it stays this long (for a retried download). */
export const FETCHED_GRACE_MS = 10 * 60_000;

/** Timing derived from the body timeout: touch often enough, call a record dead only well after. */
export function derivedTimings(bodyTimeoutMs: number): Pick<FilesSettings, 'touchMs' | 'staleMs' | 'lockLeaseMs'> {
  const touchMs = Math.min(10_000, Math.max(500, Math.floor(bodyTimeoutMs / 2)));
  return { touchMs, staleMs: 3 * touchMs + bodyTimeoutMs, lockLeaseMs: bodyTimeoutMs + 2 * touchMs };
}
