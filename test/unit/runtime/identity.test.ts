import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { signIdentity, verifyIdentity } from '../../../services/runtime/src/identity.js';

describe('identity metadata', function () {
  const key = crypto.randomBytes(32);
  const now = 1_700_000_000_000;

  it('round-trips a signed identity', function () {
    assert.deepEqual(verifyIdentity(signIdentity({ userId: 'u', deviceId: 'd' }, key, now), key, now), {
      userId: 'u',
      deviceId: 'd',
    });
  });

  it('rejects tampering, other keys, stale values and garbage', function () {
    const v = signIdentity({ userId: 'u', deviceId: 'd' }, key, now);
    const [body, mac] = v.split('.') as [string, string];
    const forgedBody = Buffer.from(JSON.stringify({ u: 'admin', d: 'd', t: now })).toString('base64url');
    const cases: [string, string][] = [
      ['other key', signIdentity({ userId: 'u', deviceId: 'd' }, crypto.randomBytes(32), now)],
      ['swapped body', `${forgedBody}.${mac}`],
      ['truncated mac', `${body}.${mac.slice(0, 10)}`],
      ['no dot', body],
      ['empty', ''],
      ['json garbage', `${Buffer.from('{').toString('base64url')}.x`],
    ];
    for (const [what, value] of cases) assert.equal(verifyIdentity(value, key, now), undefined, what);
    assert.equal(verifyIdentity(v, key, now + 10 * 60_000), undefined, 'stale');
  });
});
