// Username rules. A username is an identifier people type and read, so it is
// ASCII-only (letters, digits, '.', '_', '-'), 3–32 characters, compared
// case-insensitively after NFKC normalisation: fullwidth "ａｌｉｃｅ" is "alice",
// "Alice" and "alice" are one account, and look-alikes from other scripts
// ("аlice" with a Cyrillic а) cannot exist. Any script is welcome in the
// display name instead. Every refusal names the rule and the character.
import { invalidArgument } from '../../runtime/src/errors.js';
import { charProblem, codePointLength, describeChar, problemText } from './characters.js';
import { confusableWith } from './confusables.js';

export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
/** Raw input longer than this is refused before normalisation (NFKC can expand text 18-fold). */
const RAW_MAX = 256;

export interface Username {
  /** As the user wrote it, after NFKC (case kept): shown to people. */
  display: string;
  /** Lower-cased `display`: the unique key in storage. */
  key: string;
}

const ALLOWED_TEXT = "use ASCII letters a-z, digits 0-9, '.', '_' or '-'";

/**
 * Names that would let someone pose as the platform. Compared on the key with
 * separators removed, so "ad.min" and "Sys-Tem" are refused too.
 */
const RESERVED = new Set([
  'admin',
  'administrator',
  'root',
  'system',
  'sysadmin',
  'superuser',
  'support',
  'help',
  'helpdesk',
  'security',
  'moderator',
  'official',
  'staff',
  'service',
  'noreply',
  'postmaster',
  'webmaster',
  'tce',
  'tceplatform',
  'platform',
  'auth',
  'api',
  'me',
  'self',
  'null',
  'undefined',
  'anonymous',
  'everyone',
]);

/**
 * Validates and normalises a username. `field` names the parameter in messages
 * ("username", "user", "info.username"). Throws INVALID_ARGUMENT.
 */
export function parseUsername(raw: unknown, field: string): Username {
  if (typeof raw !== 'string') throw invalidArgument(`${field} must be a string`);
  if (raw.length === 0) throw invalidArgument(`${field} is required`);
  if (raw.length > RAW_MAX) {
    throw invalidArgument(`${field} is too long (${codePointLength(raw)} characters; at most ${USERNAME_MAX})`);
  }
  // On the raw text, in order: invisible and control characters (NFKC keeps most
  // of them) and ASCII punctuation (NFKC never changes ASCII), so the message
  // names the first offending character the user typed.
  for (const ch of raw) {
    const p = charProblem(ch);
    if (p) throw invalidArgument(`${field} contains ${problemText(p, ch)}, which is not allowed; ${ALLOWED_TEXT}`);
    if (ch < '\u0080' && !/[A-Za-z0-9._-]/.test(ch)) {
      throw invalidArgument(`${field} contains ${describeChar(ch)}, which is not allowed; ${ALLOWED_TEXT}`);
    }
  }
  const display = raw.normalize('NFKC');
  for (const ch of display) {
    if (/[A-Za-z0-9._-]/.test(ch)) continue;
    const looksLike = confusableWith(ch);
    if (looksLike) {
      throw invalidArgument(
        `${field} contains ${describeChar(ch)}, which looks like '${looksLike}' but is not ASCII; ${ALLOWED_TEXT}`,
      );
    }
    const p = charProblem(ch); // NFKC can produce spaces (e.g. from U+00A0 variants)
    const what = p ? problemText(p, ch) : describeChar(ch);
    throw invalidArgument(`${field} contains ${what}, which is not allowed; ${ALLOWED_TEXT}`);
  }
  const len = display.length; // ASCII from here on: code units = characters
  if (len < USERNAME_MIN) throw invalidArgument(`${field} is too short (${len} characters; at least ${USERNAME_MIN})`);
  if (len > USERNAME_MAX) throw invalidArgument(`${field} is too long (${len} characters; at most ${USERNAME_MAX})`);
  if (!/^[A-Za-z]/.test(display)) throw invalidArgument(`${field} must start with a letter`);
  if (!/[A-Za-z0-9]$/.test(display)) throw invalidArgument(`${field} must end with a letter or a digit`);
  const run = /[._-]{2}/.exec(display);
  if (run) throw invalidArgument(`${field} must not contain '${run[0]}' (two separators in a row)`);
  return { display, key: display.toLowerCase() };
}

/** Registration refuses reserved names; login does not need to (they cannot exist). */
export function checkNotReserved(name: Username, field: string): void {
  if (RESERVED.has(name.key.replace(/[._-]/g, ''))) throw invalidArgument(`${field} '${name.display}' is reserved`);
}
