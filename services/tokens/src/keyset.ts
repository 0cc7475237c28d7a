// Token signing keys, from the Platform's Secret (TCE_TOKEN_KEYS). HMAC-SHA256
// keys: access tokens are verified on every device call and file request, and
// HMAC verifies in microseconds where Ed25519/ECDSA take 50–150 µs; the key is
// shared only among the platform's own trusted services (auth, gateway, file
// service) — see docs/auth.md. Rotation: a new key becomes `active` (signs);
// older keys keep verifying until their `verifyUntil`.
import crypto from 'node:crypto';

export interface TokenKey {
  kid: string;
  secret: Buffer;
  /** ms since epoch after which this key no longer verifies; undefined = no limit. */
  verifyUntil: number | undefined;
}

export interface KeySet {
  active: TokenKey;
  byKid: Map<string, TokenKey>;
}

interface KeySetJson {
  active: string;
  keys: { kid: string; secret: string; verifyUntil?: number }[];
}

const KID = /^[A-Za-z0-9._-]{1,64}$/;

/** Parses TCE_TOKEN_KEYS; every problem is named (never the secret itself). */
export function parseKeySet(json: string): KeySet {
  let raw: KeySetJson;
  try {
    raw = JSON.parse(json) as KeySetJson;
  } catch {
    throw new Error(
      'token keys: not valid JSON (expected {"active":"kid","keys":[{"kid":"…","secret":"<base64, ≥32 bytes>"}]})',
    );
  }
  if (!raw || typeof raw !== 'object' || !Array.isArray(raw.keys) || raw.keys.length === 0) {
    throw new Error('token keys: "keys" must be a non-empty array');
  }
  const byKid = new Map<string, TokenKey>();
  for (const [i, k] of raw.keys.entries()) {
    if (typeof k?.kid !== 'string' || !KID.test(k.kid)) throw new Error(`token keys: keys[${i}].kid must match ${KID}`);
    if (byKid.has(k.kid)) throw new Error(`token keys: duplicate kid '${k.kid}'`);
    const secret = typeof k.secret === 'string' ? Buffer.from(k.secret, 'base64') : Buffer.alloc(0);
    if (secret.length < 32)
      throw new Error(`token keys: key '${k.kid}' must have a base64 secret of at least 32 bytes`);
    if (k.verifyUntil !== undefined && !Number.isSafeInteger(k.verifyUntil)) {
      throw new Error(`token keys: key '${k.kid}' verifyUntil must be ms since epoch`);
    }
    byKid.set(k.kid, { kid: k.kid, secret, verifyUntil: k.verifyUntil });
  }
  const active = typeof raw.active === 'string' ? byKid.get(raw.active) : undefined;
  if (!active) throw new Error(`token keys: active kid '${String(raw.active)}' is not among the keys`);
  // The signing key must keep verifying what it signs; only retired keys have a deadline.
  if (active.verifyUntil !== undefined)
    throw new Error(`token keys: active key '${active.kid}' must not have verifyUntil`);
  return { active, byKid };
}

/** A fresh key set with one key (the operator and the local launcher create these). */
export function generateKeySet(kid = `k${Date.now().toString(36)}`): string {
  return JSON.stringify({ active: kid, keys: [{ kid, secret: crypto.randomBytes(32).toString('base64') }] });
}

/**
 * Rotation: adds a new active key; the previous keys verify for `graceMs` more
 * (use at least the access-token lifetime so no valid token is cut short).
 * Keys already past their deadline are dropped, so the set stays small.
 */
export function rotateKeySet(json: string, graceMs: number, now = Date.now(), kid = `k${now.toString(36)}`): string {
  parseKeySet(json); // refuse to rotate a broken set (the error names the problem)
  const raw = JSON.parse(json) as KeySetJson;
  if (raw.keys.some((k) => k.kid === kid)) throw new Error(`token keys: kid '${kid}' is already in use`);
  const keys: KeySetJson['keys'] = raw.keys
    .filter((k) => k.verifyUntil === undefined || k.verifyUntil > now)
    .map((k) => ({ ...k, verifyUntil: k.verifyUntil ?? now + graceMs }));
  keys.push({ kid, secret: crypto.randomBytes(32).toString('base64') });
  return JSON.stringify({ active: kid, keys });
}
