// File names are display metadata only — never a path on any disk — but they
// travel into Content-Disposition headers and user interfaces, so they are
// checked strictly: no control characters (CR/LF would split headers), no
// bidirectional overrides (they disguise extensions), at most 255 UTF-8 bytes.
// A directory part is dropped (old browsers send full client paths), and what is
// left must be a plain name, not `.` or `..`.
import { badRequest } from './http-error.js';

export const DEFAULT_NAME = 'file';
const MAX_NAME_BYTES = 255;
// C0, DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f]/;

/** The stored name for a client-supplied one; throws 400 with the precise reason. */
export function checkFileName(raw: string | undefined): string {
  if (raw === undefined || raw === '') return DEFAULT_NAME;
  if (CONTROL.test(raw)) throw badRequest('file name contains control characters');
  if (BIDI.test(raw)) throw badRequest('file name contains bidirectional control characters');
  const base = raw.normalize('NFC').split(/[/\\]/).pop() ?? '';
  if (base.trim() === '' || base === '.' || base === '..') throw badRequest('file name is not a plain file name');
  if (Buffer.byteLength(base, 'utf8') > MAX_NAME_BYTES)
    throw badRequest(`file name is longer than ${MAX_NAME_BYTES} bytes`);
  return base;
}
