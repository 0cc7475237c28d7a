// Location units as one consumer group of the real `mq_gps` (real EasyMQ, real
// store, unit processes). Points are published the way the gateway does (key =
// user id, payload = location.GpsPoint); once published they are acknowledged
// by the bus and must never be lost. Checked against brute force: with 3
// units; while scaling 3 → 5 → 2 and ingesting all the time (after each
// rebalance settles); after kill -9 of a unit. "Nothing acknowledged is lost"
// is checked twice: every published point is in `location_points`, and the bus
// dead-lettered none of them.
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { GpsPoint } from '../../../proto/gen/ts/location.js';
import { ILocationUnitProxy } from '../../../proto/gen/ts/location.tce.js';
import { MqClient } from '../../../services/mq/src/client/index.js';
import { freePort, startService, startStore, waitFor, type ServiceProcess, type Store } from '../../support/index.js';
import { bruteNearby, bruteWithin, type Pos } from '../../unit/location-unit/brute-force.js';

const PARTITIONS = 12;
const PW = 'gps-secret';
const ADMIN_PW = 'admin-secret';
const USERS = 400;

describe('location units on mq_gps: rebalancing keeps every query exact', function () {
  this.timeout(300_000);
  let store: Store;
  let mqProc: ServiceProcess;
  let mq: MqClient;
  let mongo: MongoClient;
  const published = new Set<string>();
  const units = new Map<number, ServiceProcess>();
  const latest = new Map<string, Pos>();
  const now = Date.now();
  let tick = 0;
  let seed = 9;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

  before(async function () {
    store = await startStore();
    const mqPort = await freePort();
    mqProc = await startService({
      name: 'mq',
      env: {
        TCE_MONGO_URL: store.url,
        TCE_GRPC_PORT: String(mqPort),
        TCE_MQ_ADMIN_PASSWORD: ADMIN_PW,
        TCE_MQ_PASSWORDS: JSON.stringify({ mq_gps: PW }),
        TCE_MQ_QUEUES: JSON.stringify([{ name: 'mq_gps', kind: 'partitioned', partitions: PARTITIONS, durable: true }]),
      },
    });
    mq = new MqClient(`127.0.0.1:${mqPort}`);
    mongo = new MongoClient(store.url);
  });

  after(async function () {
    mq?.close();
    await mongo?.close();
    await Promise.all([...units.values()].map((u) => u.stop()));
    await mqProc?.stop();
    await store?.stop();
  });

  async function addUnit(): Promise<number> {
    const port = await freePort();
    units.set(
      port,
      await startService({
        name: 'location-unit',
        env: {
          TCE_MONGO_URL: store.url,
          TCE_MQ_ADDR: mqProc.env.TCE_GRPC_PORT ? `127.0.0.1:${mqProc.env.TCE_GRPC_PORT}` : '',
          TCE_LOCATION_MQ_PASSWORD: PW,
          TCE_GRPC_PORT: String(port),
          TCE_ADVERTISE_ADDR: `127.0.0.1:${port}`,
          TCE_GPS_PARTITIONS: String(PARTITIONS),
          TCE_LOCATION_STALE_AFTER: '1h',
        },
        timeoutMs: 60_000,
      }),
    );
    return port;
  }

  async function publish(n: number): Promise<void> {
    const msgs = [];
    for (let i = 0; i < n; i++) {
      const u = `user-${Math.floor(rnd() * USERS)}`;
      const p = {
        user_id: u,
        lon: 8 + rnd() * 0.4,
        lat: 47 + rnd() * 0.4,
        time: now - 1_000_000 + ++tick,
        speed: 1,
        direction: 0,
      };
      msgs.push({ key: u, id: `${u}|${p.time}`, payload: GpsPoint.encode(p).finish() });
      published.add(`${u}|${p.time}`);
      const cur = latest.get(u);
      if (!cur || cur.time <= p.time) latest.set(u, { userId: u, lon: p.lon, lat: p.lat, time: p.time });
    }
    await mq.publishBatch('mq_gps', PW, msgs); // acknowledged by the bus from here on
  }

  const WORLD = { min_lon: -180, min_lat: -90, max_lon: 180, max_lat: 90 };

  /** Runs `fn` with a client of the unit at `port`, closed afterwards. */
  async function withUnit<T>(port: number, fn: (p: ILocationUnitProxy) => Promise<T>): Promise<T> {
    const p = new ILocationUnitProxy(`127.0.0.1:${port}`);
    try {
      return await fn(p);
    } finally {
      p.close();
    }
  }

  /** Waits until queries through every unit equal brute force (the rebalance has settled). */
  async function settled(what: string): Promise<void> {
    const ports = [...units.keys()];
    await waitFor(
      what,
      async () => {
        for (const port of ports) {
          await withUnit(port, async (p) => {
            const all = await p.within(WORLD, 1000);
            if (all.partial) throw new Error(`partial: missing ${all.missing_partitions.join(',')}`);
            if (all.hits.length !== latest.size) throw new Error(`${all.hits.length} of ${latest.size} users`);
            const l = await p.latest([...latest.keys()].slice(0, 200));
            for (const h of l.hits)
              if (latest.get(h.user_id)!.time !== h.time) throw new Error(`${h.user_id} not up to date`);
          });
        }
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    // No acknowledged point lost: each one stored once (its _id is user|time) and none dead-lettered.
    await waitFor(
      `${what}: every published point stored`,
      async () => {
        const n = await mongo.db().collection('location_points').countDocuments({});
        if (n !== published.size) throw new Error(`${n} of ${published.size} points stored`);
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    assert.equal((await mq.admin(ADMIN_PW).stats('mq_gps')).dead_lettered, 0);
    // Now exact: every unit answers every query like brute force.
    for (let q = 0; q < 15; q++) {
      await withUnit(ports[q % ports.length]!, async (p) => {
        const lon = 8 + rnd() * 0.4;
        const lat = 47 + rnd() * 0.4;
        const r = 500 + rnd() * 10_000;
        const limit = 1 + Math.floor(rnd() * 80);
        const got = await p.nearby(lon, lat, r, limit);
        assert.equal(got.partial, false);
        assert.deepEqual(
          got.hits.map((h) => ({ userId: h.user_id, d: h.distance_m })),
          bruteNearby(latest.values(), lon, lat, r, limit, now - 3_600_000),
        );
        // The same query, and a second one, as one nearbyMany: the map step runs on every unit once for both.
        const [same, other] = await p.nearbyMany([
          { lon, lat, radius_m: r, limit },
          { lon: lat - 39, lat: lon + 39, radius_m: r, limit },
        ]);
        assert.deepEqual([same!.partial, same!.hits], [false, got.hits]);
        assert.equal(other!.partial, false);
        assert.deepEqual(
          other!.hits.map((h) => ({ userId: h.user_id, d: h.distance_m })),
          bruteNearby(latest.values(), lat - 39, lon + 39, r, limit, now - 3_600_000),
        );
        const rect = { min_lon: lon, min_lat: lat, max_lon: lon + 0.1, max_lat: lat + 0.1 };
        assert.deepEqual(
          (await p.within(rect, limit)).hits.map((h) => h.user_id),
          bruteWithin(latest.values(), rect, limit, now - 3_600_000),
        );
        const ids = [...latest.keys()].filter(() => rnd() < 0.02);
        const l = await p.latest(ids);
        assert.deepEqual(
          l.hits.map((h) => [h.user_id, h.lon, h.lat, h.time]),
          ids.map((u) => [u, latest.get(u)!.lon, latest.get(u)!.lat, latest.get(u)!.time]),
        );
      });
    }
  }

  /**
   * Queries through `ports` in a loop until `during` resolves (nothing is
   * published meanwhile, so brute force is exact): every answer is either
   * complete and equal to brute force, or marked partial with the missing
   * partitions named. Returns how many of each it saw.
   */
  async function queryWhile(ports: number[], during: Promise<unknown>): Promise<{ complete: number; partial: number }> {
    let done = false;
    const r = during.finally(() => (done = true));
    const seen = { complete: 0, partial: 0 };
    const proxies = ports.map((port) => new ILocationUnitProxy(`127.0.0.1:${port}`));
    const check = (partial: boolean, missing: number[], exact: () => void): void => {
      if (partial) {
        assert.ok(missing.length > 0, 'a partial answer names its missing partitions');
        seen.partial++;
      } else {
        exact();
        seen.complete++;
      }
    };
    try {
      for (let q = 0; !done; q++) {
        const p = proxies[q % proxies.length]!;
        const lon = 8 + rnd() * 0.4;
        const lat = 47 + rnd() * 0.4;
        const radius = 2000 + rnd() * 8000;
        const limit = 1 + Math.floor(rnd() * 60);
        const near = await p.nearby(lon, lat, radius, limit);
        check(near.partial, near.missing_partitions, () =>
          assert.deepEqual(
            near.hits.map((h) => ({ userId: h.user_id, d: h.distance_m })),
            bruteNearby(latest.values(), lon, lat, radius, limit, now - 3_600_000),
          ),
        );
        const all = await p.within(WORLD, 1000);
        check(all.partial, all.missing_partitions, () =>
          assert.deepEqual(
            all.hits.map((h) => h.user_id),
            bruteWithin(latest.values(), WORLD, 1000, now - 3_600_000),
          ),
        );
      }
    } finally {
      for (const p of proxies) p.close();
    }
    await r;
    return seen;
  }

  /** Resolves once `within` over the world is complete through each of `ports` (a handoff has ended). */
  async function untilComplete(what: string, ports: number[]): Promise<void> {
    await waitFor(
      what,
      async () => {
        for (const port of ports) if ((await withUnit(port, (p) => p.within(WORLD, 1))).partial) return false;
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );
  }

  /** Publishes continuously until `during` resolves. */
  async function ingestWhile(during: Promise<unknown>): Promise<void> {
    let done = false;
    const r = during.finally(() => (done = true));
    while (!done) await publish(50);
    await r;
  }

  it('3 units answer like brute force', async function () {
    for (let i = 0; i < 3; i++) await addUnit();
    await publish(2000);
    await settled('3 units to hold every point');
  });

  it('queries while partitions move (3 → 4 → 3 units) are complete and exact, or marked partial', async function () {
    const asking = [...units.keys()];
    const up = await queryWhile(
      asking,
      (async () => {
        const port = await addUnit();
        await untilComplete('the 4th unit to take its partitions', [...asking, port]);
      })(),
    );
    const fourth = [...units.keys()].find((p) => !asking.includes(p))!;
    const down = await queryWhile(
      asking,
      (async () => {
        await units.get(fourth)!.stop();
        units.delete(fourth);
        await untilComplete('the 3 units to take the 4th unit’s partitions back', asking);
      })(),
    );
    assert.ok(up.complete + up.partial > 0 && down.complete + down.partial > 0, 'queries ran during both handoffs');
    await settled('3 units after the handoffs');
  });

  it('scales 3 → 5 → 2 while ingesting; after each rebalance results are exact and nothing acknowledged is lost', async function () {
    await ingestWhile(
      (async () => {
        await addUnit();
        await addUnit();
      })(),
    );
    await settled('5 units to settle');
    await ingestWhile(
      (async () => {
        for (const port of [...units.keys()].slice(0, 3)) {
          await units.get(port)!.stop();
          units.delete(port);
        }
      })(),
    );
    await settled('2 units to settle');
  });

  it('kill -9 of a unit: its partitions move, the state is rebuilt, results are correct', async function () {
    await addUnit();
    await settled('3 units again');
    const victim = [...units.keys()][0]!;
    // Killed in the middle of a steady stream (not between bursts): points are in its hands.
    const from = published.size;
    await ingestWhile(
      (async () => {
        await waitFor('ingest under way', () => published.size >= from + 1000, { timeoutMs: 60_000, intervalMs: 5 });
        await units.get(victim)!.kill9();
      })(),
    );
    units.delete(victim);
    await publish(300);
    await settled('the survivors to take the partitions over');
  });
});
