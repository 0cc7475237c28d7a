// Diagnostics: the one error type every phase reports into, plus the
// bookkeeping (per-file caps, stable ordering) that keeps output readable when
// an input is badly broken.

/** A compile error. line and column are 1-based. */
export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** A point in a source file. */
export interface Loc {
  file: string;
  line: number;
  column: number;
}

/** "path/file.idl:LINE:COLUMN: message" — the format editors and CI annotate. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.message}`;
}

/** Beyond this many errors in one file the rest is almost always follow-on noise. */
const MAX_PER_FILE = 50;

/** Collects diagnostics from all phases; order is fixed later by `sorted`. */
export class Diagnostics {
  private readonly items: Diagnostic[] = [];

  error(at: Loc, message: string): void {
    this.items.push({ file: at.file, line: at.line, column: at.column, message });
  }

  get count(): number {
    return this.items.length;
  }

  /**
   * Diagnostics grouped by file (in the given file order, unknown files last),
   * then by position, without exact duplicates, capped per file.
   */
  sorted(fileOrder: readonly string[]): Diagnostic[] {
    const rank = new Map<string, number>();
    fileOrder.forEach((f, i) => {
      if (!rank.has(f)) rank.set(f, i);
    });
    const seen = new Set<string>();
    const unique = this.items.filter((d) => {
      const key = formatDiagnostic(d);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const indexed = unique.map((d, i) => ({ d, i }));
    indexed.sort(
      (a, b) =>
        (rank.get(a.d.file) ?? fileOrder.length) - (rank.get(b.d.file) ?? fileOrder.length) ||
        a.d.file.localeCompare(b.d.file) ||
        a.d.line - b.d.line ||
        a.d.column - b.d.column ||
        a.i - b.i,
    );
    const out: Diagnostic[] = [];
    const perFile = new Map<string, number>();
    for (const { d } of indexed) {
      const n = (perFile.get(d.file) ?? 0) + 1;
      perFile.set(d.file, n);
      if (n <= MAX_PER_FILE) out.push(d);
      else if (n === MAX_PER_FILE + 1) {
        out.push({ ...d, message: 'too many errors; further errors in this file are not reported' });
      }
    }
    return out;
  }
}
