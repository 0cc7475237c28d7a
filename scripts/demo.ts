// `make demo`: the platform's main job, locally. The services are being built
// issue by issue; until they exist this starts the real store and control plane
// and says plainly which parts are not built yet.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../test/support/paths.js';
import { startStore } from '../test/support/store.js';
import { startCluster } from '../test/support/cluster.js';

const PARTS = ['gateway', 'mq', 'auth', 'location-unit', 'file-service'];

async function main(): Promise<void> {
  const once = process.argv.includes('--once');
  console.log('==> tce-platform demo');
  console.log('--> starting the store (FerretDB, MongoDB wire protocol)');
  const store = await startStore();
  console.log(`    store ready at ${store.url}`);
  console.log('--> starting a Kubernetes control plane (etcd + kube-apiserver + kube-controller-manager)');
  const cluster = await startCluster();
  console.log(`    API server ready at ${cluster.server}`);
  const missing = PARTS.filter((p) => !fs.existsSync(path.join(repoRoot, 'services', p, 'src', 'main.ts')));
  for (const p of PARTS) console.log(`    ${missing.includes(p) ? 'not built yet' : 'available    '}  ${p}`);
  if (!once) {
    console.log('Press Ctrl-C to stop.');
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
  await cluster.stop();
  await store.stop();
  console.log('==> stopped everything');
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
