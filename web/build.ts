// Builds the web client into web/dist/ (gitignored), which nginx serves at /:
// index.html and app.css as they are, src/app.ts bundled with esbuild for
// browsers (`ws` stays external: the SDK imports it only under Node).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'dist');

export async function buildWeb(opts: { minify?: boolean } = {}): Promise<string> {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [path.join(here, 'src', 'app.ts')],
    outfile: path.join(out, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    external: ['ws'],
    sourcemap: true,
    minify: opts.minify ?? true,
    logLevel: 'warning',
  });
  for (const f of ['index.html', 'app.css']) fs.copyFileSync(path.join(here, f), path.join(out, f));
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = await buildWeb();
  const size = fs.statSync(path.join(dir, 'app.js')).size;
  console.log(`web client built: ${path.relative(process.cwd(), dir)}/ (app.js ${(size / 1024).toFixed(0)} KiB)`);
}
