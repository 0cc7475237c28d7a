// Content-Disposition per RFC 6266 with the RFC 8187/5987 `filename*` form for
// non-ASCII names. The quoted `filename` fallback keeps only safe printable
// ASCII (no quote, backslash or percent, which some browsers decode).
import { isInlineSafe } from './media-types.js';

// RFC 8187 attr-char: everything else is percent-encoded.
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

export function contentDisposition(name: string, mediaType: string): string {
  const kind = isInlineSafe(mediaType) ? 'inline' : 'attachment';
  const ascii = [...name].map((c) => (/^[\x20-\x7e]$/.test(c) && !/["\\%]/.test(c) ? c : '_')).join('');
  if (ascii === name) return `${kind}; filename="${ascii}"`;
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeRfc8187(name)}`;
}

export function encodeRfc8187(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
