// The grid index against a brute-force scan: random data in dense and sparse
// layouts, around the poles and the antimeridian, with moves and removals.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GridIndex } from '../../../services/location-unit/src/grid-index.js';
import { bruteNearby, bruteWithin, type Pos } from './brute-force.js';

const all = (): boolean => true;

function check(
  ix: GridIndex,
  pos: Map<string, Pos>,
  lon: number,
  lat: number,
  r: number,
  limit: number,
  minTime = -Infinity,
): void {
  const got = ix.nearby(lon, lat, r, limit, minTime, all).map((h) => ({ userId: h.userId, d: h.distanceM }));
  assert.deepEqual(
    got,
    bruteNearby(pos.values(), lon, lat, r, limit, minTime),
    `nearby(${lon}, ${lat}, ${r}, ${limit})`,
  );
}

describe('location-unit grid index', function () {
  const lonArb = fc.double({ min: -180, max: 180, noNaN: true });
  const latArb = fc.double({ min: -90, max: 90, noNaN: true });

  it('nearby equals brute force on random world-wide data (property)', function () {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(lonArb, latArb), { minLength: 0, maxLength: 300 }),
        lonArb,
        latArb,
        fc.double({ min: 1, max: 5_000_000, noNaN: true }),
        fc.integer({ min: 1, max: 40 }),
        (pts, lon, lat, r, limit) => {
          const ix = new GridIndex(0.5);
          const pos = new Map<string, Pos>();
          pts.forEach(([x, y], i) => {
            ix.upsert(`u${i}`, 0, x, y, i);
            pos.set(`u${i}`, { userId: `u${i}`, lon: x, lat: y, time: i });
          });
          check(ix, pos, lon, lat, r, limit);
        },
      ),
      { numRuns: 300 },
    );
  });

  for (const [name, cLon, cLat] of [
    ['the north pole', 37, 89.995],
    ['the south pole', -120, -89.999],
    ['the antimeridian', 179.999, 12],
    ['the antimeridian from the west', -179.9995, -33],
    ['the equator at 0°', 0, 0],
  ] as const) {
    it(`nearby around ${name} equals brute force (dense cluster, many radii)`, function () {
      const ix = new GridIndex();
      const pos = new Map<string, Pos>();
      let seed = 7;
      const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      for (let i = 0; i < 3000; i++) {
        const lat = Math.max(-90, Math.min(90, cLat + (rnd() - 0.5) * 0.1));
        let lon = cLon + (rnd() - 0.5) * 0.1;
        if (lon > 180) lon -= 360;
        if (lon < -180) lon += 360;
        ix.upsert(`u${i}`, i % 8, lon, lat, i);
        pos.set(`u${i}`, { userId: `u${i}`, lon, lat, time: i });
      }
      for (const r of [10, 300, 1000, 5000, 20_000]) {
        for (const limit of [1, 50, 1000]) check(ix, pos, cLon, cLat, r, limit);
      }
      check(ix, pos, cLon, cLat, 5000, 50, 1500);
    });
  }

  it('moves and removals keep nearby and within exact', function () {
    const ix = new GridIndex(0.01);
    const pos = new Map<string, Pos>();
    let seed = 3;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let step = 0; step < 20_000; step++) {
      const u = `u${Math.floor(rnd() * 2000)}`;
      if (rnd() < 0.1) {
        assert.equal(ix.remove(u), pos.delete(u));
        continue;
      }
      const p = { userId: u, lon: 10 + rnd() * 0.3, lat: 50 + rnd() * 0.3, time: step };
      ix.upsert(u, 0, p.lon, p.lat, p.time);
      pos.set(u, p);
    }
    assert.equal(ix.size, pos.size);
    for (let q = 0; q < 50; q++) {
      check(
        ix,
        pos,
        10 + rnd() * 0.3,
        50 + rnd() * 0.3,
        100 + rnd() * 5000,
        1 + Math.floor(rnd() * 100),
        rnd() * 20_000,
      );
      const a = 10 + rnd() * 0.3;
      const b = 50 + rnd() * 0.3;
      const rect = { min_lon: a, min_lat: b, max_lon: a + rnd() * 0.1, max_lat: b + rnd() * 0.1 };
      assert.deepEqual(
        ix.within(rect, 30, 5000, all).map((h) => h.userId),
        bruteWithin(pos.values(), rect, 30, 5000),
      );
    }
  });

  it('within a rectangle across the antimeridian equals brute force', function () {
    const ix = new GridIndex();
    const pos = new Map<string, Pos>();
    for (let i = 0; i < 2000; i++) {
      const lon = ((i * 7.31) % 40) - 20 + (i % 2 ? 180 : -180) * 0.95;
      const lat = ((i * 3.7) % 60) - 30;
      ix.upsert(`u${i}`, 0, lon, lat, 1);
      pos.set(`u${i}`, { userId: `u${i}`, lon, lat, time: 1 });
    }
    const rect = { min_lon: 170, min_lat: -20, max_lon: -172, max_lat: 25 };
    assert.deepEqual(
      ix.within(rect, 1000, 0, all).map((h) => h.userId),
      bruteWithin(pos.values(), rect, 1000),
    );
  });

  it('ties are broken by user id, also where the limit cuts through them (property)', function () {
    // Users share a handful of exact positions, so most distances tie: the heap
    // then orders by user id, which it reads only on a tie.
    const spots = [
      [8.5, 47.3],
      [8.5001, 47.3],
      [8.5, 47.3001],
      [8.4999, 47.2999],
    ] as const;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 4 }), fc.nat(spots.length - 1)), {
          selector: ([id]) => id,
          maxLength: 120,
        }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 60 }),
        (users, limit, rectLimit) => {
          const ix = new GridIndex();
          const pos = new Map<string, Pos>();
          for (const [id, k] of users) {
            const [lon, lat] = spots[k]!;
            ix.upsert(id, 0, lon, lat, 1);
            pos.set(id, { userId: id, lon, lat, time: 1 });
          }
          check(ix, pos, 8.5, 47.3, 50, limit);
          check(ix, pos, 8.50004, 47.30002, 50, limit);
          const rect = { min_lon: 8.4, min_lat: 47.2, max_lon: 8.6, max_lat: 47.4 };
          assert.deepEqual(
            ix.within(rect, rectLimit, 0, all).map((h) => h.userId),
            bruteWithin(pos.values(), rect, rectLimit),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a partition filter hides entries of partitions not answered for', function () {
    const ix = new GridIndex();
    ix.upsert('a', 1, 0, 0, 1);
    ix.upsert('b', 2, 0.0001, 0, 1);
    assert.deepEqual(
      ix.nearby(0, 0, 100, 10, 0, (p) => p === 2).map((h) => h.userId),
      ['b'],
    );
  });

  it('the guessed first radius never changes an answer: dense and sparse areas, filters, limits in turn', function () {
    // nearby() first scans a radius guessed from the previous answer and falls
    // back to the full radius when that finds fewer than `limit` hits; queries
    // alternate between a dense city and sparse outskirts so both paths (and a
    // guess learned in the other area) are taken.
    const ix = new GridIndex();
    const pos = new Map<string, Pos>();
    let seed = 11;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 4000; i++) {
      const dense = i < 3500;
      const lon = dense ? 8.5 + rnd() * 0.02 : 8.3 + rnd() * 0.6;
      const lat = dense ? 47.3 + rnd() * 0.02 : 47.1 + rnd() * 0.4;
      ix.upsert(`u${i}`, i % 4, lon, lat, i);
      pos.set(`u${i}`, { userId: `u${i}`, lon, lat, time: i });
    }
    for (let q = 0; q < 200; q++) {
      const dense = q % 3 !== 2;
      const lon = dense ? 8.5 + rnd() * 0.02 : 8.3 + rnd() * 0.6;
      const lat = dense ? 47.3 + rnd() * 0.02 : 47.1 + rnd() * 0.4;
      const limit = [1, 10, 50, 300][q % 4]!;
      const minTime = q % 5 === 0 ? 2000 : -Infinity;
      check(ix, pos, lon, lat, [200, 1000, 5000, 30_000][(q % 7) % 4]!, limit, minTime);
    }
  });
});
