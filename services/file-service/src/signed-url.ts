// Signed, expiring download URLs: `/files/<id>?exp=<unix seconds>&sig=<mac>`,
// where mac = base64url(HMAC-SHA256(TCE_URL_SIGNING_KEY, "files/<id>/<exp>")).
// They let a device hand a file to something without its token (an <img> tag,
// a media player). They grant GET and HEAD of that one file until exp.
import crypto from 'node:crypto';

/** Longest validity a signed URL may be given (the gRPC and HTTP signers cap at this). */
export const MAX_SIGNED_TTL_S = 7 * 86_400;

function mac(key: Buffer, id: string, exp: string): Buffer {
  return crypto.createHmac('sha256', key).update(`files/${id}/${exp}`).digest();
}

export function signedQuery(key: Buffer, id: string, expSeconds: number): string {
  const exp = String(expSeconds);
  return `exp=${exp}&sig=${mac(key, id, exp).toString('base64url')}`;
}

export type SignatureCheck = 'valid' | 'invalid' | 'expired';

/** The signature is checked before the expiry, so a tampered URL never reads as merely expired. */
export function checkSignature(
  key: Buffer,
  id: string,
  exp: string | null,
  sig: string | null,
  now = Date.now(),
): SignatureCheck {
  if (exp === null || sig === null || !/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return 'invalid';
  const got = Buffer.from(sig, 'base64url');
  const want = mac(key, id, exp);
  if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) return 'invalid';
  return Number(exp) * 1000 <= now ? 'expired' : 'valid';
}
