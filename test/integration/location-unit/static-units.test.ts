// Three location units as real processes over a real store, sharded statically
// (no mq): points go in through ingest(), every query is compared with a
// brute-force scan of all reported points. Then a unit is killed with -9:
// queries say exactly which partitions are missing, and a restarted unit
// rebuilds its partitions from the store and answers correctly again.
import assert from 'node:assert/strict';
import { ILocationUnitProxy } from '../../../proto/gen/ts/location.tce.js';
import { partitionOf } from '../../../services/location-unit/src/partition-of.js';
import { PlatformError } from '../../../services/runtime/src/errors.js';
import { freePort, startService, startStore, waitFor, type ServiceProcess, type Store } from '../../support/index.js';
import { bruteNearby, bruteWithin, type Pos } from '../../unit/location-unit/brute-force.js';

const PARTITIONS = 16;
const SHARDS = ['0-5', '6-10', '11-15'];
const ownersOf = (shard: string): number[] => {
  const [a, b] = shard.split('-').map(Number) as [number, number];
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
};

describe('location units (static sharding): map-reduce equals brute force', function () {
  this.timeout(180_000);
  let store: Store;
  const units: (ServiceProcess | undefined)[] = [];
  const ports: number[] = [];
  const proxies: ILocationUnitProxy[] = [];
  const latest = new Map<string, Pos>();
  const now = Date.now();
  let seed = 42;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

  const startUnit = (i: number): Promise<ServiceProcess> =>
    startService({
      name: 'location-unit',
      env: {
        TCE_MONGO_URL: store.url,
        TCE_GRPC_PORT: String(ports[i]),
        TCE_ADVERTISE_ADDR: `127.0.0.1:${ports[i]}`,
        TCE_LOCATION_PEERS: ports.map((p) => `127.0.0.1:${p}`).join(','),
        TCE_LOCATION_PARTITIONS: SHARDS[i]!,
        TCE_GPS_PARTITIONS: String(PARTITIONS),
        TCE_LOCATION_STALE_AFTER: '1h',
      },
    });

  before(async function () {
    store = await startStore();
    for (let i = 0; i < 3; i++) ports.push(await freePort());
    for (let i = 0; i < 3; i++) units.push(await startUnit(i));
    for (const p of ports) proxies.push(new ILocationUnitProxy(`127.0.0.1:${p}`));
  });

  after(async function () {
    for (const p of proxies) p.close();
    await Promise.all(units.map((u) => u?.stop()));
    await store?.stop();
  });

  async function report(points: { user_id: string; lon: number; lat: number; time: number }[]): Promise<void> {
    const full = points.map((p) => ({ ...p, speed: 1, direction: 90 }));
    // Every unit gets every point and keeps its own: the sum accepted is the total.
    const rs = await Promise.all(proxies.map((x) => x.ingest(full)));
    assert.equal(
      rs.reduce((s, r) => s + r.accepted, 0),
      full.length,
    );
    for (const p of points) {
      const cur = latest.get(p.user_id);
      if (!cur || cur.time <= p.time)
        latest.set(p.user_id, { userId: p.user_id, lon: p.lon, lat: p.lat, time: p.time });
    }
  }

  async function checkQueries(n: number): Promise<void> {
    for (let q = 0; q < n; q++) {
      const via = proxies[q % proxies.length]!;
      const lon = 8 + rnd() * 0.5;
      const lat = 47 + rnd() * 0.5;
      const r = 200 + rnd() * 20_000;
      const limit = 1 + Math.floor(rnd() * 120);
      const got = await via.nearby(lon, lat, r, limit);
      assert.equal(got.partial, false);
      assert.deepEqual(
        got.hits.map((h) => ({ userId: h.user_id, d: h.distance_m })),
        bruteNearby(latest.values(), lon, lat, r, limit, now - 3_600_000),
        `nearby(${lon}, ${lat}, ${r}, ${limit})`,
      );
      if (q % 5 === 0) {
        // The same kind of queries in one nearbyMany call: each answer equals brute force, in the order asked.
        const qs = Array.from({ length: 6 }, () => ({
          lon: 8 + rnd() * 0.5,
          lat: 47 + rnd() * 0.5,
          radius_m: 200 + rnd() * 20_000,
          limit: Math.floor(rnd() * 120), // 0: the default (50)
        }));
        const many = await via.nearbyMany(qs);
        assert.equal(many.length, qs.length);
        many.forEach((m, i) => {
          const x = qs[i]!;
          assert.equal(m.partial, false);
          assert.deepEqual(
            m.hits.map((h) => ({ userId: h.user_id, d: h.distance_m })),
            bruteNearby(latest.values(), x.lon, x.lat, x.radius_m, x.limit || 50, now - 3_600_000),
            `nearbyMany[${i}] (${x.lon}, ${x.lat}, ${x.radius_m}, ${x.limit})`,
          );
        });
      }
      if (q % 5 === 1) {
        // Concurrent single nearby calls (the coordinator batches them): each answer its own.
        const qs = Array.from({ length: 12 }, () => [8 + rnd() * 0.5, 47 + rnd() * 0.5, 200 + rnd() * 20_000] as const);
        const got = await Promise.all(qs.map(([x, y, rr]) => via.nearby(x, y, rr, 30)));
        got.forEach((g, i) => {
          const [x, y, rr] = qs[i]!;
          assert.equal(g.partial, false);
          assert.deepEqual(
            g.hits.map((h) => ({ userId: h.user_id, d: h.distance_m })),
            bruteNearby(latest.values(), x, y, rr, 30, now - 3_600_000),
            `concurrent nearby[${i}]`,
          );
        });
      }
      const rect = { min_lon: lon, min_lat: lat, max_lon: lon + rnd() * 0.2, max_lat: lat + rnd() * 0.2 };
      const w = await via.within(rect, limit);
      assert.deepEqual(
        w.hits.map((h) => h.user_id),
        bruteWithin(latest.values(), rect, limit, now - 3_600_000),
      );
      const ids = [...latest.keys()].filter(() => rnd() < 0.01).concat(['nobody']);
      const l = await via.latest(ids);
      assert.equal(l.partial, false);
      assert.deepEqual(
        l.hits.map((h) => [h.user_id, h.lon, h.lat, h.time]),
        ids.filter((u) => latest.has(u)).map((u) => [u, latest.get(u)!.lon, latest.get(u)!.lat, latest.get(u)!.time]),
      );
    }
  }

  it('ingests random points (moves, late and duplicate points) and answers like brute force', async function () {
    for (let round = 0; round < 4; round++) {
      const batch = [];
      for (let i = 0; i < 1500; i++) {
        const u = `user-${Math.floor(rnd() * 3000)}`;
        batch.push({
          user_id: u,
          lon: 8 + rnd() * 0.5,
          lat: 47 + rnd() * 0.5,
          time: now - Math.floor(rnd() * 1_000_000),
        });
      }
      batch.push({ ...batch[0]! }); // a redelivered point is stored once and changes nothing
      await report(batch);
    }
    // Stale positions are left out of nearby/within but still the user's latest.
    await report([{ user_id: 'stale-user', lon: 8.25, lat: 47.25, time: now - 2 * 3_600_000 }]);
    await checkQueries(40);
    const l = await proxies[0]!.latest(['stale-user']);
    assert.equal(l.hits[0]?.time, now - 2 * 3_600_000);
  });

  it('answers like brute force across the antimeridian and next to the poles', async function () {
    const edge: { user_id: string; lon: number; lat: number; time: number }[] = [];
    for (let i = 0; i < 300; i++) {
      const t = now - Math.floor(rnd() * 100_000);
      // A band on both sides of ±180°, and caps around both poles (any longitude).
      const lon = 179.7 + rnd() * 0.6;
      edge.push({ user_id: `am-${i}`, lon: lon > 180 ? lon - 360 : lon, lat: -1 + rnd() * 2, time: t });
      edge.push({ user_id: `np-${i}`, lon: -180 + rnd() * 360, lat: 89.8 + rnd() * 0.2, time: t });
      edge.push({ user_id: `sp-${i}`, lon: -180 + rnd() * 360, lat: -90 + rnd() * 0.2, time: t });
    }
    await report(edge);
    const near: [number, number, number, number][] = [
      [180, 0, 20_000, 40],
      [-179.95, 0.5, 30_000, 100],
      [179.99, -0.9, 15_000, 10],
      [0, 90, 15_000, 60],
      [137, 89.9, 25_000, 500],
      [-45, -90, 10_000, 30],
      [90, -89.85, 40_000, 1000],
    ];
    for (const [i, [lon, lat, r, limit]] of near.entries()) {
      const got = await proxies[i % proxies.length]!.nearby(lon, lat, r, limit);
      assert.equal(got.partial, false);
      assert.ok(got.hits.length > 0, `nearby(${lon}, ${lat}) found something`);
      assert.deepEqual(
        got.hits.map((h) => ({ userId: h.user_id, d: h.distance_m })),
        bruteNearby(latest.values(), lon, lat, r, limit, now - 3_600_000),
        `nearby(${lon}, ${lat}, ${r}, ${limit})`,
      );
    }
    const rects = [
      { min_lon: 179.8, min_lat: -0.5, max_lon: -179.8, max_lat: 0.5 }, // across ±180°
      { min_lon: -180, min_lat: 89.9, max_lon: 180, max_lat: 90 },
      { min_lon: 10, min_lat: -90, max_lon: 100, max_lat: -89.9 },
    ];
    for (const [i, rect] of rects.entries()) {
      const got = await proxies[i % proxies.length]!.within(rect, 1000);
      assert.equal(got.partial, false);
      assert.ok(got.hits.length > 0, `within(${JSON.stringify(rect)}) found something`);
      assert.deepEqual(
        got.hits.map((h) => h.user_id),
        bruteWithin(latest.values(), rect, 1000, now - 3_600_000),
        `within(${JSON.stringify(rect)})`,
      );
    }
  });

  it('pages a track from the store', async function () {
    const t0 = now - 500_000;
    await report(
      Array.from({ length: 25 }, (_, i) => ({ user_id: 'walker', lon: 8 + i * 0.001, lat: 47, time: t0 + i * 1000 })),
    );
    const seen: number[] = [];
    let from = t0;
    for (;;) {
      const page = await proxies[1]!.track('walker', from, 0, 10);
      seen.push(...page.points.map((p) => p.time));
      if (!page.has_more) break;
      from = page.next_from;
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 25 }, (_, i) => t0 + i * 1000),
    );
    const some = await proxies[2]!.track('walker', t0 + 3000, t0 + 5000, 0);
    assert.deepEqual(
      some.points.map((p) => p.time),
      [t0 + 3000, t0 + 4000, t0 + 5000],
    );
  });

  it('rejects bad inputs with INVALID_ARGUMENT and precise messages, and keeps serving', async function () {
    const p = proxies[0]!;
    const cases: [string, () => Promise<unknown>, string][] = [
      ['lat 91', () => p.nearby(0, 91, 100, 10), 'lat must be a number between -90 and 90, got 91'],
      ['lon -181', () => p.nearby(-181, 0, 100, 10), 'lon must be a number between -180 and 180, got -181'],
      ['lon NaN', () => p.nearby(NaN, 0, 100, 10), 'lon must be a number between -180 and 180, got NaN'],
      ['lon 181', () => p.nearby(181, 0, 100, 10), 'lon must be a number between -180 and 180, got 181'],
      ['lat -91', () => p.nearby(0, -91, 100, 10), 'lat must be a number between -90 and 90, got -91'],
      ['lat NaN', () => p.nearby(0, NaN, 100, 10), 'lat must be a number between -90 and 90, got NaN'],
      [
        'radius NaN',
        () => p.nearby(0, 0, NaN, 10),
        "radius_m must be greater than 0 and at most 20015114 (half the earth's circumference), got NaN",
      ],
      [
        'radius -5',
        () => p.nearby(0, 0, -5, 10),
        "radius_m must be greater than 0 and at most 20015114 (half the earth's circumference), got -5",
      ],
      [
        'radius Infinity',
        () => p.nearby(0, 0, Infinity, 10),
        "radius_m must be greater than 0 and at most 20015114 (half the earth's circumference), got Infinity",
      ],
      [
        'rect lon NaN',
        () => p.within({ min_lon: NaN, min_lat: 0, max_lon: 1, max_lat: 1 }, 10),
        'rect.min_lon must be a number between -180 and 180, got NaN',
      ],
      [
        'rect lon 190',
        () => p.within({ min_lon: 0, min_lat: 0, max_lon: 190, max_lat: 1 }, 10),
        'rect.max_lon must be a number between -180 and 180, got 190',
      ],
      [
        'rect lat 95',
        () => p.within({ min_lon: 0, min_lat: 0, max_lon: 1, max_lat: 95 }, 10),
        'rect.max_lat must be a number between -90 and 90, got 95',
      ],
      [
        'radius 0',
        () => p.nearby(0, 0, 0, 10),
        "radius_m must be greater than 0 and at most 20015114 (half the earth's circumference), got 0",
      ],
      [
        'radius 3e7',
        () => p.nearby(0, 0, 3e7, 10),
        "radius_m must be greater than 0 and at most 20015114 (half the earth's circumference), got 30000000",
      ],
      [
        'limit -3',
        () => p.nearby(0, 0, 10, -3),
        'limit must be an integer between 1 and 1000 (0 for the default 50), got -3',
      ],
      [
        'rect upside down',
        () => p.within({ min_lon: 0, min_lat: 5, max_lon: 1, max_lat: 4 }, 10),
        'rect.min_lat must not be greater than rect.max_lat, got 5 > 4',
      ],
      [
        'nearbyMany with a bad second query',
        () =>
          p.nearbyMany([
            { lon: 8, lat: 47, radius_m: 100, limit: 5 },
            { lon: 8, lat: 95, radius_m: 100, limit: 5 },
          ]),
        'queries[1]: lat must be a number between -90 and 90, got 95',
      ],
      [
        'nearbyMany with a bad limit',
        () => p.nearbyMany([{ lon: 8, lat: 47, radius_m: 100, limit: 1001 }]),
        'queries[0]: limit must be an integer between 1 and 1000 (0 for the default 50), got 1001',
      ],
      [
        'nearbyMany with 257 queries',
        () => p.nearbyMany(Array.from({ length: 257 }, () => ({ lon: 8, lat: 47, radius_m: 100, limit: 5 }))),
        'at most 256 queries per call, got 257',
      ],
      ['empty user id', () => p.latest(['a', '']), 'user_ids must not contain an empty id'],
      ['track from > to', () => p.track('walker', 10, 5, 10), 'from_time must not be after to_time, got 10 > 5'],
      ['track without user', () => p.track('', 0, 0, 10), 'user_id must not be empty'],
    ];
    for (const [name, call, message] of cases) {
      await assert.rejects(call(), (e: PlatformError) => {
        assert.equal(e.code, 'INVALID_ARGUMENT', name);
        assert.equal(e.message, message, name);
        return true;
      });
    }
    const bad = await p.ingest([{ user_id: 'x', lon: 200, lat: 0, time: now, speed: 0, direction: 0 }]);
    assert.deepEqual(bad, { accepted: 0, invalid: 1, not_owned: [] });
    assert.equal((await p.nearby(8.2, 47.2, 1000, 5)).partial, false);
    assert.deepEqual(await p.nearbyMany([]), []);
  });

  it('kill -9 of a unit: its partitions are named missing; restarted, it rebuilds from the store', async function () {
    await units[1]!.kill9();
    units[1] = undefined;
    const r = await proxies[0]!.nearby(8.25, 47.25, 50_000, 100);
    assert.equal(r.partial, true);
    assert.deepEqual(r.missing_partitions, ownersOf(SHARDS[1]!));
    // Only hits of the partitions that did answer.
    const answered = [...latest.values()].filter(
      (p) => !ownersOf(SHARDS[1]!).includes(partitionOf(p.userId, PARTITIONS)),
    );
    assert.deepEqual(
      r.hits.map((h) => h.user_id),
      bruteNearby(answered, 8.25, 47.25, 50_000, 100, now - 3_600_000).map((h) => h.userId),
    );
    // Every query of a nearbyMany says the same.
    const many = await proxies[2]!.nearbyMany([
      { lon: 8.25, lat: 47.25, radius_m: 50_000, limit: 100 },
      { lon: 8.1, lat: 47.1, radius_m: 5000, limit: 10 },
    ]);
    assert.deepEqual(
      many.map((m) => [m.partial, m.missing_partitions]),
      [
        [true, ownersOf(SHARDS[1]!)],
        [true, ownersOf(SHARDS[1]!)],
      ],
    );
    assert.deepEqual(
      many[0]!.hits.map((h) => h.user_id),
      r.hits.map((h) => h.user_id),
    );
    const lost = [...latest.keys()].find((u) => ownersOf(SHARDS[1]!).includes(partitionOf(u, PARTITIONS)))!;
    const l = await proxies[2]!.latest([lost]);
    assert.deepEqual([l.partial, l.missing_partitions], [true, [partitionOf(lost, PARTITIONS)]]);

    units[1] = await startUnit(1);
    // Every unit coordinates queries: each must have reconnected to the restarted one.
    await waitFor('queries through every unit to be complete again', async () => {
      const answers = await Promise.all(proxies.map((p) => p.nearby(8.25, 47.25, 1000, 1)));
      return answers.every((a) => !a.partial);
    });
    await checkQueries(20);
  });
});
