// Password policy after NIST SP 800-63B §5.1.1: length matters, composition
// rules do not. 8–128 characters of any script (spaces included), normalised
// with NFKC so the same password typed on different keyboards matches; refused
// when common, a run of one character or a keyboard/alphabet sequence, or when
// it contains the username. Messages never echo the password.
import { invalidArgument } from '../../runtime/src/errors.js';
import { codePointLength, describeChar } from './characters.js';
import type { Username } from './username.js';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
/** Login accepts longer input than registration allows, but not unbounded: hashing it costs CPU. */
export const LOGIN_PASSWORD_MAX = 1024;

/** The most used passwords of at least 8 characters (public breach corpora, lower-cased). */
const COMMON = new Set(
  `password password1 password12 password123 password! passw0rd p@ssw0rd p@ssword 12345678 123456789 1234567890
  12345678910 987654321 11111111 00000000 88888888 66666666 qwertyui qwertyuiop qwerty123 qwerty12 1qaz2wsx
  1q2w3e4r 1q2w3e4r5t zaq12wsx asdfghjk asdfghjkl zxcvbnm1 iloveyou iloveyou1 princess sunshine football
  baseball superman batman123 starwars whatever trustno1 letmein1 letmein! welcome1 welcome123 abc12345
  abcd1234 admin123 administrator changeme changeme1 computer internet michael1 jennifer jordan23 dragon12
  monkey12 master12 shadow12 freedom1 charlie1 liverpool chelsea1 arsenal1 qwer1234 aa123456 a1234567
  1234qwer 123qweasd qweasdzxc 123abc123 password2 passport secret12 default1 guest123 test1234 testtest
  hello123 helloworld loveyou1 nicole12 daniel12 michelle samsung1 google123 facebook linkedin access14
  mustang1 corvette jessica1 ashley12 9876543210 147258369 159753456 woaini1314 5201314520 a12345678`
    .split(/\s+/)
    .filter(Boolean),
);

const SEQUENCES = ['abcdefghijklmnopqrstuvwxyz', '01234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm'];

/** True when `s` (lower-cased) is a stretch of one of the sequences, forwards or backwards. */
function isSequence(s: string): boolean {
  for (const seq of SEQUENCES) {
    const rev = [...seq].reverse().join('');
    if (seq.includes(s) || rev.includes(s)) return true;
  }
  return false;
}

function checkCommonShape(pw: string, field: string): void {
  const chars = [...pw];
  if (chars.every((c) => c === chars[0])) throw invalidArgument(`${field} must not be one character repeated`);
  const lower = pw.toLowerCase();
  if (COMMON.has(lower)) throw invalidArgument(`${field} is too common; choose a less guessable one`);
  if (isSequence(lower))
    throw invalidArgument(`${field} must not be a simple sequence such as 'abcdefgh' or '12345678'`);
}

function checkText(raw: unknown, field: string, max: number): string {
  if (typeof raw !== 'string') throw invalidArgument(`${field} must be a string`);
  if (raw.length === 0) throw invalidArgument(`${field} is required`);
  // raw.length counts UTF-16 units ≥ code points, so this bound is safe to test first.
  if (raw.length > max * 2 || codePointLength(raw) > max) {
    throw invalidArgument(`${field} is too long (${codePointLength(raw)} characters; at most ${max})`);
  }
  for (const ch of raw) {
    // Control characters and lone surrogates cannot be typed and do not survive every client.
    if (/[\p{Cc}\p{Cs}]/u.test(ch)) throw invalidArgument(`${field} contains a control character ${describeChar(ch)}`);
  }
  return raw.normalize('NFKC');
}

/** A new password (registration, change): the full policy. Returns the normalised password. */
export function checkNewPassword(raw: unknown, username: Username, field: string): string {
  const pw = checkText(raw, field, PASSWORD_MAX);
  const n = codePointLength(pw);
  if (n < PASSWORD_MIN) throw invalidArgument(`${field} is too short (${n} characters; at least ${PASSWORD_MIN})`);
  checkCommonShape(pw, field);
  if (pw.toLowerCase().includes(username.key)) throw invalidArgument(`${field} must not contain the username`);
  return pw;
}

/** A password offered at login: only its shape, so policy changes never lock out old accounts. */
export function checkLoginPassword(raw: unknown, field: string): string {
  return checkText(raw, field, LOGIN_PASSWORD_MAX);
}
