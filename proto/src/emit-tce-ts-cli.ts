// Build step used by scripts/gen-proto.sh: model.json → <Module>.tce.ts files.
import fs from 'node:fs';
import path from 'node:path';
import type { IdlModel } from './compiler.js';
import { emitTceLayer } from './emit-tce-ts.js';

const [modelFile, outDir] = process.argv.slice(2);
if (!modelFile || !outDir) {
  console.error('usage: emit-tce-ts-cli <model.json> <out dir>');
  process.exit(2);
}
const model = JSON.parse(fs.readFileSync(modelFile, 'utf8')) as IdlModel;
for (const [name, text] of emitTceLayer(model)) fs.writeFileSync(path.join(outDir, name), text);
