// The revocation decision (pure): a record revokes the tokens of its user or
// session issued before its notBefore, and nothing else.
import assert from 'node:assert/strict';
import { isRevokedBy } from '../../../services/tokens/src/index.js';

describe('tokens: revocation decision', function () {
  const t = 1_700_000_000; // seconds
  const records = new Map<string, number>([
    ['user:u1', (t + 1) * 1000],
    ['session:s2', t * 1000],
  ]);

  const cases: [string, { sub: string; sid: string; iat: number }, boolean][] = [
    ['user revoked, token older', { sub: 'u1', sid: 'x', iat: t }, true],
    ['user revoked, token newer', { sub: 'u1', sid: 'x', iat: t + 1 }, false],
    ['session revoked, token older', { sub: 'u2', sid: 's2', iat: t - 1 }, true],
    ['session revoked, token issued at notBefore', { sub: 'u2', sid: 's2', iat: t }, false],
    ['other session of the same user', { sub: 'u2', sid: 's3', iat: t - 100 }, false],
    ['unrelated user', { sub: 'u3', sid: 's9', iat: t - 100 }, false],
  ];

  for (const [what, claims, revoked] of cases) {
    it(`${what} → ${revoked ? 'revoked' : 'valid'}`, function () {
      assert.equal(isRevokedBy(records, claims), revoked);
    });
  }
});
