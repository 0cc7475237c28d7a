// Content types: stored in a normalised form (lower-case type/subtype, only a
// charset parameter kept) so nothing a client sends is echoed into response
// headers verbatim; and the short list of types a browser may show inline.
import { badRequest } from './http-error.js';

export const DEFAULT_TYPE = 'application/octet-stream';
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MEDIA = new RegExp(`^(${TOKEN})/(${TOKEN})$`);

export function normalizeMediaType(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') return DEFAULT_TYPE;
  if (raw.length > 255) throw badRequest('content type is too long');
  const [essence = '', ...params] = raw.split(';');
  const m = MEDIA.exec(essence.trim());
  if (!m) throw badRequest('content type is not a valid media type');
  const type = `${m[1]}/${m[2]}`.toLowerCase();
  for (const p of params) {
    const [k = '', v = ''] = p.split('=').map((s) => s.trim());
    if (k.toLowerCase() === 'charset' && /^"?[A-Za-z0-9._-]{1,40}"?$/.test(v)) {
      return `${type}; charset=${v.replace(/"/g, '').toLowerCase()}`;
    }
  }
  return type;
}

/**
 * Types shown inline (images, audio, video, plain text): they cannot run script,
 * and with `nosniff` and the sandbox CSP a browser will not reinterpret them.
 * Everything else — notably HTML, SVG, XML and PDF — is an attachment.
 */
const INLINE_SAFE = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'audio/mpeg',
  'audio/mp4',
  'audio/aac',
  'audio/ogg',
  'audio/webm',
  'audio/wav',
  'audio/amr',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'text/plain',
]);

export function isInlineSafe(mediaType: string): boolean {
  return INLINE_SAFE.has(mediaType.split(';')[0]!.trim());
}
