// The group limits and argument checks (pure decisions of group-service.ts),
// with the bad inputs written out.
import assert from 'node:assert/strict';
import { PlatformError } from '../../../services/runtime/src/errors.js';
import {
  checkGroupId,
  checkMembers,
  checkRoom,
  MAX_GROUP_MEMBERS,
  MAX_MEMBERS_PER_CALL,
} from '../../../services/gateway/src/group-service.js';

const refused = (code: string, message: string) => (e: unknown) => {
  assert.ok(e instanceof PlatformError);
  assert.deepEqual([e.code, e.message], [code, message]);
  return true;
};

describe('gateway group checks', function () {
  it('refuses a group past 20000 members, naming how many it has', function () {
    assert.equal(MAX_GROUP_MEMBERS, 20_000);
    checkRoom('g_AAAAAAAAAAAAAAAA', 19_999, 1);
    assert.throws(
      () => checkRoom('g_AAAAAAAAAAAAAAAA', 19_999, 2),
      refused('RESOURCE_EXHAUSTED', 'group g_AAAAAAAAAAAAAAAA would have more than 20000 members (it has 19999)'),
    );
  });

  it('checks member lists: size per call, well-formed ids, no group ids; drops the caller and repeats', function () {
    assert.deepEqual(checkMembers(['u_b', 'u_a', 'u_b', 'u_me'], 'u_me'), ['u_b', 'u_a']);
    assert.throws(
      () =>
        checkMembers(
          Array.from({ length: MAX_MEMBERS_PER_CALL + 1 }, (_, i) => `u_${i}`),
          'u_me',
        ),
      refused('INVALID_ARGUMENT', 'at most 1000 members per call'),
    );
    assert.throws(() => checkMembers(['u_ok', ''], 'u_me'), refused('INVALID_ARGUMENT', 'not a user id: ""'));
    assert.throws(
      () => checkMembers(['g_AAAAAAAAAAAAAAAA'], 'u_me'),
      refused('INVALID_ARGUMENT', 'not a user id: "g_AAAAAAAAAAAAAAAA"'),
    );
  });

  it('checks group ids', function () {
    checkGroupId('g_AAAAAAAAAAAAAAAA');
    for (const bad of ['', 'g_short', 'u_AAAAAAAAAAAAAAAA', 'g_AAAAAAAAAAAAAAA!', 'g_AAAAAAAAAAAAAAAAA']) {
      assert.throws(() => checkGroupId(bad), refused('INVALID_ARGUMENT', 'group_id: expected g_ and 16 characters'));
    }
  });
});
