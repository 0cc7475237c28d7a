// Sessions (one per login on a device) and their rotating refresh tokens.
//
// Every refresh token is a document keyed by the SHA-256 of its secret, with
// the session and its generation; a unique index on (session, generation)
// makes "spend a token" atomic: refreshing generation g inserts generation
// g+1, and of two refreshes with the same token only one insert can succeed.
// A token is therefore spent exactly when its successor exists, and
// presenting a spent token — a stolen copy, or the thief's after the owner
// refreshed — revokes the session (the token family) at once.
//
// Revocation is an insert too (auth_session_revocations, _id = session id),
// never a field update, because FerretDB 1.x updates can lose concurrent
// writes; the session's tokens then also go into the shared `revocations`
// collection that every verifier polls.
import type { Collection, Db } from 'mongodb';
import { revoke, revocations } from '../../tokens/src/index.js';
import { newSessionId } from './ids.js';
import { isDuplicateKey } from '../../runtime/src/mongo-errors.js';
import { newRefreshToken, type ParsedRefreshToken } from './refresh-token.js';

export interface SessionDoc {
  _id: string;
  user_id: string;
  device_id: string;
  device_type: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
}

export interface RefreshTokenDoc {
  _id: string; // hex SHA-256 of the secret
  session_id: string;
  user_id: string;
  generation: number;
  issued_at: number;
  expires_at: number;
}

export interface SessionRevocationDoc {
  _id: string; // session id
  user_id: string;
  reason: RevokeReason;
  at: number;
  expires_at: number;
}

export type RevokeReason = 'logout' | 'logout-all' | 'password-changed' | 'refresh-token-reuse' | 'revoked-by-user';

export type RotateOutcome =
  | { kind: 'rotated'; session: SessionDoc; refreshToken: string; refreshExpiresAt: number }
  | { kind: 'unknown' | 'expired' }
  | { kind: 'revoked' | 'reused' | 'device-mismatch'; session: SessionDoc };

export const SESSIONS = 'auth_sessions';
export const REFRESH_TOKENS = 'auth_refresh_tokens';
export const SESSION_REVOCATIONS = 'auth_session_revocations';
/**
 * Spent tokens kept per session for reuse detection. Older ones are deleted;
 * presenting one is then refused as unknown, without revoking the session.
 */
export const KEEP_GENERATIONS = 50;

export interface SessionStoreOptions {
  refreshTtlMs: number;
  accessTtlMs: number;
}

export class SessionStore {
  readonly sessions: Collection<SessionDoc>;
  readonly tokens: Collection<RefreshTokenDoc>;
  readonly revoked: Collection<SessionRevocationDoc>;

  constructor(
    private readonly db: Db,
    private readonly opts: SessionStoreOptions,
  ) {
    this.sessions = db.collection<SessionDoc>(SESSIONS);
    this.tokens = db.collection<RefreshTokenDoc>(REFRESH_TOKENS);
    this.revoked = db.collection<SessionRevocationDoc>(SESSION_REVOCATIONS);
  }

  async ensureIndexes(): Promise<void> {
    await this.sessions.createIndex({ user_id: 1 }, { name: 'user_id' });
    await this.sessions.createIndex({ expires_at: 1 }, { name: 'expires_at' });
    await this.tokens.createIndex(
      { session_id: 1, generation: 1 },
      { unique: true, name: 'session_generation_unique' },
    );
    await this.tokens.createIndex({ expires_at: 1 }, { name: 'expires_at' });
    await this.revoked.createIndex({ user_id: 1 }, { name: 'user_id' });
    await this.revoked.createIndex({ expires_at: 1 }, { name: 'expires_at' });
  }

  /** A new session with its first refresh token (generation 0). */
  async create(
    s: { userId: string; deviceId: string; deviceType: string },
    now: number,
  ): Promise<{ session: SessionDoc; refreshToken: string; refreshExpiresAt: number }> {
    const expiresAt = now + this.opts.refreshTtlMs;
    const session: SessionDoc = {
      _id: newSessionId(),
      user_id: s.userId,
      device_id: s.deviceId,
      device_type: s.deviceType,
      created_at: now,
      last_used_at: now,
      expires_at: expiresAt,
    };
    await this.sessions.insertOne(session);
    const rt = newRefreshToken(session._id);
    await this.tokens.insertOne({
      _id: rt.hash,
      session_id: session._id,
      user_id: s.userId,
      generation: 0,
      issued_at: now,
      expires_at: expiresAt,
    });
    return { session, refreshToken: rt.token, refreshExpiresAt: expiresAt };
  }

