// Which browser Origins may open /ws. Browsers always send Origin on a
// WebSocket handshake and cannot be stopped from connecting cross-site, so the
// server must refuse foreign Origins (cross-site WebSocket hijacking). Native
// clients send no Origin and are not restricted here (they authenticate anyway).

export interface OriginPolicy {
  allowAll: boolean;
  /** Normalised origins (scheme://host[:port], lower case, default ports dropped). */
  allowed: ReadonlySet<string>;
}

export function originPolicy(list: readonly string[]): OriginPolicy {
  const allowAll = list.includes('*');
  const allowed = new Set<string>();
  for (const o of list) {
    if (o === '*') continue;
    const n = normaliseOrigin(o);
    if (!n) throw new Error(`TCE_ALLOWED_ORIGINS: '${o}' is not an origin like https://app.example.com`);
    allowed.add(n);
  }
  return { allowAll, allowed };
}

export function normaliseOrigin(o: string): string | undefined {
  try {
    const u = new URL(o);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    if (u.pathname !== '/' || u.search || u.hash || u.username || u.password) return undefined;
    return u.origin.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Decides an upgrade: no Origin → allowed (not a browser); same origin as the
 * Host the request was sent to → allowed; else only when listed (or `*`).
 */
export function originAllowed(
  policy: OriginPolicy,
  origin: string | undefined,
  host: string | undefined,
  secure: boolean,
): boolean {
  if (origin === undefined) return true;
  if (policy.allowAll) return true;
  const n = normaliseOrigin(origin);
  if (!n) return false;
  if (policy.allowed.has(n)) return true;
  if (host) {
    const self = normaliseOrigin(`${secure ? 'https' : 'http'}://${host}`);
    // Behind a TLS-terminating proxy the scheme differs; the host (and port) is what matters.
    if (self && stripScheme(self) === stripScheme(n)) return true;
  }
  return false;
}

const stripScheme = (o: string): string => o.replace(/^https?:\/\//, '');
