// make bench-location: the location units against Redis GEOSEARCH on the same
// data and queries, in one run. Users are spread uniformly over a 50 km square;
// `nearby` asks 1 km, 50 results. Prints ingest points/s, nearby p50/p99 and
// ops/s, scaling with 1, 2 and 4 units, and the ratios.
//   LOCATION_BENCH_USERS (default 1000000), LOCATION_BENCH_SECONDS (default 5 per measurement)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ILocationUnitProxy } from '../../proto/gen/ts/location.tce.js';
import { GridIndex } from '../../services/location-unit/src/grid-index.js';
import {
  freePort,
  startService,
  startStore,
  waitFor,
  canConnect,
  type ServiceProcess,
} from '../../test/support/index.js';
import { Resp } from './resp.js';

const USERS = Number(process.env.LOCATION_BENCH_USERS ?? 1_000_000);
const SECONDS = Number(process.env.LOCATION_BENCH_SECONDS ?? 5);
const PARTITIONS = 64;
const LON0 = 8.3;
const LAT0 = 47.2;
const SQ_LON = 50_000 / (111_320 * Math.cos(((LAT0 + 0.225) * Math.PI) / 180));
const SQ_LAT = 50_000 / 110_574;

let seed = 1;
const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const now = Date.now();
const users = Array.from({ length: USERS }, (_, i) => ({
  user_id: `u${i}`,
  lon: LON0 + rnd() * SQ_LON,
  lat: LAT0 + rnd() * SQ_LAT,
  time: now - 1000,
  speed: 0,
  direction: 0,
}));
const queries = Array.from({ length: 10_000 }, () => [LON0 + rnd() * SQ_LON, LAT0 + rnd() * SQ_LAT] as const);

interface Lat {
  ops: number;
  p50: number;
  p99: number;
}

