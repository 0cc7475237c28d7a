// MembershipClock: an opening superseded by a later join or leave of its group
// must not go on; changes of other groups do not matter.
import assert from 'node:assert/strict';
import { MembershipClock } from '../../../services/gateway/src/membership-clock.js';

describe('gateway: MembershipClock', function () {
  it('lets an opening go on when nothing changed its group since its stamp', function () {
    const c = new MembershipClock();
    const s = c.stamp();
    c.change('g_other');
    assert.equal(c.current('g_a', s), true);
    assert.equal(c.current('g_a', MembershipClock.START), true, 'a connection without changes');
  });

  it('stops a session-start opening when the user leaves the group meanwhile', function () {
    const c = new MembershipClock();
    const atSessionStart = c.stamp(); // before the memberships were read
    c.change('g_a'); // leave
    assert.equal(c.current('g_a', atSessionStart), false);
  });

  it('after leave then join, only the join’s own opening goes on', function () {
    const c = new MembershipClock();
    const early = c.stamp();
    c.change('g_a'); // leave
    const join = c.change('g_a'); // join again
    assert.equal(c.current('g_a', early), false);
    assert.equal(c.current('g_a', join), true);
  });
});
