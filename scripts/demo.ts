// `make demo`: the platform's main job, locally. Starts the whole platform
// (store, mq, auth, 3 location units, 2 file services, 2 gateways, nginx), then
// narrates the scenario in scripts/local/scenario.ts step by step through the
// device SDK. `--once` stops afterwards and exits 0 only when every step
// checked out; without it the platform keeps running for the web client and
// the `tce` CLI until Ctrl-C.
import fs from 'node:fs';
import path from 'node:path';
import { isAlive } from '../test/support/processes.js';
import { cacheDir, repoRoot } from '../test/support/paths.js';
import { startLocalPlatform, type LocalPlatform } from './local/launcher.js';
import { runScenario } from './local/scenario.js';

async function main(): Promise<number> {
  const once = process.argv.includes('--once');
  const dir = path.join(cacheDir, once ? 'demo-once' : 'local');
  const lock = path.join(cacheDir, 'local', 'run.pid');
  const pid = fs.existsSync(lock) ? Number(fs.readFileSync(lock, 'utf8')) : 0;
  if (!once && pid && isAlive(pid)) {
    console.error(`The local platform is already running (pid ${pid}, make run); stop it first or use ARGS=--once.`);
    return 1;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const webRoot = path.join(repoRoot, 'web', 'dist');
  console.log('==> tce-platform demo: starting the whole platform as local processes');
  const t0 = Date.now();
  let platform: LocalPlatform | undefined;
  const stop = async (): Promise<void> => {
    const p = platform;
    platform = undefined;
    await p?.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    platform = await startLocalPlatform({
      dir,
      logLevel: 'warn',
      webRoot: fs.existsSync(webRoot) ? webRoot : undefined,
      progress: (l) => console.log(`    ${l}`),
    });
    console.log(`==> platform up in ${((Date.now() - t0) / 1000).toFixed(1)} s — ${platform.endpoints.http}/`);
    const result = await runScenario(platform, { say: (l) => console.log(l) });
    console.log('\n==> summary');
    for (const s of result.steps) console.log(`    ${s.ok ? 'ok    ' : 'FAILED'}  ${s.title}`);
    console.log(
      result.ok
        ? '==> every step checked out'
        : '==> some steps failed (see above; logs in ' + path.join(dir, 'logs') + '/)',
    );
    if (!once) {
      console.log(
        `\n    The platform keeps running: open ${platform.endpoints.http}/ (web client), WebSocket ${platform.endpoints.ws}`,
      );
      console.log(
        `    endpoints: ${path.join(dir, 'endpoints.json')}   logs: ${path.join(dir, 'logs')}/   Ctrl-C stops everything.`,
      );
      await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
    }
    await stop();
    return result.ok ? 0 : 1;
  } catch (err) {
    await stop();
    throw err;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
