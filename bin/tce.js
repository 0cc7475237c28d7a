#!/usr/bin/env node
// tce launcher: the compiled CLI when built (dist/), else the TypeScript source via tsx.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'sdk', 'src', 'cli', 'main.js');
let mod;
if (existsSync(built)) {
  mod = await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import(join(root, 'sdk', 'src', 'cli', 'main.ts'));
}
process.exitCode = await mod.main(process.argv.slice(2));
