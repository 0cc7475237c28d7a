// Unit state: newest-wins latest positions, bounded tracks, ownership
// generations (a stale load never makes a partition ready), drop on revocation.
import assert from 'node:assert/strict';
import { Ownership } from '../../../services/location-unit/src/ownership.js';
import { addToTrack } from '../../../services/location-unit/src/track-ring.js';
import { UnitState, type Point } from '../../../services/location-unit/src/unit-state.js';
import { pointProblem } from '../../../services/location-unit/src/point-check.js';

const pt = (user_id: string, lon: number, lat: number, time: number): Point => ({
  user_id,
  lon,
  lat,
  time,
  speed: 0,
  direction: 0,
});

describe('location-unit state', function () {
  it('track ring keeps the newest N by time, in order, without duplicates', function () {
    let t: { t: number; lon: number; lat: number }[] = [];
    for (const x of [5, 1, 3, 9, 7, 3, 2]) t = addToTrack(t, { t: x, lon: x, lat: 0 }, 4);
    assert.deepEqual(
      t.map((p) => p.t),
      [3, 5, 7, 9],
    );
    assert.deepEqual(addToTrack([], { t: 1, lon: 0, lat: 0 }, 0), []);
  });

  it('ownership: the ready snapshot (list + mask) follows every change', function () {
    const o = new Ownership();
    const snap = (): [number[], number[]] => {
      const { list, mask } = o.readySnapshot();
      return [[...list], [...mask.keys()].filter((p) => mask[p] === 1)];
    };
    assert.deepEqual(snap(), [[], []]);
    const g3 = o.assign(3);
    const g1 = o.assign(1);
    assert.deepEqual(snap(), [[], []]);
    o.loaded(3, g3);
    assert.deepEqual(snap(), [[3], [3]]);
    o.loaded(1, g1);
    assert.deepEqual(snap(), [
      [1, 3],
      [1, 3],
    ]);
    o.revoke(3);
    assert.deepEqual(snap(), [[1], [1]]);
    o.assign(1); // reassigned: loading again, not answered for
    assert.deepEqual(snap(), [[], []]);
    assert.deepEqual(o.ready(), []);
  });

  it('ownership: loading → ready; a load of an older generation is stale', function () {
    const o = new Ownership();
    const g1 = o.assign(3);
    assert.deepEqual([o.loading(), o.ready()], [[3], []]);
    o.revoke(3);
    const g2 = o.assign(3);
    assert.equal(o.loaded(3, g1), false);
    assert.equal(o.isReady(3), false);
    assert.equal(o.loaded(3, g2), true);
    assert.deepEqual(o.ready(), [3]);
    assert.equal(o.revoke(3), true);
    assert.equal(o.loaded(3, g2), false);
  });

  it('the latest position is the newest point; late points only join the track', function () {
    const s = new UnitState(3);
    s.ownership.loaded(0, s.ownership.assign(0));
    assert.equal(s.apply(pt('u', 1, 1, 100), 0), true);
    s.apply(pt('u', 2, 2, 50), 0);
    assert.equal(s.get('u')!.lon, 1);
    assert.deepEqual(
      s.get('u')!.track.map((p) => p.t),
      [50, 100],
    );
    s.apply(pt('u', 3, 3, 200), 0);
    assert.equal(s.get('u')!.lon, 3);
    assert.equal(s.apply(pt('v', 0, 0, 1), 7), false, 'not owned');
  });

  it('restore merges stored records with points that arrived during the load', function () {
    const s = new UnitState(5);
    const g = s.ownership.assign(1);
    s.apply(pt('u', 9, 9, 300), 1);
    s.restore({
      userId: 'u',
      partition: 1,
      lon: 1,
      lat: 1,
      time: 200,
      speed: 0,
      direction: 0,
      track: [{ t: 200, lon: 1, lat: 1 }],
    });
    s.restore({ userId: 'w', partition: 1, lon: 4, lat: 4, time: 10, speed: 0, direction: 0, track: [] });
    s.ownership.loaded(1, g);
    assert.equal(s.get('u')!.time, 300);
    assert.deepEqual(
      s.get('u')!.track.map((p) => p.t),
      [200, 300],
    );
    assert.deepEqual(
      s.mapLatest(['w', 'u', 'nobody'], () => 1).hits.map((h) => h.user_id),
      ['w', 'u'],
    );
  });

  it('only ready partitions are answered for; drop forgets a partition', function () {
    const s = new UnitState(2);
    s.ownership.loaded(0, s.ownership.assign(0));
    s.ownership.assign(1);
    s.apply(pt('a', 0, 0, 1), 0);
    s.apply(pt('b', 0, 0, 1), 1);
    const r = s.mapNearby(0, 0, 10, 10, 0);
    assert.deepEqual(r.partitions, [0]);
    assert.deepEqual(
      r.hits.map((h) => h.user_id),
      ['a'],
    );
    s.ownership.revoke(0);
    assert.equal(s.drop(0), 1);
    assert.equal(s.get('a'), undefined);
    assert.equal(s.userCount, 1);
  });

  it('bad points are named', function () {
    const now = 1_700_000_000_000;
    const cases: [Point, string | undefined][] = [
      [pt('u', 1, 1, now), undefined],
      [pt('', 1, 1, now), 'user_id is empty'],
      [pt('u', 181, 1, now), 'lon must be between -180 and 180, got 181'],
      [pt('u', 1, NaN, now), 'lat must be between -90 and 90, got NaN'],
      [pt('u', 1, 1, 0), 'time must be a positive integer (ms since epoch), got 0'],
      [pt('u', 1, 1, now + 11 * 60_000), 'time is more than 10 minutes in the future'],
    ];
    for (const [p, want] of cases) assert.equal(pointProblem(p, now), want);
  });
});
