// tus 1.0 header parsing (core + creation, expiration, checksum, termination).
// Pure functions; the handlers in tus.ts do the I/O.
import { badRequest, HttpError } from './http-error.js';

export const TUS_VERSION = '1.0.0';
export const TUS_EXTENSIONS = 'creation,expiration,checksum,termination';
export const TUS_CHECKSUM_ALGORITHMS = ['sha1', 'sha256', 'md5'] as const;
export type ChecksumAlgorithm = (typeof TUS_CHECKSUM_ALGORITHMS)[number];
export const OFFSET_CONTENT_TYPE = 'application/offset+octet-stream';

/** tus requires Tus-Resumable on every request but OPTIONS; a missing or other version gets 412. */
export function checkTusResumable(value: string | undefined): void {
  if (value !== TUS_VERSION) {
    throw new HttpError('FAILED_PRECONDITION', `Tus-Resumable must be ${TUS_VERSION}`, 412, {
      'tus-version': TUS_VERSION,
    });
  }
}

/** A non-negative integer header (Upload-Offset, Upload-Length). */
export function parseCount(value: string | undefined, header: string): number {
  if (value === undefined) throw badRequest(`${header} is required`);
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw badRequest(`${header} must be a non-negative integer`);
  }
  return Number(value);
}

/** Upload-Metadata: `key base64value` pairs separated by commas; keys unique, values optional. */
export function parseUploadMetadata(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined || value.trim() === '') return out;
  if (value.length > 4096) throw badRequest('Upload-Metadata is too long');
  for (const pair of value.split(',')) {
    const parts = pair.trim().split(' ');
    const [key = '', b64, ...rest] = parts;
    if (!/^[!-+\--~]+$/.test(key) || rest.length > 0) throw badRequest('Upload-Metadata is malformed');
    if (key in out) throw badRequest(`Upload-Metadata has a duplicate key '${key}'`);
    if (b64 !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
      throw badRequest(`Upload-Metadata value of '${key}' is not base64`);
    }
    out[key] = b64 === undefined ? '' : Buffer.from(b64, 'base64').toString('utf8');
  }
  return out;
}

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  digest: Buffer;
}

/** Upload-Checksum: `<algorithm> <base64 digest>`. */
export function parseUploadChecksum(value: string | undefined): Checksum | undefined {
  if (value === undefined) return undefined;
  const m = /^([a-z0-9-]+) ([A-Za-z0-9+/]+={0,2})$/.exec(value.trim());
  if (!m) throw badRequest('Upload-Checksum is malformed');
  const algorithm = m[1] as ChecksumAlgorithm;
  if (!TUS_CHECKSUM_ALGORITHMS.includes(algorithm)) {
    throw badRequest(`Upload-Checksum algorithm '${m[1]}' is not supported`);
  }
  return { algorithm, digest: Buffer.from(m[2]!, 'base64') };
}

/** RFC 9110 IMF-fixdate, as Upload-Expires wants it. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
