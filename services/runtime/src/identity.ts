// Caller identity between internal services. The gateway (which verified the
// device's token) signs the identity into call metadata with the platform's
// internal key; servants trust only a valid signature, never a payload field.
import crypto from 'node:crypto';

export interface Identity {
  userId: string;
  deviceId: string;
}

export const IDENTITY_HEADER = 'tce-identity';
const MAX_SKEW_MS = 5 * 60_000;

/** `<base64url(json)>.<base64url(hmac)>`; valid for a few minutes so replays are bounded. */
export function signIdentity(identity: Identity, key: Buffer, now = Date.now()): string {
  const body = Buffer.from(JSON.stringify({ u: identity.userId, d: identity.deviceId, t: now })).toString('base64url');
  const mac = crypto.createHmac('sha256', key).update(body).digest('base64url');
  return `${body}.${mac}`;
}

export function verifyIdentity(value: string, key: Buffer, now = Date.now()): Identity | undefined {
  const dot = value.indexOf('.');
  if (dot <= 0) return undefined;
  const body = value.slice(0, dot);
  const mac = Buffer.from(value.slice(dot + 1), 'base64url');
  const want = crypto.createHmac('sha256', key).update(body).digest();
  if (mac.length !== want.length || !crypto.timingSafeEqual(mac, want)) return undefined;
  try {
    const o = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { u?: unknown; d?: unknown; t?: unknown };
    if (typeof o.u !== 'string' || typeof o.d !== 'string' || typeof o.t !== 'number') return undefined;
    if (Math.abs(now - o.t) > MAX_SKEW_MS) return undefined;
    return { userId: o.u, deviceId: o.d };
  } catch {
    return undefined;
  }
}
