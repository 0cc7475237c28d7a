// Shared helpers for the tce2proto tests: compile in-memory sources, and
// locate fixture and tool paths.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, formatDiagnostic, type CompileResult } from '../../../proto/src/compiler.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const fixturesDir = path.join(repoRoot, 'proto', 'test-fixtures');
export const bufBin = path.join(repoRoot, 'node_modules', '.bin', 'buf');

/**
 * Compiles in-memory files. Keys are paths as they would be given on the
 * command line; the first `roots` (default: every key not under an include
 * dir) are the inputs.
 */
export function compileSources(
  sources: Record<string, string>,
  opts: { includeDirs?: string[]; files?: string[] } = {},
): CompileResult {
  const includeDirs = opts.includeDirs ?? [];
  const files = opts.files ?? Object.keys(sources).filter((f) => !includeDirs.some((d) => f.startsWith(`${d}/`)));
  return compile({
    includeDirs,
    files,
    readFile: (p) => (Object.prototype.hasOwnProperty.call(sources, p) ? sources[p] : undefined),
  });
}

/** Diagnostics as the CLI prints them. */
export function errorsOf(r: CompileResult): string[] {
  return r.diagnostics.map(formatDiagnostic);
}

/** The single output of a one-module compile, or a failure listing the diagnostics. */
export function outputOf(r: CompileResult, file: string): string {
  const text = r.outputs.get(file);
  if (text === undefined) {
    throw new Error(
      `no output ${file}; outputs: [${[...r.outputs.keys()].join(', ')}]; errors:\n${errorsOf(r).join('\n')}`,
    );
  }
  return text;
}

export const goldenDir = path.join(fixturesDir, 'golden');

/** Golden case names: directories of proto/test-fixtures/golden with an input/ folder. */
export const goldenCases: string[] = fs
  .readdirSync(goldenDir)
  .filter((d) => fs.existsSync(path.join(goldenDir, d, 'input')))
  .sort();

/** A golden case's inputs: the .idl files of input/ are compiled, its subdirectories are -I dirs. */
export function goldenInputs(name: string): { files: string[]; includeDirs: string[] } {
  const input = path.join(goldenDir, name, 'input');
  const entries = fs.readdirSync(input, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  return {
    files: entries.filter((e) => e.isFile() && e.name.endsWith('.idl')).map((e) => path.join(input, e.name)),
    includeDirs: entries.filter((e) => e.isDirectory()).map((e) => path.join(input, e.name)),
  };
}
