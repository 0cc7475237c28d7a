// The chunked group fan-out: every message reaches every connection once and
// in order; a connection not yet reached when the next message arrives gets
// both in one offer; small groups are offered at once; a busy group does not
// keep its history.
import assert from 'node:assert/strict';
import { GroupFanout } from '../../../services/gateway/src/group-fanout.js';

function harness(chunk: number, gone: Set<string> = new Set()) {
  const offers: [string, readonly number[]][] = [];
  const turns: (() => void)[] = [];
  let idle = 0;
  const f = new GroupFanout<string, number>(
    (c, docs) => offers.push([c, docs]),
    () => idle++,
    (c) => !gone.has(c),
    chunk,
    (fn) => turns.push(fn),
  );
  const turn = (): void => turns.shift()!();
  const byConn = (): Record<string, number[]> => {
    const out: Record<string, number[]> = {};
    for (const [c, d] of offers) (out[c] ??= []).push(...d);
    return out;
  };
  return { f, offers, turns, turn, byConn, idle: () => idle };
}

describe('GroupFanout', function () {
  it('offers a small group at once, the same array to every connection', function () {
    const h = harness(512);
    const conns = ['a', 'b', 'c'];
    h.f.add([1], conns);
    assert.deepEqual(
      h.offers.map(([c, d]) => [c, [...d]]),
      [
        ['a', [1]],
        ['b', [1]],
        ['c', [1]],
      ],
    );
    assert.ok(
      h.offers.every(([, d]) => d === h.offers[0]![1]),
      'one array: the payload is encoded once',
    );
    assert.equal(h.turns.length, 0);
    assert.equal(h.idle(), 1);
  });

  it('gives the connections not yet reached the next message together with the first', function () {
    const h = harness(2);
    const conns = ['a', 'b', 'c', 'd', 'e'];
    h.f.add([1], conns);
    assert.deepEqual(
      h.offers.map(([c]) => c),
      ['a', 'b'],
    );
    h.f.add([2], conns); // arrives while c, d, e wait
    while (h.turns.length > 0) h.turn();
    assert.deepEqual(
      h.offers.slice(2).map(([c, d]) => [c, [...d]]),
      [
        ['c', [1, 2]],
        ['d', [1, 2]],
        ['e', [1, 2]],
        ['a', [2]],
        ['b', [2]],
      ],
    );
    assert.deepEqual(h.byConn(), { a: [1, 2], b: [1, 2], c: [1, 2], d: [1, 2], e: [1, 2] });
    assert.equal(h.idle(), 1);
  });

  it('starts a connection that joined at the message it joined with', function () {
    const h = harness(1);
    h.f.add([1], ['a', 'b']);
    h.f.add([2], ['a', 'b', 'new']);
    while (h.turns.length > 0) h.turn();
    assert.deepEqual(h.byConn(), { a: [1, 2], b: [1, 2], new: [2] });
  });

  it('keeps every connection in order under a stream of messages, and forgets what all have got', function () {
    const h = harness(3);
    const conns = Array.from({ length: 10 }, (_, i) => `c${i}`);
    let next = 1;
    for (let round = 0; round < 200; round++) {
      h.f.add([next++, next++], conns);
      h.turn();
      const held = (h.f as unknown as { docs: number[] }).docs.length;
      assert.ok(held <= 16, `round ${round}: ${held} messages held`);
    }
    while (h.turns.length > 0) h.turn();
    const all = Array.from({ length: next - 1 }, (_, i) => i + 1);
    for (const c of conns) assert.deepEqual(h.byConn()[c], all, c);
    assert.equal(h.idle(), 1);
  });

  it('starts afresh after going idle', function () {
    const h = harness(512);
    h.f.add([1], ['a']);
    h.f.add([2], ['a', 'b']);
    assert.deepEqual(h.byConn(), { a: [1, 2], b: [2] });
    assert.equal(h.idle(), 2);
  });

  it('drops connections that closed or left at the next pass of a group that never goes quiet', function () {
    const gone = new Set<string>();
    const h = harness(2, gone);
    const conns = Array.from({ length: 6 }, (_, i) => `c${i}`);
    let next = 1;
    for (let round = 0; round < 20; round++) {
      if (round === 5) gone.add('c3');
      h.f.add(
        [next++],
        conns.filter((c) => !gone.has(c)),
      );
      h.turn();
    }
    const held = (h.f as unknown as { conns: string[] }).conns;
    assert.ok(!held.includes('c3'), `still held: ${held.join()}`);
    const offeredAfter = h.offers.slice(-10).map(([c]) => c);
    assert.ok(!offeredAfter.includes('c3'), 'no offers to a gone connection later on');
  });
});
