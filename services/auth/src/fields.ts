// Validation of the other request fields: device type, profile fields, ids.
// Each function takes the raw value (a wrong type is possible through raw
// gRPC) and the parameter's name, and throws INVALID_ARGUMENT naming both.
import { invalidArgument } from '../../runtime/src/errors.js';
import { charProblem, codePointLength, problemText } from './characters.js';

export const DISPLAY_NAME_MAX = 64;
export const EMAIL_MAX = 254; // RFC 5321 path limit

/** Joiners and the emoji variation selector: needed by emoji and several scripts, harmless. */
const ALLOWED_FORMAT = new Set(['\u200c', '\u200d', '\ufe0f']);

function requireString(raw: unknown, field: string): string {
  if (typeof raw !== 'string') throw invalidArgument(`${field} must be a string`);
  return raw;
}

/** A short quoted preview of a refused value, with anything invisible escaped. */
export function preview(s: string, max = 40): string {
  const cut = [...s].slice(0, max);
  const shown = cut.map((c) => (charProblem(c) && c !== ' ' ? `\\u{${c.codePointAt(0)!.toString(16)}}` : c)).join('');
  return `'${shown}${codePointLength(s) > max ? '…' : ''}'`;
}

/** "android", "ios", "web", …: lower-cased, 1–32 of a-z 0-9 _ -, starting with a letter. */
export function parseDeviceType(raw: unknown, field = 'device_type'): string {
  const s = requireString(raw, field);
  if (s.length === 0) throw invalidArgument(`${field} is required (e.g. 'android', 'ios' or 'web')`);
  const v = s.toLowerCase();
  if (!/^[a-z][a-z0-9_-]{0,31}$/.test(v)) {
    throw invalidArgument(
      `${field} must be 1-32 characters of a-z, 0-9, '_' or '-', starting with a letter (e.g. 'android'), got ${preview(s)}`,
    );
  }
  return v;
}

/** Free text in any script; NFC; no controls, bidi overrides or invisible characters; trimmed. */
export function parseDisplayName(raw: unknown, field: string): string {
  const s = requireString(raw, field).normalize('NFC').trim();
  if (s.length > DISPLAY_NAME_MAX * 4 || codePointLength(s) > DISPLAY_NAME_MAX) {
    throw invalidArgument(`${field} is too long (${codePointLength(s)} characters; at most ${DISPLAY_NAME_MAX})`);
  }
  for (const ch of s) {
    const p = charProblem(ch);
    if (!p || ALLOWED_FORMAT.has(ch) || ch === ' ') continue;
    throw invalidArgument(`${field} contains ${problemText(p, ch)}, which is not allowed`);
  }
  if (/ {2}/.test(s)) throw invalidArgument(`${field} must not contain two spaces in a row`);
  return s;
}

/** Optional e-mail address: one '@', a dotted domain, no spaces or controls; the domain lower-cased. */
export function parseEmail(raw: unknown, field: string): string {
  const s = requireString(raw, field).trim();
  if (s.length === 0) return '';
  if (s.length > EMAIL_MAX)
    throw invalidArgument(`${field} is too long (${s.length} characters; at most ${EMAIL_MAX})`);
  for (const ch of s) {
    const p = charProblem(ch);
    if (p) throw invalidArgument(`${field} contains ${problemText(p, ch)}, which is not allowed`);
  }
  const at = s.lastIndexOf('@');
  const local = s.slice(0, at);
  const domain = s.slice(at + 1).toLowerCase();
  if (at <= 0 || local.includes('@') || !/^[^.@]+(\.[^.@]+)+$/.test(domain) || /[<>()[\]\\,;:"]/.test(s)) {
    throw invalidArgument(`${field} is not a valid e-mail address: ${preview(s)}`);
  }
  return `${local.normalize('NFC')}@${domain.normalize('NFC')}`;
}

const ID_BODY = '[A-Za-z0-9_-]{16}';
const USER_ID = new RegExp(`^u_${ID_BODY}$`);
const SESSION_ID = new RegExp(`^s_${ID_BODY}$`);

export function parseUserId(raw: unknown, field = 'user_id'): string {
  const s = requireString(raw, field);
  if (s.length === 0) throw invalidArgument(`${field} is required`);
  if (!USER_ID.test(s)) throw invalidArgument(`${field} is not a user id (u_ and 16 characters): ${preview(s)}`);
  return s;
}

export function parseSessionId(raw: unknown, field = 'session_id'): string {
  const s = requireString(raw, field);
  if (s.length === 0) throw invalidArgument(`${field} is required`);
  if (!SESSION_ID.test(s)) throw invalidArgument(`${field} is not a session id (s_ and 16 characters): ${preview(s)}`);
  return s;
}

/**
 * The device's own stable id, when the gateway passes one in ctx.extra
 * (`device-id`): 1–64 of A-Z a-z 0-9 . _ : -. Undefined when absent.
 */
export function parseDeviceId(raw: string | undefined, field: string): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(raw)) {
    throw invalidArgument(
      `${field} must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-', got ${preview(raw)}`,
    );
  }
  return raw;
}
