// `make store-up|store-down|cluster-up|cluster-down`: start the real parts in the
// background for manual use and other tools; state lives in .cache/{store,cluster}/.
import fs from 'node:fs';
import path from 'node:path';
import { cacheDir } from '../test/support/paths.js';
import { removeStoreData, startStore } from '../test/support/store.js';
import { startCluster } from '../test/support/cluster.js';
import { isAlive, stopPid } from '../test/support/processes.js';

interface State {
  pids: number[];
  dataDir: string;
}

const storeDir = path.join(cacheDir, 'store');
const clusterDir = path.join(cacheDir, 'cluster');

function readState(dir: string): State | undefined {
  const f = path.join(dir, 'state.json');
  return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as State) : undefined;
}

async function down(dir: string, what: string): Promise<void> {
  const state = readState(dir);
  if (!state) {
    console.log(`${what} is not running (no ${path.join(dir, 'state.json')})`);
    return;
  }
  for (const pid of [...state.pids].reverse()) await stopPid(pid);
  if (dir === storeDir) removeStoreData(state.dataDir);
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`${what} stopped and its data removed`);
}

async function storeUp(): Promise<void> {
  const state = readState(storeDir);
  if (state && state.pids.every(isAlive)) {
    console.log(`store already running: ${fs.readFileSync(path.join(storeDir, 'url'), 'utf8').trim()}`);
    return;
  }
  if (state) await down(storeDir, 'stale store');
  fs.mkdirSync(storeDir, { recursive: true });
  console.log('==> Starting PostgreSQL and FerretDB (its PostgreSQL backend) on free loopback ports');
  const store = await startStore({
    dataDir: path.join(storeDir, 'data'),
    logFile: path.join(storeDir, 'ferretdb.log'),
    daemon: true,
  });
  fs.writeFileSync(path.join(storeDir, 'url'), `${store.url}\n`);
  const s: State = { pids: store.processes.map((p) => p.pid ?? 0), dataDir: store.dataDir };
  fs.writeFileSync(path.join(storeDir, 'state.json'), JSON.stringify(s));
  console.log(`store ready: ${store.url} (written to .cache/store/url; stop with 'make store-down')`);
}

async function clusterUp(): Promise<void> {
  const state = readState(clusterDir);
  if (state && state.pids.every(isAlive)) {
    console.log(`control plane already running; KUBECONFIG=${path.join(clusterDir, 'kubeconfig')}`);
    return;
  }
  if (state) await down(clusterDir, 'stale control plane');
  fs.mkdirSync(clusterDir, { recursive: true });
  const t0 = Date.now();
  console.log('==> Starting etcd, kube-apiserver and kube-controller-manager');
  const cluster = await startCluster({ dir: clusterDir, daemon: true });
  const s: State = { pids: cluster.processes.map((p) => p.pid ?? 0), dataDir: clusterDir };
  fs.writeFileSync(path.join(clusterDir, 'state.json'), JSON.stringify(s));
  console.log(`control plane ready at ${cluster.server} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`export KUBECONFIG=${cluster.kubeconfig}   # stop with 'make cluster-down'`);
}

async function main(argv: string[]): Promise<void> {
  const [what, action] = argv;
  if (what === 'store' && action === 'up') return storeUp();
  if (what === 'store' && action === 'down') return down(storeDir, 'store');
  if (what === 'cluster' && action === 'up') return clusterUp();
  if (what === 'cluster' && action === 'down') return down(clusterDir, 'control plane');
  throw new Error('usage: tsx scripts/infra.ts store|cluster up|down');
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`ERROR: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
