// Range requests (RFC 9110 §14): one byte range per request. Decided here,
// purely, before any store access, so refused ranges cost no I/O.
//
// Choices (documented in docs/file-service.md):
// - a unit other than `bytes` is ignored (full 200), as the RFC requires;
// - a malformed `bytes=` value, more than one range, or an unsatisfiable one is
//   answered 416 — more than one range is refused rather than served as
//   multipart/byteranges, because many/overlapping ranges are the classic
//   amplification attack and no client of ours needs them;
// - a zero-length representation ignores Range (the RFC allows it): 200, empty.

export type RangeDecision =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number } // inclusive
  | { kind: 'unsatisfiable'; reason: string };

const MAX_HEADER = 200;

export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  const eq = header.indexOf('=');
  const unit = (eq < 0 ? header : header.slice(0, eq)).trim().toLowerCase();
  if (unit !== 'bytes') return { kind: 'full' };
  if (size === 0) return { kind: 'full' };
  if (header.length > MAX_HEADER) return { kind: 'unsatisfiable', reason: 'range header too long' };
  const spec = header.slice(eq + 1).trim();
  if (spec.includes(',')) return { kind: 'unsatisfiable', reason: 'only a single range is supported' };
  const m = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'unsatisfiable', reason: 'malformed range' };
  const [, first, last] = m as unknown as [string, string, string];
  if (first === '') {
    // Suffix range: the last N bytes (all of them when the file is shorter).
    const n = Number(last);
    if (!Number.isSafeInteger(n)) return { kind: 'unsatisfiable', reason: 'malformed range' };
    if (n === 0) return { kind: 'unsatisfiable', reason: 'empty suffix range' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start)) return { kind: 'unsatisfiable', reason: 'malformed range' };
  let end = size - 1;
  if (last !== '') {
    const e = Number(last);
    if (!Number.isSafeInteger(e) || e < start) return { kind: 'unsatisfiable', reason: 'malformed range' };
    end = Math.min(e, size - 1);
  }
  if (start >= size) return { kind: 'unsatisfiable', reason: 'range starts beyond the end' };
  return { kind: 'partial', start, end };
}

/** If-Range with a strong ETag: the range applies only if the validator still matches. */
export function ifRangeAllows(ifRange: string | undefined, etag: string): boolean {
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  // A date validator cannot be strong enough for our purposes; only our ETag counts.
  return v === etag;
}

/** If-None-Match (weak comparison, RFC 9110 §13.1.2): true when a listed tag matches. */
export function noneMatchHits(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const v = ifNoneMatch.trim();
  if (v === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return v.split(',').some((t) => t.trim().replace(/^W\//, '') === opaque);
}
