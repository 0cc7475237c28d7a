// Revocation of access tokens before they expire (logout, password change,
// refresh-token reuse). Auth writes a record; every verifier polls the
// collection, so a revocation takes effect everywhere within one poll interval
// (TCE_REVOCATION_POLL, default 2 s) plus the poll's own round trip — the
// documented bound. Records name a user (all sessions) or one session; tokens
// issued before `notBefore` are refused. No change streams (FerretDB has none)
// and no TTL index reliance: auth sweeps expired records explicitly.
import { EventEmitter } from 'node:events';
import type { Collection, Db } from 'mongodb';
import type { Logger } from '../../runtime/src/logger.js';
import type { AccessClaims } from './access-token.js';

export interface RevocationRecord {
  _id: string; // "user:<id>" or "session:<sid>"
  notBefore: number; // ms: tokens with iat before this are revoked
  expiresAt: number; // ms: after this every affected token has expired anyway (swept)
  updatedAt: number;
}

export const REVOCATIONS = 'revocations';

/**
 * Incremental polls re-read this much before the newest record seen, so a
 * record written by a replica whose clock lags a little is not missed.
 */
const POLL_OVERLAP_MS = 5_000;
/** Every this many polls the whole (small, swept) collection is re-read, so nothing is missed for long. */
const FULL_RESYNC_EVERY = 30;

export function revocations(db: Db): Collection<RevocationRecord> {
  return db.collection<RevocationRecord>(REVOCATIONS);
}

/** Indexes the verifiers' poll and auth's sweep use (idempotent; auth calls it at start). */
export async function ensureRevocationIndexes(db: Db): Promise<void> {
  await revocations(db).createIndex({ updatedAt: 1 }, { name: 'updatedAt' });
  await revocations(db).createIndex({ expiresAt: 1 }, { name: 'expiresAt' });
}

/** Records a revocation (auth side). `ttlMs` = the access-token lifetime. */
export async function revoke(
  db: Db,
  target: { user: string } | { session: string },
  ttlMs: number,
  now = Date.now(),
): Promise<void> {
  const _id = 'user' in target ? `user:${target.user}` : `session:${target.session}`;
  // +1 s: token iat has second resolution, so a token minted in this same second is revoked too.
  const write = (): Promise<unknown> =>
    revocations(db).updateOne(
      { _id },
      { $set: { notBefore: now + 1000, expiresAt: now + ttlMs + 60_000, updatedAt: now } },
      { upsert: true },
    );
  try {
    await write();
  } catch (err) {
    // Two concurrent upserts of a new record: one inserts, the other gets a
    // duplicate key (FerretDB, and MongoDB too) — the record now exists, so update it.
    if ((err as { code?: unknown }).code !== 11000) throw err;
    await write();
  }
}

/** Deletes records whose tokens have all expired (auth runs this periodically). Returns the count. */
export async function sweepRevocations(db: Db, now = Date.now()): Promise<number> {
  const r = await revocations(db).deleteMany({ expiresAt: { $lte: now } });
  return r.deletedCount;
}

export function isRevokedBy(records: Map<string, number>, c: Pick<AccessClaims, 'sub' | 'sid' | 'iat'>): boolean {
  const issued = c.iat * 1000;
  const u = records.get(`user:${c.sub}`);
  const s = records.get(`session:${c.sid}`);
  return (u !== undefined && issued < u) || (s !== undefined && issued < s);
}

/**
 * Verifier side: an in-memory copy of the revocation records, refreshed by
 * polling. Emits 'revoked' (RevocationRecord) for each new or changed record so
 * a gateway can close live connections whose token it revokes.
 */
export class RevocationList extends EventEmitter {
  private readonly records = new Map<string, number>();
  private readonly expiry = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private since = 0;
  private polls = 0;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly opts: { pollMs: number; logger: Logger },
  ) {
    super();
  }

  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => {
      this.polling ??= this.poll()
        .catch((err: unknown) => this.opts.logger.warn('Revocation poll failed', { err }))
        .finally(() => (this.polling = undefined));
    }, this.opts.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }

  isRevoked(c: Pick<AccessClaims, 'sub' | 'sid' | 'iat'>): boolean {
    return isRevokedBy(this.records, c);
  }

  /** Number of live records held (for metrics). */
  get size(): number {
    return this.records.size;
  }

  /** One poll; emits 'revoked' with each new or changed record. */
  async poll(now = Date.now()): Promise<void> {
    const full = this.polls++ % FULL_RESYNC_EVERY === 0;
    const from = full ? 0 : this.since - POLL_OVERLAP_MS;
    const cursor = revocations(this.db).find({ updatedAt: { $gte: from }, expiresAt: { $gt: now } });
    let newest = this.since;
    for await (const r of cursor) {
      this.expiry.set(r._id, r.expiresAt);
      if (this.records.get(r._id) !== r.notBefore) {
        this.records.set(r._id, r.notBefore);
        this.emit('revoked', r);
      }
      newest = Math.max(newest, r.updatedAt);
    }
    this.since = newest;
    // Forget records whose tokens have all expired, so memory stays bounded.
    for (const [id, exp] of this.expiry) {
      if (exp <= now) {
        this.expiry.delete(id);
        this.records.delete(id);
      }
    }
  }
}
