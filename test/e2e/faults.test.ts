// The fault run: a small steady load (messages between users on different
// gateways, GPS reports) while a gateway, a location unit and the mq are
// killed with SIGKILL in turn and started again. The load generator (the SDK)
// reconnects by itself; at the end every acknowledged message has arrived
// (lost = 0) and nearby answers are complete and correct.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TceClient } from '../../sdk/src/index.js';
import { startLocalPlatform, type LocalPlatform } from '../../scripts/local/launcher.js';
import { gatewayUrls } from '../../scripts/local/scenario.js';
import { waitFor } from '../support/wait.js';

interface LoadUser {
  name: string;
  client: TceClient;
  id: string;
  lon: number;
  lat: number;
  received: Set<string>;
}

const PASSWORD = 'steady load under fire 123';

/** Great-circle distance in metres (what the location units report). */
function haversine(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const r = (d: number): number => (d * Math.PI) / 180;
  const a =
    Math.sin(r(lat2 - lat1) / 2) ** 2 + Math.cos(r(lat1)) * Math.cos(r(lat2)) * Math.sin(r(lon2 - lon1) / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.sqrt(a));
}

/** The mq replica holding the lease: the only one whose /readyz answers 200. */
async function mqLeader(p: LocalPlatform): Promise<string> {
  const ready: string[] = [];
  for (const name of ['mq', 'mq-2']) {
    const proc = p.processes.get(name);
    if (!proc?.process.running) continue;
    const res = await fetch(`http://127.0.0.1:${proc.opsPort}/readyz`).catch(() => undefined);
    if (res?.status === 200) ready.push(name);
  }
  if (ready.length !== 1) throw new Error(`mq replicas ready: ${ready.join(', ') || 'none'}`);
  return ready[0]!;
}

