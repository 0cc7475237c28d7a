// nearbyMany's coordination: one map call per unit for all queries, each query
// reduced on its own and answered in order; a unit that fails, answers the
// wrong number of partials, or (an older release) lacks mapNearbyMany; and
// concurrent single nearby queries batched the same way.
import assert from 'node:assert/strict';
import { Coordinator, type LocalUnit } from '../../../services/location-unit/src/coordinator.js';
import type { PeerPool } from '../../../services/location-unit/src/peer-pool.js';
import type { Hit, MapResult } from '../../../services/location-unit/src/reduce.js';
import { PlatformError } from '../../../services/runtime/src/errors.js';
import { silentLogger } from '../../../services/runtime/src/logger.js';

const hit = (user: string, d: number, partition: number): Hit => ({
  user_id: user,
  lon: 0,
  lat: 0,
  time: 1,
  distance_m: d,
  partition,
});

/** Unit "a" (local) owns partitions 0–1, unit "b" (remote) 2–3; each has one hit per query, at the query's lon. */
function setup(remote: {
  mapNearbyMany?: (qs: { lon: number }[]) => Promise<MapResult[]>;
  mapNearby?: (lon: number) => Promise<MapResult>;
}): { coordinator: Coordinator; remoteCalls: string[] } {
  const remoteCalls: string[] = [];
  const local: LocalUnit = {
    addr: 'a',
    mapNearby: (lon) => ({ hits: [hit(`a${lon}`, lon + 0.5, 0)], partitions: [0, 1] }),
    mapWithin: () => ({ hits: [], partitions: [0, 1] }),
    mapLatest: () => ({ hits: [], partitions: [0, 1] }),
    ready: () => [0, 1],
  };
  const peer = {
    mapNearbyMany: (qs: { lon: number }[]) => {
      remoteCalls.push(`mapNearbyMany(${qs.length})`);
      return remote.mapNearbyMany
        ? remote.mapNearbyMany(qs)
        : Promise.reject(new PlatformError('UNIMPLEMENTED', 'no such method'));
    },
    mapNearby: (lon: number) => {
      remoteCalls.push(`mapNearby(${lon})`);
      return remote.mapNearby!(lon);
    },
  };
  const peers = { get: () => peer, retain: () => undefined } as unknown as PeerPool;
  const coordinator = new Coordinator(local, { members: async () => ['a', 'b'] }, peers, {
    partitions: 4,
    partitionOf: () => 0,
    logger: silentLogger,
  });
  return { coordinator, remoteCalls };
}

const queries = [1, 2, 3].map((lon) => ({ lon, lat: 0, radius_m: 1000, limit: 10 }));
const remoteHits = (lon: number): MapResult => ({ hits: [hit(`b${lon}`, lon, 2)], partitions: [2, 3] });

describe('coordinator: nearbyMany', function () {
  it('makes one map call per remote unit for all queries and answers each query merged, in order', async function () {
    const { coordinator, remoteCalls } = setup({ mapNearbyMany: async (qs) => qs.map((q) => remoteHits(q.lon)) });
    const rs = await coordinator.nearbyMany(queries, Date.now(), Date.now() + 1000);
    assert.deepEqual(remoteCalls, ['mapNearbyMany(3)']);
    assert.deepEqual(
      rs.map((r) => [r.partial, r.hits.map((h) => h.user_id)]),
      [
        [false, ['b1', 'a1']],
        [false, ['b2', 'a2']],
        [false, ['b3', 'a3']],
      ],
    );
  });

  it('answers an empty list with an empty list and calls nobody', async function () {
    const { coordinator, remoteCalls } = setup({ mapNearbyMany: async () => [] });
    assert.deepEqual(await coordinator.nearbyMany([], Date.now(), Date.now() + 1000), []);
    assert.deepEqual(remoteCalls, []);
  });

  it('falls back to one mapNearby per query on a unit without mapNearbyMany (UNIMPLEMENTED)', async function () {
    const { coordinator, remoteCalls } = setup({ mapNearby: async (lon) => remoteHits(lon) });
    const rs = await coordinator.nearbyMany(queries, Date.now(), Date.now() + 1000);
    assert.deepEqual(remoteCalls, ['mapNearbyMany(3)', 'mapNearby(1)', 'mapNearby(2)', 'mapNearby(3)']);
    assert.deepEqual(
      rs.map((r) => r.hits.map((h) => h.user_id)),
      [
        ['b1', 'a1'],
        ['b2', 'a2'],
        ['b3', 'a3'],
      ],
    );
    assert.ok(rs.every((r) => !r.partial));
  });

  it('marks every query partial, naming the partitions, when a unit fails', async function () {
    const { coordinator } = setup({
      mapNearbyMany: () => Promise.reject(new PlatformError('UNAVAILABLE', 'connection refused')),
    });
    const rs = await coordinator.nearbyMany(queries, Date.now(), Date.now() + 1000);
    assert.deepEqual(
      rs.map((r) => [r.partial, r.missing_partitions, r.hits.map((h) => h.user_id)]),
      [
        [true, [2, 3], ['a1']],
        [true, [2, 3], ['a2']],
        [true, [2, 3], ['a3']],
      ],
    );
  });

  it('treats a unit that answers the wrong number of partials as failed (partial, not misassigned)', async function () {
    const { coordinator } = setup({ mapNearbyMany: async (qs) => qs.slice(1).map((q) => remoteHits(q.lon)) });
    const rs = await coordinator.nearbyMany(queries, Date.now(), Date.now() + 1000);
    assert.ok(rs.every((r) => r.partial && r.missing_partitions.join() === '2,3'));
  });

  it('runs concurrent single nearby queries as one batch: one map call per unit, each caller its own answer', async function () {
    const { coordinator, remoteCalls } = setup({ mapNearbyMany: async (qs) => qs.map((q) => remoteHits(q.lon)) });
    const deadline = Date.now() + 1000;
    const rs = await Promise.all([1, 2, 3].map((lon) => coordinator.nearby(lon, 0, 1000, 10, deadline)));
    assert.deepEqual(remoteCalls, ['mapNearbyMany(3)']);
    assert.deepEqual(
      rs.map((r) => r.hits.map((h) => h.user_id)),
      [
        ['b1', 'a1'],
        ['b2', 'a2'],
        ['b3', 'a3'],
      ],
    );
  });
});
