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

describe('coordinator: deadlines and latest', function () {
  /** A user named `u<p>` lives in partition p. */
  const partitionOf = (u: string): number => Number(u.slice(1));
  const latestHit = (u: string): Hit => hit(u, 0, partitionOf(u));

  interface FakePeer {
    owns: number[];
    calls: string[];
    hang?: boolean;
  }

  /** Local unit "a" owns 0–1; the remote units answer state() and mapLatest() for what they own. */
  function cluster(
    remotes: Record<string, FakePeer>,
    members = async (): Promise<string[]> => ['a', ...Object.keys(remotes)],
  ) {
    const local: LocalUnit = {
      addr: 'a',
      mapNearby: () => ({ hits: [hit('a1', 1, 0)], partitions: [0, 1] }),
      mapWithin: () => ({ hits: [], partitions: [0, 1] }),
      mapLatest: (us) => ({ hits: us.filter((u) => partitionOf(u) < 2).map(latestHit), partitions: [0, 1] }),
      ready: () => [0, 1],
    };
    // A hung unit: its calls fail when their deadline passes, as gRPC's do.
    const expire = (ms: number): Promise<never> =>
      new Promise((_, reject) => setTimeout(() => reject(new PlatformError('DEADLINE_EXCEEDED', 'deadline')), ms));
    const peers = {
      get: (addr: string) => {
        const r = remotes[addr]!;
        return {
          state: async () => {
            r.calls.push('state');
            return { addr, ready: r.owns, loading: [], partition_count: 4, users: 0 };
          },
          mapLatest: (us: string[], call: { timeout: number }) => {
            r.calls.push(`mapLatest(${us.join(',')})`);
            if (r.hang) return expire(call.timeout);
            const mine = us.filter((u) => r.owns.includes(partitionOf(u)));
            return Promise.resolve({ hits: mine.map(latestHit), partitions: r.owns });
          },
          mapNearbyMany: (qs: unknown[], _now: number, call: { timeout: number }) => {
            r.calls.push('mapNearbyMany');
            return r.hang ? expire(call.timeout) : Promise.resolve(qs.map(() => ({ hits: [], partitions: r.owns })));
          },
        };
      },
      retain: () => undefined,
    } as unknown as PeerPool;
    return new Coordinator(local, { members }, peers, { partitions: 4, partitionOf, logger: silentLogger });
  }

  it('sends latest only to the owners of the users asked, answering in the order asked', async function () {
    const b: FakePeer = { owns: [2, 3], calls: [] };
    const c: FakePeer = { owns: [], calls: [] };
    const r = await cluster({ b, c }).latest(['u3', 'u0', 'u2', 'u0'], Date.now() + 1000);
    assert.deepEqual(
      r.hits.map((h) => h.user_id),
      ['u3', 'u0', 'u2'],
    );
    assert.equal(r.partial, false);
    assert.deepEqual(b.calls, ['state', 'mapLatest(u3,u2)']);
    assert.deepEqual(c.calls, ['state']);
  });

  it('asks again after refreshing the owners when a partition moved', async function () {
    const b: FakePeer = { owns: [2, 3], calls: [] };
    const c: FakePeer = { owns: [], calls: [] };
    const coordinator = cluster({ b, c });
    await coordinator.latest(['u2'], Date.now() + 1000);
    // Partition 2 moves from b to c; the coordinator's table still says b.
    b.owns = [3];
    c.owns = [2];
    b.calls.length = c.calls.length = 0;
    const r = await coordinator.latest(['u2'], Date.now() + 1000);
    assert.deepEqual([r.partial, r.hits.map((h) => h.user_id)], [false, ['u2']]);
    assert.deepEqual(b.calls, ['mapLatest(u2)', 'state']);
    assert.deepEqual(c.calls, ['state', 'mapLatest(u2)']);
  });

  it('answers latest by the deadline, partial, when an owner hangs', async function () {
    const b: FakePeer = { owns: [2, 3], calls: [], hang: true };
    const deadline = Date.now() + 100;
    const r = await cluster({ b }).latest(['u0', 'u2'], deadline);
    assert.ok(Date.now() < deadline + 1000, 'answered long after the deadline');
    assert.deepEqual([r.partial, r.missing_partitions, r.hits.map((h) => h.user_id)], [true, [2], ['u0']]);
  });

  it('answers by the deadline from this unit alone when the directory does not answer', async function () {
    const b: FakePeer = { owns: [2, 3], calls: [] };
    const coordinator = cluster({ b }, () => new Promise<string[]>(() => undefined));
    let deadline = Date.now() + 100;
    const [near] = await coordinator.nearbyMany([{ lon: 0, lat: 0, radius_m: 1000, limit: 10 }], Date.now(), deadline);
    assert.ok(Date.now() < deadline + 1000, 'nearby answered long after the deadline');
    deadline = Date.now() + 100;
    const latest = await coordinator.latest(['u1', 'u3'], deadline);
    assert.ok(Date.now() < deadline + 1000, 'latest answered long after the deadline');
    assert.deepEqual(
      [near!.partial, near!.missing_partitions, near!.hits.map((h) => h.user_id)],
      [true, [2, 3], ['a1']],
    );
    assert.deepEqual(
      [latest.partial, latest.missing_partitions, latest.hits.map((h) => h.user_id)],
      [true, [3], ['u1']],
    );
    assert.deepEqual(b.calls, []);
  });
});