describe('fault run: kill -9 a gateway, a location unit and the mq leader under load', function () {
  let dir: string;
  let platform: LocalPlatform | undefined;
  const users: LoadUser[] = [];
  let running = false;
  const acked = new Map<string, string>(); // text → recipient id
  const timers: ReturnType<typeof setInterval>[] = [];
  const inflight = new Set<Promise<unknown>>();
  let failedSends = 0;
  let passed = false;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-faults-'));
    // Two mq replicas: the leader is killed and the standby takes over.
    platform = await startLocalPlatform({ dir, logLevel: 'warn', fileServices: 1, mqReplicas: 2 });
  });

  after(async function () {
    running = false;
    for (const t of timers) clearInterval(t);
    for (const u of users) u.client.close();
    await platform?.stop();
    // Keep the per-process logs of a failed run.
    if (this.currentTest?.state === 'failed' || !passed) console.log(`      logs kept in ${dir}/logs`);
    else fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged message and answers nearby correctly afterwards', async function () {
    const p = platform!;
    const gws = gatewayUrls(p);
    assert.equal(gws.length, 2);
    const suffix = Date.now().toString(36);
    // Four users around one point, ~100–400 m apart; users 0 and 2 start on gateway-1, 1 and 3 on gateway-2.
    for (let i = 0; i < 4; i++) {
      const urls = i % 2 === 0 ? gws : [...gws].reverse();
      const client = new TceClient({
        url: urls,
        deviceId: `load-${i}-${suffix}`,
        deviceType: 'load',
        heartbeatMs: 2000,
        sendTimeoutMs: 90_000,
        backoff: { initialMs: 100, maxMs: 1000 },
      });
      client.on('error', () => undefined);
      const u: LoadUser = {
        name: `load${i}_${suffix}`,
        client,
        id: '',
        lon: 2.35 + i * 0.002,
        lat: 48.85 + i * 0.0005,
        received: new Set(),
      };
      client.handlers.onMessage = (m): void => {
        const t = m.items.find((x) => x.type === 'text');
        if (t && t.type === 'text') u.received.add(t.text);
      };
      users.push(u); // closed in after() whatever happens next
      await client.connect();
      await client.register({ username: u.name, password: PASSWORD }).catch((err: unknown) => {
        throw new Error(`register ${u.name} on ${client.url}: ${String(err)}`);
      });
      await client.login(u.name, PASSWORD);
      u.id = client.session!.user_id;
    }

    // Steady load: user i sends to user i+1 (always across gateways) every 200 ms; everyone reports GPS every 500 ms.
    running = true;
    let n = 0;
    timers.push(
      setInterval(() => {
        if (!running) return;
        for (let i = 0; i < users.length; i++) {
          const from = users[i]!;
          const to = users[(i + 1) % users.length]!;
          const text = `m-${i}-${n}`;
          const s = from.client
            .send(to.id, [{ type: 'text', text }])
            .then(() => void acked.set(text, to.id))
            .catch(() => void failedSends++)
            .finally(() => inflight.delete(s));
          inflight.add(s);
        }
        n++;
      }, 200),
      setInterval(() => {
        if (!running) return;
        for (const u of users) {
          try {
            u.client.reportGps({ lon: u.lon, lat: u.lat, time: Date.now() });
          } catch {
            // not connected right now: the next report goes through
          }
        }
      }, 500),
    );

    const progress = async (what: string): Promise<void> => {
      const before = acked.size;
      await waitFor(`messages acknowledged again ${what}`, () => acked.size >= before + 20, { timeoutMs: 90_000 });
    };

    await progress('under steady load');
    // 1. A gateway dies: its devices reconnect to the other one, then it comes back.
    await p.kill9('gateway-1');
    await progress('after kill -9 gateway-1');
    await p.restart('gateway-1');
    await progress('after gateway-1 restarted');
    // 2. A location unit dies (not unit 1: the gateways' TCE_LOCATION_ADDR points there, like a Service would);
    //    the others take its partitions over from the bus.
    await p.kill9('location-unit-2');
    await progress('after kill -9 location-unit-2');
    await p.restart('location-unit-2');
    // 3. The mq leader dies: the standby takes the lease over and recovers the queues from the store;
    //    the killed replica comes back (and the pair settles on one leader again).
    // /readyz also reports store-write errors: ask until exactly one replica leads.
    const leader = await waitFor('one mq leader', () => mqLeader(p).catch(() => undefined), { timeoutMs: 30_000 });
    await p.kill9(leader);
    const successor = await waitFor('the standby to take the mq lease', () => mqLeader(p).catch(() => undefined), {
      timeoutMs: 60_000,
    });
    assert.notEqual(successor, leader);
    await progress(`after kill -9 ${leader} (the mq leader)`);
    await p.restart(leader);
    await waitFor('one mq leader again', () => mqLeader(p).catch(() => undefined), { timeoutMs: 60_000 });
    for (const name of ['mq', 'mq-2']) {
      // A replica that found a newer lease than its own exits by design; bring it back as the standby.
      if (!p.processes.get(name)?.process.running) await p.restart(name);
    }
    await progress('after the mq pair recovered');

    // Stop the load, let in-flight sends settle, then every acknowledged message must arrive.
    running = false;
    await Promise.allSettled([...inflight]);
    const missing = (): string[] =>
      [...acked].filter(([text, to]) => !users.find((u) => u.id === to)!.received.has(text)).map(([t]) => t);
    await waitFor('every acknowledged message delivered', () => missing().length === 0, { timeoutMs: 90_000 }).catch(
      () => undefined,
    );
    const lost = missing();
    assert.deepEqual(lost.slice(0, 20), [], `lost ${lost.length} of ${acked.size} acknowledged messages`);
    assert.ok(acked.size >= 100, `only ${acked.size} messages acknowledged`);

    // Nearby: fresh reports from everyone, then a complete answer with all four at the right distances.
    const [q] = users;
    const correct = async (): Promise<boolean> => {
      for (const u of users) await u.client.reportGpsConfirmed({ lon: u.lon, lat: u.lat, time: Date.now() });
      const r = await q!.client.nearby(q!.lon, q!.lat, 2000, 50);
      if (r.partial) return false;
      return users.every((u) => {
        const hit = r.hits.find((h) => h.user_id === u.id);
        return hit !== undefined && Math.abs(hit.distance_m - haversine(q!.lon, q!.lat, u.lon, u.lat)) < 2;
      });
    };
    await waitFor('complete and correct nearby results', () => correct().catch(() => false), {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    passed = true;
    console.log(
      `      acknowledged ${acked.size}, lost 0, sends that gave up ${failedSends}; mq lease ${leader} → ${successor}`,
    );
  });
});
