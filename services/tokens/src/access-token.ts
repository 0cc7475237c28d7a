// Access tokens: compact JWS (JWT) with HS256 only — the algorithm is an
// allow-list of one, so `none` and algorithm-confusion tokens are refused before
// any key is touched. Claims: iss, aud, sub (user id), did (device), sid
// (session), name, iat, exp, jti. Verification is local and allocation-light.
import crypto from 'node:crypto';
import { PlatformError } from '../../runtime/src/errors.js';
import type { KeySet } from './keyset.js';

export const ISSUER = 'tce-auth';
export const AUDIENCE = 'tce-platform';
const ALLOWED_ALGS = new Set(['HS256']);

export interface AccessClaims {
  sub: string;
  did: string;
  sid: string;
  name: string;
  iat: number; // seconds
  exp: number; // seconds
  jti: string;
}

export interface SignOptions {
  ttlMs: number;
  now?: number;
}

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

export function signAccessToken(
  keys: KeySet,
  claims: Pick<AccessClaims, 'sub' | 'did' | 'sid' | 'name'>,
  opts: SignOptions,
): { token: string; expiresAt: number } {
  const now = opts.now ?? Date.now();
  const iat = Math.floor(now / 1000);
  const exp = Math.floor((now + opts.ttlMs) / 1000);
  const header = b64({ alg: 'HS256', typ: 'JWT', kid: keys.active.kid });
  const payload = b64({
    iss: ISSUER,
    aud: AUDIENCE,
    ...claims,
    iat,
    exp,
    jti: crypto.randomBytes(12).toString('base64url'),
  });
  const sig = crypto.createHmac('sha256', keys.active.secret).update(`${header}.${payload}`).digest('base64url');
  return { token: `${header}.${payload}.${sig}`, expiresAt: exp * 1000 };
}

const fail = (msg: string): PlatformError => new PlatformError('UNAUTHENTICATED', msg);

/**
 * Verifies signature, algorithm, kid, issuer, audience, expiry (with small
 * clock skew) and claim types. Throws UNAUTHENTICATED with a precise reason.
 */
export function verifyAccessToken(keys: KeySet, token: string, now = Date.now(), skewMs = 30_000): AccessClaims {
  if (typeof token !== 'string' || token.length === 0) throw fail('missing access token');
  if (token.length > 4096) throw fail('access token too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw fail('malformed access token');
  const [h, p, s] = parts as [string, string, string];
  let header: { alg?: unknown; kid?: unknown; typ?: unknown };
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as typeof header;
  } catch {
    throw fail('malformed access token header');
  }
  if (typeof header.alg !== 'string' || !ALLOWED_ALGS.has(header.alg)) {
    throw fail(`access token algorithm '${String(header.alg)}' is not allowed`);
  }
  const key = typeof header.kid === 'string' ? keys.byKid.get(header.kid) : undefined;
  if (!key) throw fail('access token signed with an unknown key');
  if (key.verifyUntil !== undefined && now > key.verifyUntil) throw fail('access token signed with a retired key');
  const want = crypto.createHmac('sha256', key.secret).update(`${h}.${p}`).digest();
  const got = Buffer.from(s, 'base64url');
  if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) throw fail('access token signature is invalid');
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw fail('malformed access token claims');
  }
  if (c.iss !== ISSUER) throw fail('access token has the wrong issuer');
  if (c.aud !== AUDIENCE) throw fail('access token has the wrong audience');
  for (const k of ['sub', 'did', 'sid', 'name', 'jti'] as const) {
    if (typeof c[k] !== 'string') throw fail(`access token claim '${k}' is missing`);
  }
  if (typeof c.exp !== 'number' || typeof c.iat !== 'number') throw fail('access token lacks iat/exp');
  if (c.exp * 1000 + skewMs < now) throw fail('access token expired');
  if (c.iat * 1000 - skewMs > now) throw fail('access token issued in the future');
  return c as unknown as AccessClaims;
}
