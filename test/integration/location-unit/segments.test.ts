// The write-ahead segments of a location unit on a real store: a point is
// durable once its segment is stored; a new owner rebuilds from latest records
// plus the segments nobody compacted (a crash before compaction); `track` sees
// points still in segments; the compactor moves them into location_points and
// location_latest and deletes the segments; a revoked partition's segments stay
// in the store for the next owner.
import assert from 'node:assert/strict';
import { MongoClient, type Db } from 'mongodb';
import { IngestPipeline } from '../../../services/location-unit/src/ingest-pipeline.js';
import { LocationStore, SEGMENTS } from '../../../services/location-unit/src/location-store.js';
import { PartitionManager } from '../../../services/location-unit/src/partition-manager.js';
import { SegmentCompactor } from '../../../services/location-unit/src/segment-compactor.js';
import { UnitState, type Point } from '../../../services/location-unit/src/unit-state.js';
import { silentLogger } from '../../../services/runtime/src/logger.js';
import { startStore, waitFor, type Store } from '../../support/index.js';

const P = 3;
const pt = (user_id: string, time: number, lon = 8.5, lat = 47.4): Point => ({
  user_id,
  lon,
  lat,
  time,
  speed: 1,
  direction: 2,
});

interface Unit {
  state: UnitState;
  compactor: SegmentCompactor;
  pipeline: IngestPipeline;
  manager: PartitionManager;
  stop(): Promise<void>;
}

describe('location-unit write-ahead segments (real store)', function () {
  this.timeout(120_000);
  let store: Store;
  let mongo: MongoClient;
  let db: Db;
  let locs: LocationStore;
  const units: Unit[] = [];

  /**
   * One unit's parts in process; `compact: false` keeps its compactor from running
   * (a unit that dies first); `maxBacklog` and `batchMax` as the compactor and pipeline take them.
   */
  function unit(compact = true, { maxBacklog = 1_000_000, batchMax = 100 } = {}): Unit {
    const state = new UnitState(5);
    const compactor = new SegmentCompactor(locs, state, { logger: silentLogger, idleMs: 20, maxBacklog });
    const pipeline = new IngestPipeline(locs, state, compactor, { batchMax, flushMs: 5, logger: silentLogger });
    const manager = new PartitionManager(state, locs, pipeline, compactor, silentLogger);
    const u: Unit = {
      state,
      compactor,
      pipeline,
      manager,
      async stop() {
        await pipeline.stop(1000);
        await compactor.stop();
      },
    };
    units.push(u);
    if (!compact) void compactor.stop();
    return u;
  }

  before(async function () {
    store = await startStore();
    mongo = await new MongoClient(store.url).connect();
    db = mongo.db();
    locs = new LocationStore(db);
    await locs.ensureIndexes();
  });
  after(async function () {
    for (const u of units) await u.stop();
    await mongo?.close();
    await store?.stop();
  });
  beforeEach(async function () {
    for (const c of ['location_points', 'location_latest', SEGMENTS]) await db.collection(c).deleteMany({});
  });

  it('rebuilds from segments nobody compacted, answers track from them, then compacts them away', async function () {
    // The first owner stores two segments and dies before compacting them.
    const dead = unit(false);
    await dead.manager.assign([P]);
    for (const p of [pt('ann', 1000), pt('bob', 1000, 9, 48)]) assert.equal(await dead.pipeline.submit(p, P), true);
    assert.equal(await dead.pipeline.submit(pt('ann', 2000, 8.6, 47.5), P), true);
    assert.ok((await db.collection(SEGMENTS).countDocuments({ p: P })) >= 1);
    assert.equal(await db.collection('location_points').countDocuments({}), 0);
    // Any unit's track already sees the acked points.
    assert.deepEqual(
      (await locs.track('ann', P, 0, Number.MAX_SAFE_INTEGER, 10)).map((d) => [d.t, d.lon]),
      [
        [1000, 8.5],
        [2000, 8.6],
      ],
    );

    const next = unit();
    await next.manager.assign([P]);
    assert.equal(next.state.ownership.isReady(P), true);
    const ann = next.state.get('ann')!;
    assert.deepEqual([ann.time, ann.lon, ann.lat], [2000, 8.6, 47.5]);
    assert.deepEqual(
      ann.track.map((t) => t.t),
      [1000, 2000],
    );
    assert.equal(next.state.get('bob')?.lon, 9);

    await waitFor('the compactor to compact and delete', () => next.compactor.idle);
    assert.equal(await db.collection(SEGMENTS).countDocuments({}), 0);
    assert.deepEqual(
      (await db.collection('location_points').find({}).sort({ _id: 1 }).toArray()).map((d) => d._id),
      ['ann|1000', 'ann|2000', 'bob|1000'],
    );
    const stored = await db.collection('location_latest').find({}).sort({ u: 1 }).toArray();
    assert.deepEqual(
      stored.map((d) => [d.u, d.t]),
      [
        ['ann', 2000],
        ['bob', 1000],
      ],
    );
    // Same answer from the compacted form, and no point twice.
    assert.deepEqual(
      (await locs.track('ann', P, 0, Number.MAX_SAFE_INTEGER, 10)).map((d) => d.t),
      [1000, 2000],
    );
    // A third owner rebuilds from the latest records alone, recent track included.
    const third = unit();
    await third.manager.assign([P]);
    assert.deepEqual(third.state.get('ann')?.track, [
      { t: 1000, lon: 8.5, lat: 47.4 },
      { t: 2000, lon: 8.6, lat: 47.5 },
    ]);
    assert.equal(third.compactor.backlog, 0);
  });

  it('a revoked partition keeps its uncompacted segments for the next owner', async function () {
    const old = unit(false);
    await old.manager.assign([P]);
    assert.equal(await old.pipeline.submit(pt('cy', 5000), P), true);
    await old.manager.revoke([P]);
    assert.equal(old.state.get('cy'), undefined);
    assert.equal(old.compactor.backlog, 0);
    assert.equal(await db.collection(SEGMENTS).countDocuments({ p: P }), 1);

    const next = unit();
    await next.manager.assign([P]);
    assert.equal(next.state.get('cy')?.time, 5000);
    await waitFor('the next owner to compact it', () => next.compactor.idle);
    assert.equal(await db.collection('location_points').countDocuments({ _id: 'cy|5000' as never }), 1);
  });

  it('a revocation under a full backlog completes: the revoked segments stop holding writers back', async function () {
    const { state, compactor, pipeline, manager } = unit(true, { maxBacklog: 1, batchMax: 1 });
    // Owned but still loading: nothing of it is compacted, so the backlog stays full.
    state.ownership.assign(P);
    assert.equal(await pipeline.submit(pt('eve', 1), P), true);
    assert.equal(compactor.backlog, 1);
    const second = pipeline.submit(pt('eve', 2), P); // its writer waits for room
    await manager.revoke([P]);
    assert.equal(await second, true);
    assert.equal(compactor.backlog, 0);
    assert.equal(await db.collection(SEGMENTS).countDocuments({ p: P }), 2);
  });

  it('storing the same segments again (a retry after a lost answer) is not an error and stores them once', async function () {
    const segs = locs.segmentsOf(new Map([[P, [pt('fay', 1), pt('fay', 2)]]]));
    await locs.storeSegments(segs);
    await locs.storeSegments(segs);
    assert.deepEqual(
      (await locs.loadSegments(P)).map((x) => [x.id, x.count]),
      [[segs[0]!.id, 2]],
    );
  });
});
