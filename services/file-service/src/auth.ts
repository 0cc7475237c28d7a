// Who is asking: a bearer access token verified locally (signature, expiry,
// then the polled revocation list), or — for downloads only — a signed URL.
// 401 carries WWW-Authenticate as RFC 6750 asks; a bad signed URL is 403 (the
// request was authorised by something, and that something is wrong).
import type { IncomingMessage } from 'node:http';
import { PlatformError } from '../../runtime/src/errors.js';
import { verifyAccessToken, type AccessClaims, type KeySet } from '../../tokens/src/index.js';
import { HttpError, forbidden } from './http-error.js';
import { checkSignature } from './signed-url.js';

export interface Caller {
  userId: string;
  deviceId: string;
}

export interface RevocationCheck {
  isRevoked(c: Pick<AccessClaims, 'sub' | 'sid' | 'iat'>): boolean;
}

const REALM = 'Bearer realm="tce-files"';

function unauthenticated(msg: string, invalidToken: boolean): HttpError {
  const challenge = invalidToken ? `${REALM}, error="invalid_token", error_description="${msg}"` : REALM;
  return new HttpError('UNAUTHENTICATED', msg, 401, { 'www-authenticate': challenge });
}

export class Authenticator {
  constructor(
    private readonly keys: KeySet,
    private readonly revocations: RevocationCheck,
    private readonly signingKey: Buffer,
  ) {}

  /** The caller of a request that must carry a bearer token. */
  bearer(req: IncomingMessage): Caller {
    const h = req.headers.authorization;
    if (h === undefined) throw unauthenticated('missing bearer token', false);
    const m = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i.exec(h);
    if (!m) throw unauthenticated('malformed Authorization header', true);
    let claims: AccessClaims;
    try {
      claims = verifyAccessToken(this.keys, m[1]!);
    } catch (err) {
      if (err instanceof PlatformError) throw unauthenticated(err.message, true);
      throw err;
    }
    if (this.revocations.isRevoked(claims)) throw unauthenticated('access token revoked', true);
    return { userId: claims.sub, deviceId: claims.did };
  }

  /**
   * Download authorisation: a signed URL when the query has one (then it alone
   * decides), else a bearer token. Returns undefined for a signed-URL reader.
   */
  reader(req: IncomingMessage, id: string, query: URLSearchParams): Caller | undefined {
    if (query.has('sig') || query.has('exp')) {
      const r = checkSignature(this.signingKey, id, query.get('exp'), query.get('sig'));
      if (r === 'invalid') throw forbidden('invalid URL signature');
      if (r === 'expired') throw forbidden('signed URL expired');
      return undefined;
    }
    return this.bearer(req);
  }
}
