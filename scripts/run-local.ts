// `make run`: the whole platform as local processes behind nginx, until Ctrl-C.
import fs from 'node:fs';
import path from 'node:path';
import { isAlive } from '../test/support/processes.js';
import { cacheDir, repoRoot } from '../test/support/paths.js';
import { startLocalPlatform } from './local/launcher.js';

const dir = path.join(cacheDir, 'local');
const lock = path.join(dir, 'run.pid');

async function main(): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  if (fs.existsSync(lock)) {
    const pid = Number(fs.readFileSync(lock, 'utf8'));
    if (pid && isAlive(pid)) {
      console.error(
        `The local platform is already running (pid ${pid}); endpoints: ${path.join(dir, 'endpoints.json')}`,
      );
      process.exit(1);
    }
  }
  fs.writeFileSync(lock, String(process.pid));
  fs.rmSync(path.join(dir, 'logs'), { recursive: true, force: true });
  fs.rmSync(path.join(dir, 'store'), { recursive: true, force: true });
  const t0 = Date.now();
  const webRoot = path.join(repoRoot, 'web', 'dist');
  const platform = await startLocalPlatform({
    dir,
    webRoot: fs.existsSync(webRoot) ? webRoot : undefined,
    progress: (l) => console.log(`--> ${l}`),
  });
  console.log(`\n==> tce-platform is up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`    open ${platform.endpoints.http}/   (WebSocket ${platform.endpoints.ws})`);
  console.log(`    endpoints: ${path.join(dir, 'endpoints.json')}   logs: ${path.join(dir, 'logs')}/`);
  if (platform.missing.length) console.log(`    not built yet: ${platform.missing.join(', ')}`);
  console.log('    Ctrl-C stops everything.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  console.log('\n==> stopping');
  await platform.stop();
  fs.rmSync(lock, { force: true });
  console.log('==> stopped');
}

main().catch((err: unknown) => {
  fs.rmSync(lock, { force: true });
  console.error(`make run failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
