// Queue passwords are kept only as scrypt hashes (in MongoDB and in memory).
// scrypt is deliberately slow, so a password that verified once is remembered
// by its SHA-256 in memory: publishes do not pay scrypt every call.
import crypto from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(crypto.scrypt) as (
  pw: string,
  salt: Buffer,
  len: number,
  opts: crypto.ScryptOptions,
) => Promise<Buffer>;
const PARAMS = { N: 16384, r: 8, p: 1 };
const KEYLEN = 32;

export async function hashPassword(pw: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const dk = await scrypt(pw, salt, KEYLEN, PARAMS);
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64')}$${dk.toString('base64')}`;
}

export async function verifyPassword(pw: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return false;
  const want = Buffer.from(hash, 'base64');
  const dk = await scrypt(pw, Buffer.from(salt, 'base64'), want.length, { N: Number(n), r: Number(r), p: Number(p) });
  return crypto.timingSafeEqual(dk, want);
}

const sha = (s: string): string => crypto.createHash('sha256').update(s).digest('base64');

/** Constant-time comparison of two secrets of any length. */
export function secretEquals(a: string, b: string): boolean {
  return crypto.timingSafeEqual(Buffer.from(sha(a), 'base64'), Buffer.from(sha(b), 'base64'));
}

/** Remembers passwords that verified against a hash, keyed by the hash (so a new password forgets them). */
export class VerifiedCache {
  private readonly ok = new Map<string, Set<string>>();

  async check(pw: string, stored: string): Promise<boolean> {
    const h = sha(pw);
    if (this.ok.get(stored)?.has(h)) return true;
    if (!(await verifyPassword(pw, stored))) return false;
    let set = this.ok.get(stored);
    if (!set) this.ok.set(stored, (set = new Set()));
    if (set.size < 64) set.add(h);
    return true;
  }
}
