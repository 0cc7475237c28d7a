// Password hashing with scrypt from node:crypto (RFC 7914), N=2^17, r=8, p=1:
// OWASP's recommended scrypt setting, ~128 MiB and a few hundred ms per hash.
// Argon2id would need a native addon; scrypt is memory-hard too and ships
// with Node (docs/auth.md). crypto.scrypt runs on libuv's thread pool, so the
// event loop stays free. Hashes are PHC strings that carry their parameters
// (`$scrypt$ln=17,r=8,p=1$<salt>$<hash>`), so raising them later still
// verifies old hashes; `needsRehash` tells which ones a migration would
// upgrade (not done at login: FerretDB 1.x cannot make that write conditional,
// and a racing password change could be undone).
import crypto from 'node:crypto';

export interface ScryptParams {
  /** log2 of N, the CPU/memory cost. */
  ln: number;
  r: number;
  p: number;
}

export const DEFAULT_PARAMS: Readonly<ScryptParams> = { ln: 17, r: 8, p: 1 };
const KEY_LEN = 32;
const SALT_LEN = 16;
/** Hashes with parameters outside these bounds are refused as corrupt rather than run. */
const LIMITS = { ln: [10, 20], r: [1, 32], p: [1, 16] } as const;

/** scrypt needs 128·N·r bytes (plus p·128·r); Node refuses above maxmem, whose default is 32 MiB. */
function maxmem(q: ScryptParams): number {
  return 128 * (2 ** q.ln + q.p + 2) * q.r + 1024 * 1024;
}

function scrypt(password: string, salt: Buffer, q: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    crypto.scrypt(
      Buffer.from(password, 'utf8'),
      salt,
      KEY_LEN,
      { N: 2 ** q.ln, r: q.r, p: q.p, maxmem: maxmem(q) },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_PARAMS): Promise<string> {
  const salt = crypto.randomBytes(SALT_LEN);
  const key = await scrypt(password, salt, params);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

export interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

/** Parses a stored hash; throws a plain Error (never shown to callers) when it is corrupt. */
export function parseHash(encoded: string): ParsedHash {
  const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(encoded);
  if (!m) throw new Error('stored password hash is not a scrypt PHC string');
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  for (const k of ['ln', 'r', 'p'] as const) {
    const [lo, hi] = LIMITS[k];
    if (params[k] < lo || params[k] > hi) throw new Error(`stored password hash has ${k}=${params[k]} out of bounds`);
  }
  const salt = Buffer.from(m[4]!, 'base64');
  const key = Buffer.from(m[5]!, 'base64');
  if (key.length !== KEY_LEN) throw new Error('stored password hash has a wrong key length');
  return { params, salt, key };
}

/** Constant-time check of `password` against a stored hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const h = parseHash(encoded);
  const key = await scrypt(password, h.salt, h.params);
  return crypto.timingSafeEqual(key, h.key);
}

/** True when the stored hash was made with other parameters than `params` (upgrade it after a good login). */
export function needsRehash(encoded: string, params: ScryptParams = DEFAULT_PARAMS): boolean {
  const h = parseHash(encoded).params;
  return h.ln !== params.ln || h.r !== params.r || h.p !== params.p;
}
