// make bench-location: the location units against Redis GEOSEARCH on the same
// data and queries, in one run. Users are spread uniformly over a 50 km square;
// `nearby` asks 1 km, 50 results. Prints ingest points/s, nearby p50/p99 and
// ops/s (one gRPC call per query, and the same 16 callers' queries coalesced
// into nearbyMany calls by a CallBatcher), scaling with 1, 2 and 4 units, and
// the ratios.
// The gateway → mq → unit path is measured by publishing the gateway's exact
// wire messages (key = user id, payload = location.GpsPoint, one publish per
// report) to mq_gps with the mq client, and timing until every point is acked
// by the units (they ack once its write-ahead segment is stored: durable), and
// separately until the compactor has expanded every point into location_points;
// then end to end from devices: WebSocket connections calling reportGps on two
// real gateway processes, timed until the units acked every point.
//   LOCATION_BENCH_DEVICES (default 2000 connections for the device phase),
//   LOCATION_BENCH_USERS (default 1000000), LOCATION_BENCH_SECONDS (default 5 per measurement),
//   LOCATION_BENCH_MQ_POINTS (default 50000; 0 skips the mq path)
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { GpsPoint } from '../../proto/gen/ts/location.js';
import { ILocationUnitProxy } from '../../proto/gen/ts/location.tce.js';
import { MqClient } from '../../services/mq/src/client/index.js';
import type { NearbyQuery } from '../../services/location-unit/src/coordinator.js';
import { GridIndex } from '../../services/location-unit/src/grid-index.js';
import { CallBatcher } from '../../services/runtime/src/call-batcher.js';
import { generateKeySet, parseKeySet, signAccessToken } from '../../services/tokens/src/index.js';
import { cpuShares, openMany, TceBenchDevice } from '../gateway/clients.js';
import {
  freePort,
  startService,
  startStore,
  waitFor,
  canConnect,
  type ServiceProcess,
} from '../../test/support/index.js';
import { LAT0, LON0, SQ_LAT, SQ_LON, benchUsers, seededRandom } from './data.js';
import { Resp } from './resp.js';

const USERS = Number(process.env.LOCATION_BENCH_USERS ?? 1_000_000);
const SECONDS = Number(process.env.LOCATION_BENCH_SECONDS ?? 5);
const MQ_POINTS = Number(process.env.LOCATION_BENCH_MQ_POINTS ?? 50_000);
const DEVICES = Number(process.env.LOCATION_BENCH_DEVICES ?? 2000);
const PARTITIONS = 64;
const rnd = seededRandom();
const users = benchUsers(USERS, rnd);
const now = Date.now();
const queries = Array.from({ length: 10_000 }, () => [LON0 + rnd() * SQ_LON, LAT0 + rnd() * SQ_LAT] as const);

interface Lat {
  ops: number;
  p50: number;
  p99: number;
  /** Where the cores went meanwhile (machine, the server processes, this load generator). */
  cpu: string;
}

/**
 * Runs `call` from `conc` loops for SECONDS; latency percentiles in ms, and
 * the cores the machine, the `servers` (pids, with their children) and this
 * process used: whether a system was held back by its CPU or by its callers.
 */
async function measure(conc: number, call: (i: number) => Promise<unknown>, servers: number[]): Promise<Lat> {
  const lat: number[] = [];
  const cpu = cpuShares({ server: servers });
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
    cpu: cpu(),
  };
}

