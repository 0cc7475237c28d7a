// make bench-gateway: the gateway next to Centrifugo v6 (built from its Go
// module by scripts/install-infra.sh centrifugo), in one run, on this machine.
//   (a) idle connections held by one process and RSS per connection
//   (b) device→device throughput and end-to-end latency p50/p99 across two
//       gateways (ours only: Centrifugo has no durable device-to-device messages)
//   (c) fan-out to N connected devices, delivered messages per second. Ours:
//       20 group messages to one group of the N devices' users (stored once,
//       pushed to every member's device, counted at the device's return = the
//       ack), sent one after another and then all 20 in flight; Centrifugo:
//       20 publications on one channel, the same two ways. Also one stored
//       one-to-one message per device against Centrifugo's `broadcast` into N
//       personal channels with history (its nearest equivalent, in memory).
//       Both print CPU per 1000 deliveries of the server and of this process.
// Knobs: BENCH_GATEWAY_IDLE (connections, capped by the open-file limit, which
// is raised with prlimit where allowed), BENCH_GATEWAY_FANOUT (10000),
// BENCH_GATEWAY_FANOUT_ROUNDS (2), BENCH_GATEWAY_RATES (msg/s steps for (b)),
// BENCH_SECONDS (per step, 5; after a 2 s unrecorded warm-up), BENCH_GATEWAY_PAIRS (500),
// BENCH_GATEWAY_SETTLE_MS (idle time before RSS counts, 50000),
// BENCH_GATEWAY_ONLY (a,b,c), BENCH_GATEWAY_LOGS (a folder for gateway logs),
// BENCH_GATEWAY_NODE_OPTIONS and BENCH_GATEWAY_MALLOC_ARENA_MAX (gateway runtime knobs),
// BENCH_GATEWAY_CPU_PROF (a folder: each gateway writes a .cpuprofile there at exit).
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeySet, parseKeySet, signAccessToken } from '../../services/tokens/src/index.js';
import {
  binDir,
  freePort,
  startProcess,
  startService,
  startStore,
  waitFor,
  type ServiceProcess,
  type Store,
} from '../../test/support/index.js';
import {
  CentrifugoBenchClient,
  TceBenchDevice,
  centrifugoToken,
  cpuSeconds,
  cpuShares,
  openMany,
  percentile,
  rssBytes,
} from './clients.js';

const env = process.env;
const SECONDS = Number(env.BENCH_SECONDS ?? 5);
const FANOUT = Number(env.BENCH_GATEWAY_FANOUT ?? 10_000);
const FANOUT_ROUNDS = Number(env.BENCH_GATEWAY_FANOUT_ROUNDS ?? 2);
/** Messages sent into the group in (c); Centrifugo's channel publish uses the same number. */
const GROUP_ROUNDS = 20;
// 500 pairs: at 5000 msg/s each sender sends 10/s, a plausible device. With 100
// pairs (50/s each), a second of queueing put more than the gateway's 64 calls
// in flight on one connection and the harness itself got RESOURCE_EXHAUSTED.
const PAIRS = Number(env.BENCH_GATEWAY_PAIRS ?? 500);
const WARM_UP_SECONDS = 2;
const RATES = (env.BENCH_GATEWAY_RATES ?? '250,500,1000,2000,5000').split(',').map(Number);

const SETTLE_MS = Number(env.BENCH_GATEWAY_SETTLE_MS ?? 50_000);
const ONLY = new Set((env.BENCH_GATEWAY_ONLY ?? 'a,b,c').split(','));
const WANT_IDLE = Number(env.BENCH_GATEWAY_IDLE ?? 100_000);

