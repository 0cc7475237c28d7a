// Loader: reads the given files and, transitively, their imports. `import X`
// looks for X.idl next to the importing file, then in each include directory
// in order. Each file is parsed once (keyed by its resolved path), so
// duplicate and cyclic imports are harmless.
import path from 'node:path';
import type { FileNode } from './ast.js';
import type { Diagnostics, Loc } from './diagnostics.js';
import { lex } from './lexer.js';
import { parse } from './parser.js';

export type ReadFile = (file: string) => string | undefined;

export interface LoadResult {
  /** Parsed files in load order (each given file, then its imports depth-first). */
  files: FileNode[];
  /** False if a file was unreadable, an import unresolved, or a syntax error forced input to be skipped. */
  complete: boolean;
}

export function load(
  roots: readonly string[],
  includeDirs: readonly string[],
  read: ReadFile,
  diags: Diagnostics,
): LoadResult {
  const files: FileNode[] = [];
  const seen = new Set<string>();
  let complete = true;

  const visit = (file: string, text: string): void => {
    const lexed = lex(text, file, diags);
    const parsed = parse(lexed.tokens, file, diags);
    if (lexed.damaged || !parsed.complete) complete = false;
    files.push(parsed.ast);
    for (const imp of parsed.ast.imports) {
      const found = locate(imp.name.text, file);
      if (!found) {
        diags.error(
          imp.loc,
          `unresolved import '${imp.name.text}': ${imp.name.text}.idl not found next to the importing file or in any -I directory`,
        );
        complete = false;
        continue;
      }
      if (found.key !== undefined) {
        seen.add(found.key);
        visit(found.file, found.text);
      }
    }
  };

  /** key is undefined when the file was already loaded. */
  const locate = (name: string, from: string): { file: string; key?: string; text: string } | undefined => {
    const candidates = [path.dirname(from), ...includeDirs].map((d) => path.join(d, `${name}.idl`));
    for (const file of candidates) {
      const key = path.resolve(file);
      if (seen.has(key)) return { file, text: '' };
      const text = read(file);
      if (text !== undefined) return { file, key, text };
    }
    return undefined;
  };

  for (const root of roots) {
    const key = path.resolve(root);
    if (seen.has(key)) continue;
    const text = read(root);
    if (text === undefined) {
      const at: Loc = { file: root, line: 1, column: 1 };
      diags.error(at, `cannot read file '${root}'`);
      complete = false;
      continue;
    }
    seen.add(key);
    visit(root, text);
  }
  return { files, complete };
}
