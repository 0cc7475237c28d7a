// Lexer: IDL text -> tokens with 1-based line/column. Bad characters are
// reported once per run and skipped, so the parser always gets a usable stream.
// Columns count UTF-16 code units; only '\n' ends a line ('\r' is whitespace).
import type { Diagnostics, Loc } from './diagnostics.js';

export type TokenKind = 'ident' | 'int' | 'string' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  /** ident: the name; punct: the symbol; int: the digits; string: the decoded value. */
  text: string;
  /** For int tokens. */
  value: number;
  loc: Loc;
  /** Already reported by the lexer (an unterminated string): the parser stays quiet about it. */
  bad?: boolean;
}

export interface LexResult {
  tokens: Token[];
  /** True when characters had to be dropped or a string was cut short. */
  damaged: boolean;
}

const PUNCT = new Set(['{', '}', '(', ')', '[', ']', '<', '>', ',', ';', '=']);

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isIdentPart(c: string): boolean {
  return isIdentStart(c) || isDigit(c);
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\f' || c === '\v';
}

/** A character as it should appear in a message: printable ASCII quoted, the rest as U+XXXX. */
export function showChar(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  if (cp >= 0x21 && cp <= 0x7e) return `'${c}'`;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** How a token is named in "found X" messages. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of file';
    case 'string': {
      const s = t.text.length > 24 ? `${t.text.slice(0, 24)}...` : t.text;
      return `string ${JSON.stringify(s)}`;
    }
    default:
      return `'${t.text}'`;
  }
}

export function lex(source: string, file: string, diags: Diagnostics): LexResult {
  const text = source.startsWith('\uFEFF') ? source.slice(1) : source;
  const tokens: Token[] = [];
  let damaged = false;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const locAt = (pos: number): Loc => ({ file, line, column: pos - lineStart + 1 });
  const push = (kind: TokenKind, tokText: string, start: number, value = 0): void => {
    tokens.push({ kind, text: tokText, value, loc: locAt(start) });
  };

  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (i < text.length && isIdentPart(text[i])) i++;
      push('ident', text.slice(start, i), start);
      continue;
    }
    if (isDigit(c) || (c === '-' && isDigit(text[i + 1] ?? ''))) {
      i++;
      while (i < text.length && isDigit(text[i])) i++;
      const digits = text.slice(start, i);
      const value = Number(digits);
      if (!Number.isSafeInteger(value)) {
        diags.error(locAt(start), `integer literal ${digits} is too large`);
        damaged = true;
      }
      push('int', digits, start, Number.isSafeInteger(value) ? value : 0);
      continue;
    }
    if (c === '"') {
      const loc = locAt(start);
      i++;
      let value = '';
      let closed = false;
      while (i < text.length && text[i] !== '\n') {
        const ch = text[i];
        if (ch === '"') {
          closed = true;
          i++;
          break;
        }
        if (ch === '\\') {
          const next = text[i + 1];
          if (next === '"' || next === '\\') {
            value += next;
            i += 2;
            continue;
          }
          if (next !== undefined && next !== '\n') {
            diags.error(locAt(i), `unknown escape sequence '\\${next}' in string; only \\" and \\\\ are allowed`);
          }
          damaged = true;
          i++;
          continue;
        }
        value += ch;
        i++;
      }
      if (!closed) {
        diags.error(loc, "unterminated string: missing closing '\"' before the end of the line");
        damaged = true;
      }
      tokens.push({ kind: 'string', text: value, value: 0, loc, bad: !closed });
      continue;
    }
    if (c === ':') {
      if (text[i + 1] === ':') {
        i += 2;
        push('punct', '::', start);
      } else {
        i++;
        push('punct', ':', start);
      }
      continue;
    }
    if (PUNCT.has(c)) {
      i++;
      push('punct', c, start);
      continue;
    }
    // One report per run of junk keeps binary or pasted garbage from flooding the output.
    const bad = String.fromCodePoint(text.codePointAt(i) ?? 0);
    diags.error(locAt(start), `unexpected character ${showChar(bad)}`);
    damaged = true;
    while (i < text.length) {
      const d = text[i];
      if (isSpace(d) || isIdentPart(d) || PUNCT.has(d) || d === '"' || d === ':' || d === '#' || d === '/') break;
      i++;
    }
    if (i === start) i++;
  }
  tokens.push({ kind: 'eof', text: '', value: 0, loc: locAt(i) });
  return { tokens, damaged };
}
