// The SDK's exactly-once-to-the-app bookkeeping: the user's inbox and each
// group count in their own sequences, and redeliveries of either are dropped
// without touching the other's cursor.
import assert from 'node:assert/strict';
import { DeliveryFilter } from '../../../sdk/src/index.js';

const inbox = (seq: number, id = `m_i${seq}`) => ({ msg_id: id, seq, group_id: '' });
const grp = (g: string, seq: number, id = `m_${g}${seq}`) => ({ msg_id: id, seq, group_id: g });

/** What the app would be shown from a stream of pushes, in order. */
function shown(f: DeliveryFilter, pushes: { msg_id: string; seq: number; group_id: string }[]): string[] {
  const out: string[] = [];
  for (const m of pushes) {
    const dup = f.isDuplicate(m);
    if (!dup) out.push(m.msg_id);
    f.handled(m, !dup);
  }
  return out;
}

describe('SDK delivery filter', function () {
  it('keeps the inbox cursor and every group cursor apart', function () {
    const f = new DeliveryFilter();
    // A group far ahead of the inbox must neither hide inbox messages nor be hidden by them.
    assert.deepEqual(shown(f, [grp('g_a', 40), inbox(1), grp('g_a', 41), inbox(2), grp('g_b', 1), inbox(3)]), [
      'm_g_a40',
      'm_i1',
      'm_g_a41',
      'm_i2',
      'm_g_b1',
      'm_i3',
    ]);
    assert.equal(f.lastSeq, 3);
    assert.equal(f.groupCursor('g_a'), 41);
    assert.equal(f.groupCursor('g_b'), 1);
    assert.equal(f.groupCursor('g_unknown'), 0);
    assert.deepEqual(f.groupCursors(), { g_a: 41, g_b: 1 });
  });

  it('drops group redeliveries by (group, seq) and by msg_id', function () {
    const f = new DeliveryFilter();
    assert.deepEqual(shown(f, [grp('g_a', 1), grp('g_a', 2)]), ['m_g_a1', 'm_g_a2']);
    // After a reconnect the gateway resumes the group from the device's acked cursor: 2 again, then 3.
    assert.deepEqual(shown(f, [grp('g_a', 2), grp('g_a', 3)]), ['m_g_a3']);
    // The same message under a new seq (a second stored copy of a retried send): shown once.
    assert.deepEqual(shown(f, [grp('g_a', 9, 'm_g_a3')]), []);
    assert.equal(f.groupCursor('g_a'), 9, 'a dropped duplicate still moves the cursor (it is acked)');
    assert.equal(f.lastSeq, 0, 'group messages never move the inbox cursor');
  });

  it('drops inbox redeliveries as before, without touching group cursors', function () {
    const f = new DeliveryFilter({ lastSeq: 5 });
    assert.deepEqual(shown(f, [inbox(4), inbox(5), inbox(6), inbox(6), inbox(7, 'm_i6')]), ['m_i6']);
    assert.equal(f.lastSeq, 7);
    assert.deepEqual(f.groupCursors(), {});
  });

  it('starts from cursors the app persisted', function () {
    const f = new DeliveryFilter({ lastSeq: 2, groupSeqs: { g_a: 10 } });
    assert.deepEqual(shown(f, [grp('g_a', 10), grp('g_a', 11), inbox(2), inbox(3), grp('g_b', 1)]), [
      'm_g_a11',
      'm_i3',
      'm_g_b1',
    ]);
  });

  it('never moves a cursor backwards', function () {
    const f = new DeliveryFilter({ groupSeqs: { g_a: 10 } });
    f.handled(grp('g_a', 3), false);
    f.handled(inbox(4), true);
    f.handled(inbox(1), false);
    assert.equal(f.groupCursor('g_a'), 10);
    assert.equal(f.lastSeq, 4);
  });

  it('is bounded: forgets the least recently active group and the oldest ids', function () {
    const f = new DeliveryFilter({ maxGroups: 2, maxRecentIds: 2 });
    shown(f, [grp('g_a', 1), grp('g_b', 1), grp('g_a', 2), grp('g_c', 1)]);
    // g_b was the quietest: forgotten; g_a (active since) and g_c stay.
    assert.deepEqual(Object.keys(f.groupCursors()).sort(), ['g_a', 'g_c']);
    assert.equal(f.groupCursor('g_b'), 0);
    // Only the last two ids are remembered: an old id under a new seq is shown again.
    assert.deepEqual(shown(f, [inbox(1, 'm_g_a1'), inbox(2, 'm_g_c1')]), ['m_g_a1']);
  });

  it('clear() forgets everything (another user on the same client)', function () {
    const f = new DeliveryFilter({ lastSeq: 9, groupSeqs: { g_a: 3 } });
    shown(f, [inbox(10)]);
    f.clear();
    assert.equal(f.lastSeq, 0);
    assert.deepEqual(f.groupCursors(), {});
    assert.deepEqual(shown(f, [inbox(10), grp('g_a', 1)]), ['m_i10', 'm_g_a1']);
  });
});