  /** Spends a refresh token and issues its successor; see the header for reuse. */
  async rotate(t: ParsedRefreshToken, deviceType: string, now: number): Promise<RotateOutcome> {
    const tok = await this.tokens.findOne({ _id: t.hash });
    if (!tok || tok.session_id !== t.sessionId) return { kind: 'unknown' };
    if (tok.expires_at <= now) return { kind: 'expired' };
    const session = await this.sessions.findOne({ _id: tok.session_id });
    if (!session) return { kind: 'unknown' };
    if (await this.isRevoked(session._id)) return { kind: 'revoked', session };
    if (session.device_type !== deviceType) return { kind: 'device-mismatch', session };
    const next = newRefreshToken(session._id);
    const expiresAt = now + this.opts.refreshTtlMs;
    try {
      await this.tokens.insertOne({
        _id: next.hash,
        session_id: session._id,
        user_id: session.user_id,
        generation: tok.generation + 1,
        issued_at: now,
        expires_at: expiresAt,
      });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Generation g+1 exists: this token was spent before. Someone holds a copy.
      await this.revoke([session], 'refresh-token-reuse', now);
      return { kind: 'reused', session };
    }
    // Bookkeeping only (last writer wins is fine): when it was used, when it ends.
    await this.sessions.updateOne({ _id: session._id }, { $set: { last_used_at: now, expires_at: expiresAt } });
    await this.tokens.deleteMany({
      session_id: session._id,
      generation: { $lt: tok.generation + 1 - KEEP_GENERATIONS },
    });
    return {
      kind: 'rotated',
      session: { ...session, last_used_at: now, expires_at: expiresAt },
      refreshToken: next.token,
      refreshExpiresAt: expiresAt,
    };
  }

  /** The session a refresh token names, if the token is genuine (current or spent). */
  async sessionOfToken(t: ParsedRefreshToken): Promise<SessionDoc | undefined> {
    const tok = await this.tokens.findOne({ _id: t.hash });
    if (!tok || tok.session_id !== t.sessionId) return undefined;
    return (await this.sessions.findOne({ _id: tok.session_id })) ?? undefined;
  }

  async findById(id: string): Promise<SessionDoc | undefined> {
    return (await this.sessions.findOne({ _id: id })) ?? undefined;
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    return (await this.revoked.countDocuments({ _id: sessionId }, { limit: 1 })) > 0;
  }

  /** The user's sessions that are neither expired nor revoked, newest first. */
  async listActive(userId: string, now: number): Promise<SessionDoc[]> {
    const all = await this.sessions.find({ user_id: userId, expires_at: { $gt: now } }).toArray();
    if (all.length === 0) return [];
    const dead = new Set(
      (await this.revoked.find({ _id: { $in: all.map((s) => s._id) } }, { projection: { _id: 1 } }).toArray()).map(
        (r) => r._id,
      ),
    );
    return all.filter((s) => !dead.has(s._id)).sort((a, b) => b.created_at - a.created_at);
  }

  /**
   * Revokes sessions: marks them (refresh refused from now on), then publishes
   * their access tokens to the verifiers' revocation list. Returns the ids
   * this call revoked (already revoked ones are skipped).
   */
  async revoke(sessions: readonly SessionDoc[], reason: RevokeReason, now: number): Promise<string[]> {
    const done: string[] = [];
    for (const s of sessions) {
      try {
        await this.revoked.insertOne({
          _id: s._id,
          user_id: s.user_id,
          reason,
          at: now,
          expires_at: Math.max(s.expires_at, now + this.opts.accessTtlMs) + 60_000,
        });
        done.push(s._id);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      // Published even when it was already revoked: the first revoker may have died before this step.
      await revoke(this.db, { session: s._id }, this.opts.accessTtlMs, now);
    }
    return done;
  }

  /**
   * Publishes revocations that were marked but never reached the shared list
   * (a crash between the two steps). Only those whose access tokens may still live.
   */
  async republish(now: number): Promise<number> {
    const recent = await this.revoked.find({ at: { $gt: now - this.opts.accessTtlMs - 60_000 } }).toArray();
    if (recent.length === 0) return 0;
    const ids = recent.map((r) => `session:${r._id}`);
    const have = new Set(
      (
        await revocations(this.db)
          .find({ _id: { $in: ids } }, { projection: { _id: 1 } })
          .toArray()
      ).map((r) => r._id),
    );
    let n = 0;
    for (const r of recent) {
      if (have.has(`session:${r._id}`)) continue;
      // Stamped now, not at r.at: verifiers poll by update time and would skip an old stamp.
      await revoke(this.db, { session: r._id }, this.opts.accessTtlMs, now);
      n++;
    }
    return n;
  }

  /** Deletes expired sessions, tokens and revocation marks. */
  async sweep(now: number): Promise<number> {
    const a = await this.tokens.deleteMany({ expires_at: { $lt: now } });
    const b = await this.sessions.deleteMany({ expires_at: { $lt: now } });
    const c = await this.revoked.deleteMany({ expires_at: { $lt: now } });
    return a.deletedCount + b.deletedCount + c.deletedCount;
  }
}
