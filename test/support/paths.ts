// Where the repository keeps binaries and runtime state (.cache/ is gitignored).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cacheDir = path.join(repoRoot, '.cache');
export const binDir = path.join(cacheDir, 'bin');

/** Path of an installed test-infrastructure binary, or a clear error saying how to get it. */
export function bin(name: string): string {
  const p = path.join(binDir, name);
  if (!fs.existsSync(p)) {
    throw new Error(`${name} is not installed at ${p}; run 'make deps' (or 'scripts/install-infra.sh') first`);
  }
  return p;
}
