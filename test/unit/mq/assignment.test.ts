// Sticky partition assignment: balanced, exclusive, complete, and moving only
// what must move (property-based over random groups and histories).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stickyAssign } from '../../../services/mq/src/assignment.js';

const all = (a: Map<string, number[]>): number[] => [...a.values()].flat().sort((x, y) => x - y);

describe('mq sticky assignment', function () {
  it('assigns every partition exactly once, balanced within one', function () {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 128 }), fc.integer({ min: 1, max: 20 }), (p, n) => {
        const members = Array.from({ length: n }, (_, i) => `m${i}`);
        const a = stickyAssign(p, members, new Map());
        assert.deepEqual(
          all(a),
          Array.from({ length: p }, (_, i) => i),
        );
        const sizes = members.map((m) => a.get(m)!.length);
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
      }),
    );
  });

  it('keeps what members own when it can: a join moves only the new member’s share', function () {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 96 }), fc.integer({ min: 1, max: 10 }), (p, n) => {
        const members = Array.from({ length: n }, (_, i) => `m${i}`);
        const before = stickyAssign(p, members, new Map());
        const after = stickyAssign(p, [...members, 'new'], before);
        const moved = [...after]
          .filter(([m]) => m !== 'new')
          .reduce((k, [m, ps]) => k + before.get(m)!.filter((x) => !ps.includes(x)).length, 0);
        assert.equal(moved, after.get('new')!.length);
        assert.deepEqual(
          all(after),
          Array.from({ length: p }, (_, i) => i),
        );
      }),
    );
  });

  it('a leave moves only the leaver’s partitions', function () {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 96 }), fc.integer({ min: 2, max: 10 }), fc.nat(), (p, n, k) => {
        const members = Array.from({ length: n }, (_, i) => `m${i}`);
        const before = stickyAssign(p, members, new Map());
        const gone = members[k % n]!;
        const rest = members.filter((m) => m !== gone);
        const after = stickyAssign(p, rest, new Map([...before].filter(([m]) => m !== gone)));
        for (const m of rest) for (const x of before.get(m)!) assert.ok(after.get(m)!.includes(x), `${m} kept ${x}`);
        assert.deepEqual(
          all(after),
          Array.from({ length: p }, (_, i) => i),
        );
      }),
    );
  });

  it('1 → 3 → 2 members on 64 partitions', function () {
    const one = stickyAssign(64, ['a'], new Map());
    assert.equal(one.get('a')!.length, 64);
    const three = stickyAssign(64, ['a', 'b', 'c'], one);
    assert.deepEqual(
      [...three.values()].map((v) => v.length),
      [22, 21, 21],
    );
    assert.ok(three.get('a')!.every((x) => one.get('a')!.includes(x)));
    const two = stickyAssign(64, ['a', 'c'], new Map([...three].filter(([m]) => m !== 'b')));
    assert.deepEqual(
      [...two.values()].map((v) => v.length),
      [32, 32],
    );
    assert.deepEqual(
      all(two),
      Array.from({ length: 64 }, (_, i) => i),
    );
  });

  it('ignores partitions out of range and duplicates in the current state', function () {
    const a = stickyAssign(
      4,
      ['x', 'y'],
      new Map([
        ['x', [0, 1, 9]],
        ['y', [1, 2]],
      ]),
    );
    assert.deepEqual(a.get('x'), [0, 1]);
    assert.deepEqual(a.get('y'), [2, 3]);
  });
});