const t0 = Date.now();
/** Progress on stderr (the table goes to stdout at the end). */
const progress = (what: string): void => console.error(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);

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
    const q = await measure(
      16,
      (i) => {
        const [lon, lat] = queries[i % queries.length]!;
        return r.call(
          'GEOSEARCH',
          'gps',
          'FROMLONLAT',
          lon,
          lat,
          'BYRADIUS',
          1000,
          'm',
          'ASC',
          'COUNT',
          50,
          'WITHDIST',
        );
      },
      [proc.pid!],
    );
    progress(`  redis GEOSEARCH ${Math.round(q.ops)}/s: ${q.cpu}`);
    r.close();
    row('redis GEOADD (pipelined, 1000/cmd) / GEOSEARCH', ingest, q.ops, q.p50, q.p99);
    return { ingest, q };
  } finally {
    proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface UnitsResult {
  ingest: number;
  compacted: number;
  /** nearby, one gRPC call per query */
  q: Lat;
  /** nearby, the callers' queries coalesced into nearbyMany calls */
  qMany: Lat;
}

async function benchUnits(n: number, storeUrl: string): Promise<UnitsResult> {
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
            TCE_LOCATION_BATCH_POINTS: '10000',
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
    progress(`  ingested ${USERS} points (durable in segments): ${Math.round(ingest)}/s; waiting for compaction`);
    // Queries are measured on a quiet unit: after the compactor caught up.
    await compacted(storeUrl, USERS);
    const compactedRate = USERS / (Number(process.hrtime.bigint() - t) / 1e9);
    progress(`  compacted into points + latest records: ${Math.round(compactedRate)}/s from the start of ingest`);
    const unitPids = units.map((u) => u.process.child.pid!);
    const q = await measure(
      16,
      async (i) => {
        const [lon, lat] = queries[i % queries.length]!;
        const r = await proxies[i % proxies.length]!.nearby(lon, lat, 1000, 50);
        if (r.partial) throw new Error('partial answer in the benchmark');
      },
      unitPids,
    );
    progress(`  ${n} unit(s), nearby one call per query ${Math.round(q.ops)}/s: ${q.cpu}`);
    // The same 16 callers, their concurrent queries coalesced into nearbyMany calls (CallBatcher).
    const batchers = proxies.map((p) => new CallBatcher((qs: NearbyQuery[]) => p.nearbyMany(qs)));
    const qMany = await measure(
      16,
      async (i) => {
        const [lon, lat] = queries[i % queries.length]!;
        const r = await batchers[i % batchers.length]!.submit({ lon, lat, radius_m: 1000, limit: 50 });
        if (r.partial) throw new Error('partial answer in the benchmark');
      },
      unitPids,
    );
    progress(`  ${n} unit(s), nearby coalesced ${Math.round(qMany.ops)}/s: ${qMany.cpu}`);
    row(`location units ×${n} (ingest() durable / nearby via gRPC)`, ingest, q.ops, q.p50, q.p99);
    row(`… ×${n} nearby coalesced into nearbyMany calls`, '', qMany.ops, qMany.p50, qMany.p99);
    row(`… ×${n} compacted (points + latest documents)`, compactedRate, '', '', '');
    for (const p of proxies) p.close();
    return { ingest, compacted: compactedRate, q, qMany };
  } finally {
    await Promise.all(units.map((u) => u.stop()));
  }
}

/**
 * The whole path as devices take it: DEVICES WebSocket connections, half on each
 * of two gateway processes, call location.ILocationReport.reportGps (up to 16
 * in flight per device, as the SDK's reportGpsConfirmed does); each gateway
 * publishes every report to mq_gps; timed until the units have acked every
 * point (its write-ahead segment stored). One device is one user, so this
 * phase has DEVICES users reporting `points / DEVICES` positions each.
 */
async function benchDevicePath(
  n: number,
  storeUrl: string,
  mqPort: number,
  password: string,
  admin: ReturnType<MqClient['admin']>,
  points: number,
): Promise<number> {
  const keysJson = generateKeySet();
  const keys = parseKeySet(keysJson);
  const gateways: ServiceProcess[] = [];
  const devices: TceBenchDevice[] = [];
  try {
    const urls: string[] = [];
    for (let g = 1; g <= 2; g++) {
      const port = await freePort();
      gateways.push(
        await startService({
          name: 'gateway',
          env: {
            TCE_MONGO_URL: storeUrl,
            TCE_TOKEN_KEYS: keysJson,
            TCE_INTERNAL_KEY: crypto.randomBytes(32).toString('base64'),
            TCE_WS_PORT: String(port),
            TCE_GATEWAY_ID: `bench-gps-${g}`,
            TCE_MQ_ADDR: `127.0.0.1:${mqPort}`,
            TCE_MQ_PASSWORDS: JSON.stringify({ mq_gps: password }),
            TCE_MQ_ADMIN_PASSWORD: 'bench-admin',
            TCE_GATEWAY_RATE_LIMIT: '1000000',
            TCE_GATEWAY_RATE_BURST: '1000000',
            TCE_LOG_LEVEL: 'warn',
          },
          timeoutMs: 60_000,
        }),
      );
      urls.push(`ws://127.0.0.1:${port}/ws`);
    }
    const token = (i: number): string =>
      signAccessToken(keys, { sub: `gps${i}`, did: 'd', sid: `s-gps${i}`, name: `gps${i}` }, { ttlMs: 3_600_000 })
        .token;
    devices.push(
      ...(await openMany(DEVICES, 100, async (i) => {
        const d = await TceBenchDevice.open(urls[i % urls.length]!, token(i));
        await d.ready();
        return d;
      })),
    );
    progress(`  ${DEVICES} devices connected to 2 gateways`);
    const per = Math.ceil(points / DEVICES);
    const total = per * DEVICES;
    const acked0 = (await admin.stats('mq_gps')).acked;
    const t = process.hrtime.bigint();
    let refused = 0;
    await Promise.all(
      devices.map(async (d, i) => {
        let k = 0;
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            while (k < per) {
              const u = users[(i * per + k) % users.length]!;
              // Distinct, increasing times per device: every report is its own point.
              await d.reportGps(u.lon, u.lat, now + 1000 + k++).catch(() => void refused++);
            }
          }),
        );
      }),
    );
    if (refused > 0) throw new Error(`${refused} reports refused by the gateways`);
    progress(`  ${total} reports accepted by the gateways`);
    await waitForCount('acked', total, async () => (await admin.stats('mq_gps')).acked - acked0);
    const rate = total / (Number(process.hrtime.bigint() - t) / 1e9);
    row(
      `devices → 2 gateways → mq → units ×${n} (durable, acked; ${DEVICES} devices, ${total.toLocaleString('en')} pts)`,
      rate,
      '',
      '',
      '',
    );
    return rate;
  } finally {
    for (const d of devices) d.close();
    for (const g of gateways) await g.stop();
  }
}

