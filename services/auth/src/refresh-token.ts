// Refresh tokens: `rt1.<session id>.<secret>`, the secret 256 random bits.
// Only a SHA-256 of the secret is stored (a slow hash is pointless for a
// random 256-bit value, and lookups stay cheap); comparisons are constant-time.
// The session id inside lets auth find the session's rotation history and tell
// an old (rotated) token from a made-up one.
import crypto from 'node:crypto';
import { invalidArgument } from '../../runtime/src/errors.js';

const SHAPE = /^rt1\.(s_[A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/;

export interface ParsedRefreshToken {
  sessionId: string;
  /** Hex SHA-256 of the secret: what storage holds. */
  hash: string;
}

export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

export function newRefreshToken(sessionId: string): { token: string; hash: string } {
  const secret = crypto.randomBytes(32).toString('base64url');
  return { token: `rt1.${sessionId}.${secret}`, hash: hashSecret(secret) };
}

export function parseRefreshToken(raw: unknown, field = 'refresh_token'): ParsedRefreshToken {
  if (typeof raw !== 'string') throw invalidArgument(`${field} must be a string`);
  if (raw.length === 0) throw invalidArgument(`${field} is required`);
  const m = SHAPE.exec(raw);
  if (!m) {
    // Never echo a (possibly real) token: say only what is wrong with its shape.
    const what =
      raw.length > 200 ? `${raw.length} characters` : raw.startsWith('rt1.') ? 'a bad shape' : 'no rt1. prefix';
    throw invalidArgument(`${field} is not a refresh token (${what})`);
  }
  return { sessionId: m[1]!, hash: hashSecret(m[2]!) };
}

/** Constant-time comparison of two hex hashes. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && crypto.timingSafeEqual(x, y);
}
