// Profiling helper (not part of make; run it under the bench lock): one unit
// process, N users ingested through ingest(), then `nearby` (1 km, 50) from C
// concurrent callers for S seconds. PROF=1 starts the unit with --cpu-prof
// (profiles in /tmp/locprof; NODE_OPTIONS may not carry --cpu-prof, hence
// startProcess instead of startService). B = TCE_LOCATION_BATCH_POINTS.
// M=many: the callers' queries go through a CallBatcher as nearbyMany calls.
//   PROF=1 N=100000 S=5 flock /tmp/bench.lock npx tsx bench/location/profile-run.ts
import { ILocationUnitProxy } from '../../proto/gen/ts/location.tce.js';
import { CallBatcher } from '../../services/runtime/src/call-batcher.js';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, startProcess, startStore, waitFor } from '../../test/support/index.js';
import { LAT0, LON0, SQ_LAT, SQ_LON, benchUsers, seededRandom } from './data.js';

const USERS = Number(process.env.N ?? 100_000);
const SECONDS = Number(process.env.S ?? 5);
const CONC = Number(process.env.C ?? 16);
const rnd = seededRandom();
const users = benchUsers(USERS, rnd);
const store = await startStore();
const port = await freePort();
const ops = await freePort();
const unitProc = startProcess({
  name: 'location-unit',
  command: process.execPath,
  args: [
    ...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/locprof'] : []),
    '--import',
    'tsx',
    path.join('services', 'location-unit', 'src', 'main.ts'),
  ],
  env: {
    TCE_BIND_HOST: '127.0.0.1',
    TCE_LOG_LEVEL: 'warn',
    TCE_OPS_PORT: String(ops),
    TCE_MONGO_URL: store.url,
    TCE_GRPC_PORT: String(port),
    TCE_ADVERTISE_ADDR: `127.0.0.1:${port}`,
    TCE_LOCATION_PARTITIONS: '0-63',
    TCE_GPS_PARTITIONS: '64',
    TCE_LOCATION_BATCH_POINTS: process.env.B ?? '5000',
  },
  cwd: process.cwd(),
});
await waitFor('ready', async () => (await fetch(`http://127.0.0.1:${ops}/readyz`)).status === 200, {
  timeoutMs: 60_000,
  intervalMs: 100,
});
const unit = { stop: () => unitProc.stop(10_000) };
try {
  const px = new ILocationUnitProxy(`127.0.0.1:${port}`);
  let t = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      while (next < USERS) {
        const b = users.slice(next, (next += 5000));
        await px.ingest(b, { timeout: 600_000 });
      }
    }),
  );
  console.log('ingest points/s', Math.round(USERS / ((Date.now() - t) / 1000)));
  // Queries on a quiet unit: wait until the compactor has caught up.
  await waitFor(
    'compaction',
    async () =>
      /^tce_location_compaction_backlog_points(\{[^}]*\})? 0$/m.test(
        await (await fetch(`http://127.0.0.1:${ops}/metrics`)).text(),
      ),
    { timeoutMs: 600_000, intervalMs: 1000 },
  );
  // CPU time per query on each side: comparable between runs even when other work shares the cores.
  const unitCpu = (): number => {
    const f = fs.readFileSync(`/proc/${unitProc.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) / 100) * 1e6; // utime + stime, clock ticks of 10 ms → µs
  };
  const batcher = new CallBatcher((qs: { lon: number; lat: number; radius_m: number; limit: number }[]) =>
    px.nearbyMany(qs),
  );
  const nearby = (lon: number, lat: number) =>
    process.env.M === 'many' ? batcher.submit({ lon, lat, radius_m: 1000, limit: 50 }) : px.nearby(lon, lat, 1000, 50);
  const unit0 = unitCpu();
  const client0 = process.cpuUsage();
  t = Date.now();
  let n = 0;
  const end = t + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (Date.now() < end) {
        await nearby(LON0 + rnd() * SQ_LON, LAT0 + rnd() * SQ_LAT);
        n++;
      }
    }),
  );
  console.log('nearby ops/s', Math.round(n / ((Date.now() - t) / 1000)));
  const client = process.cpuUsage(client0);
  console.log(
    'nearby CPU µs/query: unit',
    Math.round((unitCpu() - unit0) / n),
    'client',
    Math.round((client.user + client.system) / n),
  );
  px.close();
} finally {
  await unit.stop();
  await store.stop();
}
process.exit(0);