/** Waits until `count()` reaches `total`, printing progress every 10 s (long waits: compaction, acks). */
async function waitForCount(what: string, total: number, count: () => Promise<number>): Promise<void> {
  let lastNote = Date.now();
  await waitFor(
    `every point ${what}`,
    async () => {
      const n = await count();
      if (n < total && Date.now() - lastNote > 10_000) {
        progress(`  ${n} of ${total} points ${what}`);
        lastNote = Date.now();
      }
      return n >= total;
    },
    { timeoutMs: 1_800_000, intervalMs: 100 },
  );
}

/** Waits until `total` points are compacted into location_points (a fresh store per run). */
async function compacted(storeUrl: string, total: number): Promise<void> {
  const mongo = await new MongoClient(storeUrl).connect();
  try {
    await waitForCount('compacted', total, () => mongo.db().collection('location_points').countDocuments({}));
  } finally {
    await mongo.close();
  }
}

/** gateway → mq → units: the gateway's publishes, timed until every point is durable (acked by the units). */
async function benchMqPath(
  n: number,
  storeUrl: string,
): Promise<{ acked: number; compacted: number; devices: number }> {
  const PW = 'bench-gps';
  const mqPort = await freePort();
  const procs: ServiceProcess[] = [];
  const mongo = new MongoClient(storeUrl);
  let mq: MqClient | undefined;
  try {
    const mqProc = await startService({
      name: 'mq',
      env: {
        TCE_MONGO_URL: storeUrl,
        TCE_GRPC_PORT: String(mqPort),
        TCE_MQ_ADMIN_PASSWORD: 'bench-admin',
        TCE_MQ_PASSWORDS: JSON.stringify({ mq_gps: PW }),
        TCE_MQ_QUEUES: JSON.stringify([{ name: 'mq_gps', kind: 'partitioned', partitions: PARTITIONS, durable: true }]),
      },
    });
    procs.push(mqProc);
    for (let i = 0; i < n; i++) {
      const port = await freePort();
      procs.push(
        await startService({
          name: 'location-unit',
          env: {
            TCE_MONGO_URL: storeUrl,
            TCE_MQ_ADDR: `127.0.0.1:${mqPort}`,
            TCE_LOCATION_MQ_PASSWORD: PW,
            TCE_GRPC_PORT: String(port),
            TCE_ADVERTISE_ADDR: `127.0.0.1:${port}`,
            TCE_GPS_PARTITIONS: String(PARTITIONS),
          },
          timeoutMs: 120_000,
        }),
      );
    }
    mq = new MqClient(`127.0.0.1:${mqPort}`);
    const points = Math.min(MQ_POINTS, USERS);
    const msgs = users.slice(0, points).map((u) => ({
      key: u.user_id,
      payload: GpsPoint.encode({ ...u, time: now + 10 + n }).finish(),
    }));
    await mongo.connect();
    const admin = mq.admin('bench-admin');
    const acked0 = (await admin.stats('mq_gps')).acked;
    const t = process.hrtime.bigint();
    // Many gateways publishing at once: 1000-report chunks, 8 in flight (each report its own publish).
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < msgs.length) {
          const chunk = msgs.slice(next, (next += 1000));
          await mq!.publishBatch('mq_gps', PW, chunk);
        }
      }),
    );
    progress(`  published ${points} reports`);
    // Acked = durable: the units ack a point once its write-ahead segment is stored.
    await waitForCount('acked', points, async () => (await admin.stats('mq_gps')).acked - acked0);
    const rate = points / (Number(process.hrtime.bigint() - t) / 1e9);
    row(`gateway wire msgs → mq → units ×${n} (durable, acked; ${points.toLocaleString('en')} pts)`, rate, '', '', '');
    await compacted(storeUrl, points);
    const compactedRate = points / (Number(process.hrtime.bigint() - t) / 1e9);
    row(`… ×${n} compacted (points + latest documents)`, compactedRate, '', '', '');
    const devices = await benchDevicePath(n, storeUrl, mqPort, PW, admin, points);
    return { acked: rate, compacted: compactedRate, devices };
  } finally {
    mq?.close();
    await mongo.close();
    for (const p of procs.reverse()) await p.stop();
  }
}

