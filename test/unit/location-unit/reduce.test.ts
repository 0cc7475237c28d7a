// The reduce step: k-way merge with a global limit, one claim per partition,
// missing partitions named.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { byDistance, kWayMerge, reduce, type Hit } from '../../../services/location-unit/src/reduce.js';

const hit = (user_id: string, distance_m: number, partition: number): Hit => ({
  user_id,
  distance_m,
  partition,
  lon: 0,
  lat: 0,
  time: 1,
});

describe('location-unit reduce', function () {
  it('kWayMerge equals sort-then-take (property)', function () {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 50 }))),
        fc.integer({ min: 0, max: 60 }),
        (lists, limit) => {
          const sorted = lists.map((l) => [...l].sort((a, b) => a - b));
          assert.deepEqual(
            kWayMerge(sorted, (a, b) => a - b, limit),
            sorted
              .flat()
              .sort((a, b) => a - b)
              .slice(0, limit),
          );
        },
      ),
    );
  });

  it('merges partials globally, nearest first, ties by user id', function () {
    const r = reduce(
      [
        { hits: [hit('b', 1, 0), hit('d', 5, 1)], partitions: [0, 1] },
        { hits: [hit('a', 1, 2), hit('c', 3, 3)], partitions: [2, 3] },
      ],
      [0, 1, 2, 3],
      byDistance,
      3,
    );
    assert.deepEqual(r, {
      hits: [hit('a', 1, 2), hit('b', 1, 0), hit('c', 3, 3)],
      partial: false,
      missing_partitions: [],
    });
  });

  it('names the partitions nobody answered for', function () {
    const r = reduce([{ hits: [hit('a', 1, 0)], partitions: [0, 2] }], [0, 1, 2, 3], byDistance, 10);
    assert.equal(r.partial, true);
    assert.deepEqual(r.missing_partitions, [1, 3]);
    assert.deepEqual(r.hits, [hit('a', 1, 0)]);
  });

  it('counts a partition claimed by two units once (the first claim)', function () {
    const r = reduce(
      [
        { hits: [hit('x', 2, 5)], partitions: [5] },
        { hits: [hit('x', 2, 5), hit('y', 3, 6)], partitions: [5, 6] },
      ],
      [5, 6],
      byDistance,
      10,
    );
    assert.deepEqual(
      r.hits.map((h) => h.user_id),
      ['x', 'y'],
    );
    assert.equal(r.partial, false);
  });
});
