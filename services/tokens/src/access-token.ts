// Access tokens: compact JWS (JWT) with HS256 only — the algorithm is an
// allow-list of one, so `none` and algorithm-confusion tokens are refused before
// any key is touched. Claims: iss, aud, sub (user id), did (device), sid
// (session), name, iat, exp, jti. Verification is local and allocation-light:
// it runs on every device call and file request (goal ≥ 50k/s per core).
import crypto from 'node:crypto';
import { PlatformError } from '../../runtime/src/errors.js';
import type { KeySet } from './keyset.js';

export const ISSUER = 'tce-auth';
export const AUDIENCE = 'tce-platform';
const ALLOWED_ALGS = new Set(['HS256']);
/** Longer tokens are refused before any parsing: ours are ~400 bytes. */
const MAX_TOKEN_LENGTH = 4096;

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
    sub: claims.sub,
    did: claims.did,
    sid: claims.sid,
    name: claims.name,
    iat,
    exp,
    jti: crypto.randomBytes(12).toString('base64url'),
  });
  const sig = crypto.createHmac('sha256', keys.active.secret).update(`${header}.${payload}`).digest('base64url');
  return { token: `${header}.${payload}.${sig}`, expiresAt: exp * 1000 };
}

const fail = (msg: string): PlatformError => new PlatformError('UNAUTHENTICATED', msg);

/**
 * Decoded headers by their base64url text. Every token signed with one key has
 * the same header, so verification parses it once per key, not once per call.
 * Only headers that passed the checks are cached; the cache is bounded.
 */
const headerCache = new Map<string, string>();
const HEADER_CACHE_MAX = 64;

/** The header's kid, after checking it is an object with an allowed alg and no extensions. */
function headerKid(h: string): string {
  const cached = headerCache.get(h);
  if (cached !== undefined) return cached;
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  } catch {
    throw fail('malformed access token header');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw fail('malformed access token header');
  }
  const { alg, kid, typ, crit } = header as Record<string, unknown>;
  if (typeof alg !== 'string' || !ALLOWED_ALGS.has(alg)) {
    throw fail(`access token algorithm '${String(alg)}' is not allowed`);
  }
  if (typ !== undefined && typ !== 'JWT') throw fail(`access token type '${String(typ)}' is not allowed`);
  // RFC 7515 §4.1.11: a verifier must refuse critical extensions it does not understand (we understand none).
  if (crit !== undefined) throw fail('access token has critical header extensions');
  if (typeof kid !== 'string') throw fail('access token has no key id');
  if (headerCache.size >= HEADER_CACHE_MAX) headerCache.clear();
  headerCache.set(h, kid);
  return kid;
}

/**
 * Verifies signature, algorithm, kid, issuer, audience, expiry (with small
 * clock skew) and claim types. Throws UNAUTHENTICATED with a precise reason.
 */
export function verifyAccessToken(keys: KeySet, token: string, now = Date.now(), skewMs = 30_000): AccessClaims {
  if (typeof token !== 'string' || token.length === 0) throw fail('missing access token');
  if (token.length > MAX_TOKEN_LENGTH) throw fail('access token too long');
  const d1 = token.indexOf('.');
  const d2 = d1 < 0 ? -1 : token.indexOf('.', d1 + 1);
  if (d1 <= 0 || d2 < 0 || token.indexOf('.', d2 + 1) >= 0) throw fail('malformed access token');
  const h = token.slice(0, d1);
  const signed = token.slice(0, d2);
  const s = token.slice(d2 + 1);
  const kid = headerKid(h);
  const key = keys.byKid.get(kid);
  if (!key) throw fail('access token signed with an unknown key');
  if (key.verifyUntil !== undefined && now > key.verifyUntil) throw fail('access token signed with a retired key');
  // Compare the canonical base64url text, not decoded bytes: Node's decoder skips
  // stray characters and ignores the last character's spare bits, so byte
  // comparison would accept several spellings of one signature.
  const want = Buffer.from(crypto.createHmac('sha256', key.secret).update(signed).digest('base64url'), 'latin1');
  const got = Buffer.from(s, 'latin1');
  if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) throw fail('access token signature is invalid');
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(token.slice(d1 + 1, d2), 'base64url').toString('utf8'));
  } catch {
    throw fail('malformed access token claims');
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw fail('malformed access token claims');
  const claims = c as Record<string, unknown>;
  if (claims.iss !== ISSUER) throw fail('access token has the wrong issuer');
  if (claims.aud !== AUDIENCE) throw fail('access token has the wrong audience');
  for (const k of ['sub', 'did', 'sid', 'name', 'jti'] as const) {
    if (typeof claims[k] !== 'string') throw fail(`access token claim '${k}' is missing`);
  }
  if (!Number.isSafeInteger(claims.exp) || !Number.isSafeInteger(claims.iat)) {
    throw fail('access token lacks iat/exp');
  }
  const exp = claims.exp as number;
  const iat = claims.iat as number;
  if (exp * 1000 + skewMs < now) throw fail('access token expired');
  if (iat * 1000 - skewMs > now) throw fail('access token issued in the future');
  return {
    sub: claims.sub as string,
    did: claims.did as string,
    sid: claims.sid as string,
    name: claims.name as string,
    iat,
    exp,
    jti: claims.jti as string,
  };
}