async function main(): Promise<void> {
  console.log(
    `location benchmark: ${USERS.toLocaleString('en')} users in a 50 km square; nearby 1 km, limit 50; ${SECONDS} s per measurement; ${os.cpus().length} cores\n`,
  );
  progress('grid index in process');
  const index = await benchIndex();
  progress('redis');
  const redis = await benchRedis();
  row(
    'tile38',
    'not available: go install github.com/tidwall/tile38/cmd/tile38-server@latest → proxy 403 Forbidden',
    '',
    '',
    '',
  );
  const units: Record<number, UnitsResult> = {};
  for (const n of [1, 2, 4]) {
    const store = await startStore();
    try {
      progress(`${n} unit(s): direct ingest + nearby`);
      units[n] = await benchUnits(n, store.url);
    } finally {
      await store.stop();
    }
  }
  const mqPath: Record<number, { acked: number; compacted: number; devices: number }> = {};
  if (MQ_POINTS > 0) {
    for (const n of [1, 2, 4]) {
      const store = await startStore();
      try {
        progress(`${n} unit(s): gateway wire messages through mq`);
        mqPath[n] = await benchMqPath(n, store.url);
      } finally {
        await store.stop();
      }
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
    console.log(
      `  nearby ops/s, 1 unit, coalesced into nearbyMany / redis: ${(units[1]!.qMany.ops / redis.q.ops).toFixed(2)}×  (goal ≥ 10×)`,
    );
    console.log(`  nearby p50, redis / 1 unit:            ${(redis.q.p50 / units[1]!.q.p50).toFixed(2)}×`);
    console.log(
      `  ingest, 1 unit (durable) / redis GEOADD: ${(units[1]!.ingest / redis.ingest).toFixed(2)}×  (goal ≥ 1×, end to end); compacted ${(units[1]!.compacted / redis.ingest).toFixed(2)}×`,
    );
    console.log(`  grid index in process / redis:         ${(index / redis.q.ops).toFixed(2)}×`);
    for (const n of Object.keys(mqPath).map(Number)) {
      console.log(
        `  ingest, devices→gateways→mq→${n} unit(s) durable / redis GEOADD: ${(mqPath[n]!.devices / redis.ingest).toFixed(3)}×  (goal ≥ 1×)`,
      );
      console.log(
        `  ingest, gateway wire msgs→mq→${n} unit(s) durable / redis GEOADD: ${(mqPath[n]!.acked / redis.ingest).toFixed(3)}×; compacted ${(mqPath[n]!.compacted / redis.ingest).toFixed(3)}×`,
      );
    }
  }
  for (const n of [2, 4]) {
    console.log(
      `  ${n} units / 1 unit: nearby ${(units[n]!.q.ops / units[1]!.q.ops).toFixed(2)}× (coalesced ${(units[n]!.qMany.ops / units[1]!.qMany.ops).toFixed(2)}×), ingest ${(units[n]!.ingest / units[1]!.ingest).toFixed(2)}×`,
    );
  }
}

await main();
process.exit(0);