/** Runs `call` from `conc` loops for SECONDS; latency percentiles in ms. */
async function measure(conc: number, call: (i: number) => Promise<unknown>): Promise<Lat> {
  const lat: number[] = [];
  const end = Date.now() + SECONDS * 1000;
  let i = 0;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (Date.now() < end) {
        const t = process.hrtime.bigint();
        await call(i++);
        lat.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return {
    ops: lat.length / SECONDS,
    p50: lat[Math.floor(lat.length * 0.5)]!,
    p99: lat[Math.floor(lat.length * 0.99)]!,
  };
}

const rows: string[][] = [];
const row = (...c: (string | number)[]): void => {
  rows.push(c.map((x) => (typeof x === 'number' ? (x >= 100 ? Math.round(x).toLocaleString('en') : x.toFixed(3)) : x)));
};

async function benchIndex(): Promise<number> {
  const ix = new GridIndex();
  let t = process.hrtime.bigint();
  for (const u of users) ix.upsert(u.user_id, 0, u.lon, u.lat, u.time);
  const ins = USERS / (Number(process.hrtime.bigint() - t) / 1e9);
  t = process.hrtime.bigint();
  let n = 0;
  const end = Date.now() + SECONDS * 1000;
  while (Date.now() < end) {
    const [lon, lat] = queries[n++ % queries.length]!;
    ix.nearby(lon, lat, 1000, 50, 0, () => true);
  }
  const ops = n / (Number(process.hrtime.bigint() - t) / 1e9);
  row('grid index in process (1 core)', ins, ops, '', '');
  return ops;
}

async function benchRedis(): Promise<{ ingest: number; q: Lat } | undefined> {
  if (!fs.existsSync('/usr/bin/redis-server')) {
    row('redis-server', 'not installed (apt-get install redis-server)', '', '', '');
    return undefined;
  }
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-bench-redis-'));
  const proc = spawn(
    '/usr/bin/redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  try {
    await waitFor('redis-server', () => canConnect(port), { timeoutMs: 10_000 });
    const r = await Resp.connect(port);
    let t = process.hrtime.bigint();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < USERS; i += 1000) {
      const args: (string | number)[] = ['GEOADD', 'gps'];
      for (const u of users.slice(i, i + 1000)) args.push(u.lon, u.lat, u.user_id);
      pending.push(r.call(...args));
      if (pending.length >= 16) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    const ingest = USERS / (Number(process.hrtime.bigint() - t) / 1e9);
    t = process.hrtime.bigint();
    const q = await measure(16, (i) => {
      const [lon, lat] = queries[i % queries.length]!;
      return r.call('GEOSEARCH', 'gps', 'FROMLONLAT', lon, lat, 'BYRADIUS', 1000, 'm', 'ASC', 'COUNT', 50, 'WITHDIST');
    });
    r.close();
    row('redis GEOADD (pipelined, 1000/cmd) / GEOSEARCH', ingest, q.ops, q.p50, q.p99);
    return { ingest, q };
  } finally {
    proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function benchUnits(n: number, storeUrl: string): Promise<{ ingest: number; q: Lat }> {
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const per = PARTITIONS / n;
  const units: ServiceProcess[] = [];
  try {
    for (let i = 0; i < n; i++) {
      units.push(
        await startService({
          name: 'location-unit',
          env: {
            TCE_MONGO_URL: storeUrl,
            TCE_GRPC_PORT: String(ports[i]),
            TCE_ADVERTISE_ADDR: `127.0.0.1:${ports[i]}`,
            TCE_LOCATION_PEERS: ports.map((p) => `127.0.0.1:${p}`).join(','),
            TCE_LOCATION_PARTITIONS: `${i * per}-${(i + 1) * per - 1}`,
            TCE_GPS_PARTITIONS: String(PARTITIONS),
            TCE_LOCATION_BATCH_POINTS: '5000',
          },
          timeoutMs: 600_000,
        }),
      );
    }
    const proxies = ports.map((p) => new ILocationUnitProxy(`127.0.0.1:${p}`));
    // Direct ingest: each batch to every unit, each keeps its own partitions; durable on return.
    const t = process.hrtime.bigint();
    const batches: (typeof users)[] = [];
    for (let i = 0; i < USERS; i += 5000) batches.push(users.slice(i, i + 5000).map((u) => ({ ...u, time: now + n })));
    let next = 0;
    await Promise.all(
      Array.from({ length: 2 }, async () => {
        while (next < batches.length) {
          const b = batches[next++]!;
          await Promise.all(proxies.map((p) => p.ingest(b, { timeout: 600_000 })));
        }
      }),
    );
    const ingest = USERS / (Number(process.hrtime.bigint() - t) / 1e9);
    const q = await measure(16, async (i) => {
      const [lon, lat] = queries[i % queries.length]!;
      const r = await proxies[i % proxies.length]!.nearby(lon, lat, 1000, 50);
      if (r.partial) throw new Error('partial answer in the benchmark');
    });
    row(`location units ×${n} (ingest() durable / nearby via gRPC)`, ingest, q.ops, q.p50, q.p99);
    for (const p of proxies) p.close();
    return { ingest, q };
  } finally {
    await Promise.all(units.map((u) => u.stop()));
  }
}

async function main(): Promise<void> {
  console.log(
    `location benchmark: ${USERS.toLocaleString('en')} users in a 50 km square; nearby 1 km, limit 50; ${SECONDS} s per measurement; ${os.cpus().length} cores\n`,
  );
  const index = await benchIndex();
  const redis = await benchRedis();
  row('tile38', 'not available: the Go module proxy answers 403 for github.com/tidwall/tile38', '', '', '');
  row('gateway → mq → unit ingest', 'not measured: the gateway service does not exist yet', '', '', '');
  const units: Record<number, { ingest: number; q: Lat }> = {};
  for (const n of [1, 2, 4]) {
    const store = await startStore();
    try {
      units[n] = await benchUnits(n, store.url);
    } finally {
      await store.stop();
    }
  }
  const header = ['system', 'ingest points/s', 'nearby ops/s', 'p50 ms', 'p99 ms'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log('\nratios');
  if (redis) {
    console.log(
      `  nearby ops/s, 1 unit / redis:          ${(units[1]!.q.ops / redis.q.ops).toFixed(2)}×  (goal ≥ 10×)`,
    );
    console.log(`  nearby p50, redis / 1 unit:            ${(redis.q.p50 / units[1]!.q.p50).toFixed(2)}×`);
    console.log(
      `  ingest, 1 unit (durable) / redis GEOADD: ${(units[1]!.ingest / redis.ingest).toFixed(2)}×  (goal ≥ 1×, end to end)`,
    );
    console.log(`  grid index in process / redis:         ${(index / redis.q.ops).toFixed(2)}×`);
  }
  for (const n of [2, 4]) {
    console.log(
      `  ${n} units / 1 unit: nearby ${(units[n]!.q.ops / units[1]!.q.ops).toFixed(2)}×, ingest ${(units[n]!.ingest / units[1]!.ingest).toFixed(2)}×`,
    );
  }
}

await main();
process.exit(0);
