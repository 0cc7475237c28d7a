// Describing and classifying single characters for precise error messages:
// a message must say which character was refused and why, without echoing
// invisible or control characters raw into logs or client UIs.

/** `'$' (U+0024)` for printable characters, `U+200B` for invisible ones. */
export function describeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const u = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  if (/[\p{C}\p{Z}]/u.test(ch)) return u;
  return `'${ch}' (${u})`;
}

export type CharProblem = 'control' | 'invisible' | 'space' | 'surrogate' | 'unassigned';

/**
 * Characters no identifier or free-text field accepts: controls (C0, C1, DEL),
 * lone surrogates (invalid UTF-16), unassigned and private-use code points.
 * Format characters (zero-width, bidi overrides) are reported as 'invisible'
 * and separators as 'space', so callers can allow the few they want.
 */
export function charProblem(ch: string): CharProblem | undefined {
  if (/\p{Cc}/u.test(ch)) return 'control';
  if (/\p{Cs}/u.test(ch)) return 'surrogate';
  if (/[\p{Co}\p{Cn}]/u.test(ch)) return 'unassigned';
  if (/\p{Cf}/u.test(ch)) return 'invisible';
  if (/[\p{Z}\s]/u.test(ch)) return 'space';
  return undefined;
}

const PROBLEM_TEXT: Record<CharProblem, string> = {
  control: 'a control character',
  invisible: 'an invisible formatting character',
  space: 'a space',
  surrogate: 'an unpaired surrogate (invalid text)',
  unassigned: 'an unassigned or private-use character',
};

export function problemText(p: CharProblem, ch: string): string {
  return `${PROBLEM_TEXT[p]} ${describeChar(ch)}`;
}

/** Length in code points (what a user counts), not UTF-16 units. */
export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