/** Soft and hard limits of open files for this process (the gateway and Centrifugo inherit them). */
function openFileLimits(): { soft: number; hard: number } {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  const n = (v: string | undefined): number => (!v || v === 'unlimited' ? 1_000_000 : Number(v));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

/**
 * Raises this process's open-file limit (children spawned later inherit it):
 * the soft limit up to the hard one, and — as root with CAP_SYS_RESOURCE —
 * the hard one too (prlimit on ourselves). Returns what could not be done.
 */
function raiseOpenFiles(want: number): string | undefined {
  const { soft, hard } = openFileLimits();
  if (want <= soft) return undefined;
  if (want <= hard) {
    spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${want}:${hard}`]);
    return undefined;
  }
  const r = spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${want}:${want}`], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  if (soft < hard) spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${hard}:${hard}`]);
  return `prlimit --nofile=${want}: ${(r.stderr || r.error?.message || 'failed').trim()} (hard limit ${hard}; raising it needs CAP_SYS_RESOURCE, which this container does not grant)`;
}
const FD_NOTE = raiseOpenFiles(WANT_IDLE + 5_000);
const FD_LIMIT = openFileLimits().soft;
const IDLE = Math.min(WANT_IDLE, FD_LIMIT - 600);

const keysJson = generateKeySet();
const keys = parseKeySet(keysJson);
const internalKey = crypto.randomBytes(32).toString('base64');
const tokenFor = (user: string, device = 'd'): string =>
  signAccessToken(keys, { sub: user, did: device, sid: `s-${user}-${device}`, name: user }, { ttlMs: 3_600_000 }).token;

interface Row {
  what: string;
  ours: number;
  peer: number | undefined;
  unit: string;
  better: 'higher' | 'lower';
}
const rows: Row[] = [];
const log = (s: string): void => void process.stdout.write(`${s}\n`);

// `--cpu-prof` is refused in NODE_OPTIONS; a preloaded module profiles instead.
const nodeOptions = [
  env.BENCH_GATEWAY_NODE_OPTIONS,
  env.BENCH_GATEWAY_CPU_PROF ? `--import tsx --import ${path.join(import.meta.dirname, 'cpu-profile.ts')}` : undefined,
]
  .filter(Boolean)
  .join(' ');

async function gateway(
  store: Store,
  id: string,
  extra: Record<string, string> = {},
): Promise<{ proc: ServiceProcess; url: string }> {
  const port = await freePort();
  const ops = await freePort();
  const proc = await startService({
    name: 'gateway',
    logFile: env.BENCH_GATEWAY_LOGS ? path.join(env.BENCH_GATEWAY_LOGS, `${id}.log`) : undefined,
    env: {
      TCE_MONGO_URL: store.url,
      TCE_TOKEN_KEYS: keysJson,
      TCE_INTERNAL_KEY: internalKey,
      TCE_WS_PORT: String(port),
      TCE_OPS_PORT: String(ops),
      TCE_GATEWAY_ID: id,
      TCE_GATEWAY_RATE_LIMIT: '1000000',
      TCE_GATEWAY_RATE_BURST: '1000000',
      TCE_LOG_LEVEL: 'warn',
      // Runtime knobs for the gateway process only (e.g. --max-semi-space-size=1, MALLOC_ARENA_MAX=2).
      ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
      ...(env.BENCH_GATEWAY_MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: env.BENCH_GATEWAY_MALLOC_ARENA_MAX } : {}),
      ...extra,
    },
    timeoutMs: 60_000,
  });
  return { proc, url: `ws://127.0.0.1:${port}/ws` };
}

/** A device whose session has fully started (presence recorded, delivery running). */
async function openReady(url: string, token: string): Promise<TceBenchDevice> {
  const d = await TceBenchDevice.open(url, token);
  await d.ready();
  return d;
}

// ---------------------------------------------------------------- Centrifugo

interface Centrifugo {
  pid: number;
  wsUrl: string;
  apiUrl: string;
  apiKey: string;
  secret: string;
  stop(): Promise<void>;
}

async function startCentrifugo(): Promise<Centrifugo | undefined> {
  const bin = path.join(binDir, 'centrifugo');
  if (!fs.existsSync(bin)) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-centrifugo-'));
  const port = await freePort();
  const secret = crypto.randomBytes(16).toString('hex');
  const apiKey = crypto.randomBytes(16).toString('hex');
  const config = {
    client: { token: { hmac_secret_key: secret }, allowed_origins: ['*'] },
    channel: {
      without_namespace: { allow_subscribe_for_client: true },
      // Personal channels with history and recovery: Centrifugo's nearest thing to our per-device inbox.
      namespaces: [
        {
          name: 'inbox',
          allow_subscribe_for_client: true,
          history_size: 16,
          history_ttl: '300s',
          force_recovery: true,
        },
      ],
    },
    http_api: { key: apiKey },
    http_server: { address: '127.0.0.1', port },
    health: { enabled: true },
    log: { level: 'error' },
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const proc = startProcess({
    name: 'centrifugo',
    command: bin,
    args: ['--config', path.join(dir, 'config.json')],
    cwd: dir,
  });
  await waitFor('centrifugo to listen', async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, {
    timeoutMs: 30_000,
  });
  return {
    pid: proc.pid!,
    wsUrl: `ws://127.0.0.1:${port}/connection/websocket`,
    apiUrl: `http://127.0.0.1:${port}/api`,
    apiKey,
    secret,
    stop: async () => {
      await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- (a) idle connections

/**
 * RSS once the connection storm's garbage is gone. Both runtimes give memory
 * back lazily: V8's memory reducer compacts the old generation only after
 * ~30 s of low allocation (before that a Node process holds ~3× its live heap),
 * Go's scavenger returns freed spans over a similar time. The same rule for
 * both: stay idle for SETTLE_MS, sampling every 2 s; the lowest sample counts.
 */
async function settledRss(pid: number, settleMs = SETTLE_MS): Promise<number> {
  let min = rssBytes(pid);
  for (const until = Date.now() + settleMs; Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 2000));
    min = Math.min(min, rssBytes(pid));
  }
  return min;
}

async function idleOurs(store: Store): Promise<{ conns: number; perConn: number; seconds: number }> {
  // Tuned as a gateway that holds many connections should be (docs/gateway.md).
  const gw = await gateway(store, 'bench-idle', { TCE_GATEWAY_OPTIMIZE_FOR: 'memory' });
  try {
    const base = await settledRss(gw.proc.process.pid!);
    const t0 = Date.now();
    const devices = await openMany(IDLE, 100, (i) => openReady(gw.url, tokenFor(`idle${i}`)));
    const seconds = (Date.now() - t0) / 1000;
    const rss = await settledRss(gw.proc.process.pid!);
    for (const d of devices) d.close();
    return { conns: IDLE, perConn: (rss - base) / IDLE, seconds };
  } finally {
    await gw.proc.stop();
  }
}

async function idleCentrifugo(c: Centrifugo): Promise<{ perConn: number; seconds: number }> {
  const base = await settledRss(c.pid);
  const t0 = Date.now();
  const clients = await openMany(IDLE, 200, (i) =>
    CentrifugoBenchClient.open(c.wsUrl, centrifugoToken(c.secret, `idle${i}`)),
  );
  const seconds = (Date.now() - t0) / 1000;
  const rss = await settledRss(c.pid);
  for (const cl of clients) cl.close();
  return { perConn: (rss - base) / IDLE, seconds };
}

// ---------------------------------------------------------------- (c) fan-out

async function fanoutOurs(store: Store): Promise<{ delivered: number; perSecond: number }> {
  const gw = await gateway(store, 'bench-fanout');
  try {
    const receivers = await openMany(FANOUT, 100, (i) => openReady(gw.url, tokenFor(`fan${i}`)));
    let got = 0;
    for (const r of receivers) r.onMessage = () => void got++;
    const senders = await openMany(8, 8, (i) => TceBenchDevice.open(gw.url, tokenFor(`fansender${i}`)));
    const total = FANOUT * FANOUT_ROUNDS;
    const t0 = Date.now();
    // Each sender keeps up to 60 sends in flight (the gateway runs 64 calls per connection at once).
    let next = 0;
    let failed = 0;
    await Promise.all(
      senders.map(async (s) => {
        const inflight = new Set<Promise<void>>();
        while (next < total) {
          const i = next++;
          const p = s
            .send(`fan${i % FANOUT}`, `round ${Math.floor(i / FANOUT)}`)
            .catch(() => void failed++)
            .finally(() => inflight.delete(p));
          inflight.add(p);
          if (inflight.size >= 60) await Promise.race(inflight);
        }
        await Promise.all(inflight);
      }),
    );
    await waitFor('every fan-out message delivered', () => got >= total - failed, {
      timeoutMs: 600_000,
      intervalMs: 100,
    });
    const seconds = (Date.now() - t0) / 1000;
    for (const d of [...receivers, ...senders]) d.close();
    if (failed) log(`    ours: ${failed} sends failed (store too slow for their deadline)`);
    return { delivered: got, perSecond: got / seconds };
  } finally {
    await gw.proc.stop();
  }
}

/**
 * Fan-out through one group of FANOUT members: each message is stored once in
 * the group's sequence and pushed to every member's device (counted when the
 * device's return arrives, which advances that device's group cursor) — the
 * same job as Centrifugo's one-channel publish, plus durability and resume.
 */
interface Rate {
  delivered: number;
  perSecond: number;
  /** CPU seconds per 1000 deliveries: the server's and this load generator's. */
  cpu?: { server: number; client: number };
}

/** Runs `work`, then tells the CPU both the server and this process spent per 1000 of `count()`. */
async function withCpu(
  serverPid: number,
  work: () => Promise<{ delivered: number; perSecond: number }>,
): Promise<Rate> {
  const s0 = cpuSeconds(serverPid);
  const c0 = process.cpuUsage();
  const r = await work();
  const c = process.cpuUsage(c0);
  const per = 1000 / Math.max(1, r.delivered);
  return { ...r, cpu: { server: (cpuSeconds(serverPid) - s0) * per, client: ((c.user + c.system) / 1e6) * per } };
}

const cpuText = (r: Rate): string =>
  r.cpu
    ? ` (CPU per 1000: server ${(r.cpu.server * 1000).toFixed(0)} ms, load generator ${(r.cpu.client * 1000).toFixed(0)} ms)`
    : '';

async function groupFanoutOurs(store: Store): Promise<{ sequential: Rate; burst: Rate }> {
  const gw = await gateway(store, 'bench-group');
  try {
    const sender = await openReady(gw.url, tokenFor('groupsender'));
    const members = Array.from({ length: FANOUT }, (_, i) => `fan${i}`);
    const g = (await sender.call('createGroup', ['bench', members.slice(0, 1000)])) as { group_id: string };
    for (let i = 1000; i < FANOUT; i += 1000) await sender.call('addMembers', [g.group_id, members.slice(i, i + 1000)]);
    const receivers = await openMany(FANOUT, 100, (i) => openReady(gw.url, tokenFor(`fan${i}`)));
    let got = 0;
    for (const r of receivers) r.onMessage = () => void got++;
    const send = (tag: string, i: number) =>
      sender.call('sendGroup', [g.group_id, JSON.stringify([{ type: 'text', text: `${tag} ${i}` }]), `${tag}${i}`]);
    const run = (tag: string, publish: () => Promise<void>): Promise<Rate> =>
      withCpu(gw.proc.process.pid!, async () => {
        got = 0;
        const total = FANOUT * GROUP_ROUNDS;
        const t0 = Date.now();
        await publish();
        await waitFor(`every ${tag} group message delivered`, () => got >= total, {
          timeoutMs: 300_000,
          intervalMs: 20,
        });
        const seconds = (Date.now() - t0) / 1000;
        return { delivered: got, perSecond: got / seconds };
      });
    const rounds = Array.from({ length: GROUP_ROUNDS }, (_, i) => i);
    const sequential = await run('sequential', async () => {
      for (const i of rounds) await send('s', i);
    });
    const burst = await run('burst', async () => void (await Promise.all(rounds.map((i) => send('b', i)))));
    for (const d of [...receivers, sender]) d.close();
    return { sequential, burst };
  } finally {
    await gw.proc.stop();
  }
}

async function centrifugoApi(c: Centrifugo, method: string, body: unknown): Promise<void> {
  const res = await fetch(`${c.apiUrl}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': c.apiKey },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok || text.includes('"error"')) throw new Error(`centrifugo ${method}: ${res.status} ${text.slice(0, 300)}`);
}

/**
 * Centrifugo's fan-out, two ways, on the same 10k clients:
 *  - channel: every client subscribes to one channel; one publish reaches all
 *    (transient: nothing per recipient is kept);
 *  - personal: every client subscribes to its own `inbox:<user>` channel with
 *    history and recovery; one `broadcast` API call publishes into all of them
 *    (one history entry per recipient, in memory) — the closest Centrifugo
 *    gets to our stored one-to-one inbox message per device.
 */
async function fanoutCentrifugo(c: Centrifugo): Promise<{ channel: Rate; channelBurst: Rate; personal: Rate }> {
  const clients = await openMany(FANOUT, 200, async (i) => {
    const cl = await CentrifugoBenchClient.open(c.wsUrl, centrifugoToken(c.secret, `fan${i}`));
    await cl.subscribe('news');
    await cl.subscribe(`inbox:fan${i}`);
    return cl;
  });
  let got = 0;
  for (const cl of clients) cl.onPublication = () => void got++;
  /** `publishAll` publishes `rounds` messages (one after another, or all at once). */
  const run = (rounds: number, publishAll: () => Promise<void>): Promise<Rate> =>
    withCpu(c.pid, async () => {
      got = 0;
      const total = FANOUT * rounds;
      const t0 = Date.now();
      await publishAll();
      // Bounded: a publication that never arrives must not hold the shared bench lock; the rate then counts what arrived.
      await waitFor('every publication delivered', () => got >= total, { timeoutMs: 60_000, intervalMs: 20 }).catch(
        () => log(`    centrifugo: ${total - got} of ${total} publications not delivered within 60 s`),
      );
      const seconds = (Date.now() - t0) / 1000;
      return { delivered: got, perSecond: got / seconds };
    });
  const publish = (text: string) => centrifugoApi(c, 'publish', { channel: 'news', data: { text } });
  const rounds = Array.from({ length: GROUP_ROUNDS }, (_, i) => i);
  const channel = await run(GROUP_ROUNDS, async () => {
    for (const i of rounds) await publish(`round ${i}`);
  });
  const channelBurst = await run(
    GROUP_ROUNDS,
    async () => void (await Promise.all(rounds.map((i) => publish(`burst ${i}`)))),
  );
  const channels = Array.from({ length: FANOUT }, (_, i) => `inbox:fan${i}`);
  const personal = await run(FANOUT_ROUNDS, async () => {
    for (let i = 0; i < FANOUT_ROUNDS; i++)
      await centrifugoApi(c, 'broadcast', { channels, data: { text: `round ${i}` } });
  });
  for (const cl of clients) cl.close();
  return { channel, channelBurst, personal };
}

// ---------------------------------------------------------------- (b) device → device across two gateways

interface Step {
  rate: number;
  sent: number;
  delivered: number;
  perSecond: number;
  p50: number;
  p99: number;
  sendP99: number;
}

/** The gateway's store queues (tce_gateway_store_queued) right now, e.g. { reads: 3, writes: 40 }. */
async function storeQueues(opsPort: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^tce_gateway_store_queued\{[^}]*kind="(\w+)"[^}]*\} (\d+)/gm))
    out[m[1]!] = Number(m[2]);
  return out;
}

/** Samples both gateways' store queues every 500 ms; returns a stopper giving the maxima seen. */
function sampleQueues(ports: number[]): () => string {
  const max = new Map<string, number>();
  const timer = setInterval(() => {
    ports.forEach(
      (p, i) =>
        void storeQueues(p)
          .then((q) => {
            for (const [k, v] of Object.entries(q))
              max.set(`g${i + 1}.${k}`, Math.max(max.get(`g${i + 1}.${k}`) ?? 0, v));
          })
          .catch(() => undefined),
    );
  }, 500);
  return () => {
    clearInterval(timer);
    return [...max].map(([k, v]) => `${k} ${v}`).join(', ');
  };
}

async function deviceToDevice(store: Store): Promise<Step[]> {
  const mqPort = await freePort();
  const adminPassword = crypto.randomBytes(8).toString('hex');
  const mq = await startService({
    name: 'mq',
    env: {
      TCE_MONGO_URL: store.url,
      TCE_INTERNAL_KEY: internalKey,
      TCE_GRPC_PORT: String(mqPort),
      TCE_MQ_ADMIN_PASSWORD: adminPassword,
      TCE_LOG_LEVEL: 'warn',
    },
    timeoutMs: 60_000,
  });
  const mqEnv = { TCE_MQ_ADDR: `127.0.0.1:${mqPort}`, TCE_MQ_ADMIN_PASSWORD: adminPassword };
  const g1 = await gateway(store, 'bench-g1', mqEnv);
  const g2 = await gateway(store, 'bench-g2', mqEnv);
  const steps: Step[] = [];
  try {
    const senders = await openMany(PAIRS, 50, (i) => TceBenchDevice.open(g1.url, tokenFor(`snd${i}`)));
    const receivers = await openMany(PAIRS, 50, (i) => TceBenchDevice.open(g2.url, tokenFor(`rcv${i}`)));
    await Promise.all([...senders, ...receivers].map((d) => d.ready()));
    let latencies: number[] = [];
    let delivered = 0;
    for (const r of receivers) {
      r.onMessage = (mime) => {
        const text = (JSON.parse(mime) as { text: string }[])[0]!.text;
        latencies.push(Date.now() - Number(text.split(' ')[0]));
        delivered++;
      };
    }
    // A short unrecorded warm-up first: the gateways' first seconds of traffic pay for
    // JIT compilation and lazily loaded modules, which is not the steady state.
    const plan = [{ rate: RATES[0]!, warmUp: true }, ...RATES.map((rate) => ({ rate, warmUp: false }))];
    for (const { rate, warmUp } of plan) {
      latencies = [];
      delivered = 0;
      const sendLat: number[] = [];
      let sent = 0;
      let failed = 0;
      let firstError: string | undefined;
      const t0 = Date.now();
      const until = t0 + (warmUp ? WARM_UP_SECONDS : SECONDS) * 1000;
      const pending = new Set<Promise<void>>();
      const queues = sampleQueues([g1.proc.opsPort, g2.proc.opsPort]);
      const cpu = cpuShares({
        store: store.processes.map((p) => p.child.pid!),
        gateways: [g1.proc.process.child.pid!, g2.proc.process.child.pid!],
        mq: [mq.process.child.pid!],
      });
      // Open loop: messages are due at a fixed rate whether or not earlier ones were answered.
      await new Promise<void>((resolve) => {
        const tick = setInterval(() => {
          const now = Date.now();
          const due = Math.floor(((Math.min(now, until) - t0) / 1000) * rate);
          while (sent < due) {
            const i = sent++;
            const at = Date.now();
            const p = senders[i % PAIRS]!.send(`rcv${i % PAIRS}`, `${at} m${i}`)
              .then(
                () => void sendLat.push(Date.now() - at),
                (err: unknown) => {
                  failed++;
                  firstError ??= err instanceof Error ? err.message : String(err);
                },
              )
              .finally(() => pending.delete(p));
            pending.add(p);
          }
          if (now >= until) {
            clearInterval(tick);
            resolve();
          }
        }, 5);
      });
      await Promise.all(pending);
      await waitFor('the step’s messages', () => delivered >= sent - failed, {
        timeoutMs: 120_000,
        intervalMs: 50,
      }).catch(() => undefined);
      const seconds = (Date.now() - t0) / 1000;
      const queueMax = queues();
      latencies.sort((a, b) => a - b);
      sendLat.sort((a, b) => a - b);
      if (warmUp) {
        log(`  (b) warm-up at ${rate} msg/s for ${WARM_UP_SECONDS} s: ${delivered} delivered, not recorded`);
        continue;
      }
      const step: Step = {
        rate,
        sent,
        delivered,
        perSecond: delivered / seconds,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        sendP99: percentile(sendLat, 99),
      };
      steps.push(step);
      log(
        `  (b) ${rate} msg/s offered: ${step.perSecond.toFixed(0)} delivered/s, e2e p50 ${step.p50} ms, p99 ${step.p99} ms, send answered p99 ${step.sendP99} ms${failed ? `, ${failed} refused (first: ${firstError})` : ''}`,
      );
      log(`      store queues (max waiting): ${queueMax || 'none'}`);
      log(`      CPU: ${cpu()}`);
      if (step.perSecond < rate * 0.8 || step.p99 > 2000) break; // saturated: higher offers only queue
    }
    for (const d of [...senders, ...receivers]) d.close();
  } finally {
    await g1.proc.stop();
    await g2.proc.stop();
    await mq.stop();
  }
  return steps;
}

// ---------------------------------------------------------------- main

function printTable(): void {
  const w = [58, 14, 14, 10];
  const line = (c: string[]): string => c.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join(' ');
  log('');
  log(line(['measure', 'ours', 'centrifugo', 'ratio']));
  log(line(['-'.repeat(w[0]!), '-'.repeat(w[1]!), '-'.repeat(w[2]!), '-'.repeat(w[3]!)]));
  for (const r of rows) {
    const fmt = (v: number | undefined): string =>
      v === undefined ? '—' : `${v >= 100 ? v.toFixed(0) : v.toFixed(2)} ${r.unit}`;
    const ratio =
      r.peer === undefined || r.peer === 0
        ? '—'
        : `${(r.better === 'higher' ? r.ours / r.peer : r.peer / r.ours).toFixed(2)}×`;
    log(line([r.what, fmt(r.ours), fmt(r.peer), ratio]));
  }
  log('(ratio > 1: ours is better)');
}

async function main(): Promise<void> {
  log(
    `==> bench-gateway on ${os.cpus().length} cores; open-file limit ${FD_LIMIT} → ${IDLE} idle connections per process`,
  );
  if (env.BENCH_GATEWAY_NODE_OPTIONS || env.BENCH_GATEWAY_MALLOC_ARENA_MAX)
    log(
      `    gateway runtime: NODE_OPTIONS=${env.BENCH_GATEWAY_NODE_OPTIONS ?? ''} MALLOC_ARENA_MAX=${env.BENCH_GATEWAY_MALLOC_ARENA_MAX ?? ''}`,
    );
  if (IDLE < WANT_IDLE) {
    log(`    asked for ${WANT_IDLE} idle connections; one process may hold only ${FD_LIMIT} open files here:`);
    if (FD_NOTE) log(`    ${FD_NOTE}`);
  }
  // A fresh store per measurement: what one leaves behind (presence, inboxes) must not tax the next.
  const fresh = async <T>(fn: (store: Store) => Promise<T>): Promise<T> => {
    const store = await startStore();
    try {
      return await fn(store);
    } finally {
      await store.stop();
    }
  };
  const centrifugo = await startCentrifugo();
  if (!centrifugo)
    log('    centrifugo is not installed (scripts/install-infra.sh centrifugo): the peer columns stay empty');
  try {
    if (ONLY.has('a')) {
      log(`--> (a) ${IDLE} idle connections`);
      const ours = await fresh(idleOurs);
      log(
        `    ours: ${(ours.perConn / 1024).toFixed(2)} KiB RSS per connection, connected in ${ours.seconds.toFixed(1)} s (each writes presence, reads its cursor; TCE_GATEWAY_OPTIMIZE_FOR=memory)`,
      );
      const peer = centrifugo ? await idleCentrifugo(centrifugo) : undefined;
      if (peer)
        log(
          `    centrifugo: ${(peer.perConn / 1024).toFixed(2)} KiB RSS per connection, connected in ${peer.seconds.toFixed(1)} s`,
        );
      rows.push({
        what: `(a) idle connections held by one process`,
        ours: IDLE,
        peer: peer ? IDLE : undefined,
        unit: '',
        better: 'higher',
      });
      rows.push({
        what: `(a) RSS per idle connection`,
        ours: ours.perConn / 1024,
        peer: peer && peer.perConn / 1024,
        unit: 'KiB',
        better: 'lower',
      });
      rows.push({
        what: `(a) connection setup rate`,
        ours: IDLE / ours.seconds,
        peer: peer && IDLE / peer.seconds,
        unit: '/s',
        better: 'higher',
      });
    }

    if (ONLY.has('c')) {
      log(`--> (c) fan-out to ${FANOUT} connected devices`);
      const fo = await fresh(fanoutOurs);
      log(
        `    ours: ${fo.delivered} stored one-to-one messages (one per device, ${FANOUT_ROUNDS} rounds) delivered and acked, ${fo.perSecond.toFixed(0)}/s`,
      );
      const fc = centrifugo ? await fanoutCentrifugo(centrifugo) : undefined;
      if (fc) {
        log(
          `    centrifugo: ${fc.channel.delivered} publications on one channel delivered, ${fc.channel.perSecond.toFixed(0)}/s (transient)${cpuText(fc.channel)}`,
        );
        log(
          `    centrifugo: ${fc.personal.delivered} broadcasts into ${FANOUT} personal channels with history delivered, ${fc.personal.perSecond.toFixed(0)}/s`,
        );
      }
      const fg = await fresh(groupFanoutOurs);
      log(
        `    ours: ${GROUP_ROUNDS} group messages (stored once each) delivered to ${FANOUT} members' devices and acked: one after another ${fg.sequential.perSecond.toFixed(0)}/s${cpuText(fg.sequential)}, all in flight ${fg.burst.perSecond.toFixed(0)}/s${cpuText(fg.burst)}`,
      );
      if (fc)
        log(
          `    centrifugo: ${GROUP_ROUNDS} publications on one channel, all in flight: ${fc.channelBurst.perSecond.toFixed(0)}/s${cpuText(fc.channelBurst)}`,
        );
      rows.push({
        what: `(c) fan-out to ${FANOUT}: group message vs channel publish, one after another`,
        ours: fg.sequential.perSecond,
        peer: fc?.channel.perSecond,
        unit: '/s',
        better: 'higher',
      });
      rows.push({
        what: `(c) fan-out to ${FANOUT}: group message vs channel publish, ${GROUP_ROUNDS} in flight`,
        ours: fg.burst.perSecond,
        peer: fc?.channelBurst.perSecond,
        unit: '/s',
        better: 'higher',
      });
      rows.push({
        what: `(c) fan-out to ${FANOUT}: inbox messages vs personal broadcast`,
        ours: fo.perSecond,
        peer: fc?.personal.perSecond,
        unit: '/s',
        better: 'higher',
      });
      rows.push({
        what: `(c) fan-out to ${FANOUT}: inbox messages vs channel publish`,
        ours: fo.perSecond,
        peer: fc?.channel.perSecond,
        unit: '/s',
        better: 'higher',
      });
    }

    if (ONLY.has('b')) {
      log(`--> (b) device→device across two gateways (${PAIRS} pairs, ${SECONDS} s per step; ours only)`);
      const steps = await fresh(deviceToDevice);
      for (const s of steps) {
        rows.push({
          what: `(b) offered ${s.rate}/s: delivered`,
          ours: s.perSecond,
          peer: undefined,
          unit: 'msg/s',
          better: 'higher',
        });
        rows.push({
          what: `(b) offered ${s.rate}/s: e2e p50`,
          ours: s.p50,
          peer: undefined,
          unit: 'ms',
          better: 'lower',
        });
        rows.push({
          what: `(b) offered ${s.rate}/s: e2e p99`,
          ours: s.p99,
          peer: undefined,
          unit: 'ms',
          better: 'lower',
        });
      }
    }
  } finally {
    await centrifugo?.stop();
  }
  printTable();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench-gateway failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
