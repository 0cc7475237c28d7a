// `make crd`: writes the generated CRD to crds/ and to the chart's crds/,
// formatted by prettier (as `make lint` checks every YAML file). A dev tool:
// the operator itself never runs it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import prettier from 'prettier';
import { platformCrdYaml } from './crd.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where the CRD lives: the single source, and the chart's copy (helm installs a chart's crds/). */
export const CRD_FILES = ['crds/platforms.tce.dev.yaml', 'charts/tce-platform/crds/platforms.tce.dev.yaml'];

/** The file content: the generated YAML as prettier formats it. */
export async function renderCrdFile(root = repoRoot): Promise<string> {
  const file = path.join(root, CRD_FILES[0]!);
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(platformCrdYaml(), { ...options, filepath: file });
}

export async function writeCrdFiles(root = repoRoot): Promise<string[]> {
  const text = await renderCrdFile(root);
  for (const f of CRD_FILES) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), text);
  }
  return CRD_FILES;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const f of await writeCrdFiles()) process.stdout.write(`wrote ${f}\n`);
}
