// An optional client checksum on plain uploads, verified against the SHA-256
// computed while streaming; on mismatch the upload is discarded (400).
import { badRequest } from './http-error.js';

/**
 * Content-Digest (RFC 9530) on a plain upload: `sha-256=:<base64>:`, possibly
 * among other algorithms we ignore. Returns the SHA-256 to verify, if given.
 */
export function parseContentDigest(value: string | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  if (value.length > 1024) throw badRequest('Content-Digest is too long');
  for (const member of value.split(',')) {
    const m = /^\s*([a-z0-9-]+)\s*=\s*:([A-Za-z0-9+/]*={0,2}):\s*$/.exec(member);
    if (!m) throw badRequest('Content-Digest is malformed');
    if (m[1] === 'sha-256') {
      const d = Buffer.from(m[2]!, 'base64');
      if (d.length !== 32) throw badRequest('Content-Digest sha-256 value must be 32 bytes');
      return d;
    }
  }
  return undefined;
}
