// Access tokens: round trip, and every way a token must be refused —
// tampering, expiry, wrong issuer/audience, alg none and other algorithms,
// unknown and retired keys, malformed parts — each with its precise reason.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  AUDIENCE,
  ISSUER,
  generateKeySet,
  parseKeySet,
  rotateKeySet,
  signAccessToken,
  verifyAccessToken,
  type KeySet,
} from '../../../services/tokens/src/index.js';

const NOW = 1_700_000_000_000;
const TTL = 15 * 60_000;
const claims = { sub: 'u_1', did: 'd_1', sid: 's_1', name: 'alice' };

const b64 = (o: unknown): string => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');

/** Signs arbitrary header and payload with a key (what an attacker holding the key — or not — could produce). */
function forge(header: unknown, payload: unknown, secret: Buffer): string {
  const h = b64(header);
  const p = b64(payload);
  return `${h}.${p}.${crypto.createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')}`;
}

describe('tokens: access tokens', function () {
  const keys: KeySet = parseKeySet(generateKeySet('k1'));
  const secret = keys.active.secret;
  const good = signAccessToken(keys, claims, { ttlMs: TTL, now: NOW }).token;
  const payload = (over: Record<string, unknown> = {}) => ({
    iss: ISSUER,
    aud: AUDIENCE,
    ...claims,
    iat: NOW / 1000,
    exp: (NOW + TTL) / 1000,
    jti: 'j',
    ...over,
  });
  const header = { alg: 'HS256', typ: 'JWT', kid: 'k1' };
  const refused = (message: string) => ({ name: 'PlatformError', code: 'UNAUTHENTICATED', message });

  it('round-trips the claims, with only the documented fields', function () {
    const c = verifyAccessToken(keys, good, NOW);
    assert.deepEqual(Object.keys(c).sort(), ['did', 'exp', 'iat', 'jti', 'name', 'sid', 'sub']);
    assert.deepEqual({ sub: c.sub, did: c.did, sid: c.sid, name: c.name }, claims);
    assert.equal(c.exp - c.iat, TTL / 1000);
    assert.match(c.jti, /^[A-Za-z0-9_-]{16}$/);
  });

  it('gives every token a fresh jti', function () {
    const a = verifyAccessToken(keys, signAccessToken(keys, claims, { ttlMs: TTL, now: NOW }).token, NOW);
    const b = verifyAccessToken(keys, signAccessToken(keys, claims, { ttlMs: TTL, now: NOW }).token, NOW);
    assert.notEqual(a.jti, b.jti);
  });

  it('honours expiry with the clock skew allowance', function () {
    const exp = (NOW + TTL) / 1000;
    verifyAccessToken(keys, good, exp * 1000 + 29_000);
    assert.throws(() => verifyAccessToken(keys, good, exp * 1000 + 31_000), refused('access token expired'));
    assert.throws(() => verifyAccessToken(keys, good, exp * 1000 + 1, 0), refused('access token expired'));
    assert.throws(() => verifyAccessToken(keys, good, NOW - 60_000), refused('access token issued in the future'));
  });

  const tamperCases: [string, () => string, string][] = [
    ['payload changed (sub)', () => forgeWithOtherPayload({ sub: 'u_admin' }), 'access token signature is invalid'],
    [
      'signature of another key',
      () => forge(header, payload(), crypto.randomBytes(32)),
      'access token signature is invalid',
    ],
    ['signature truncated', () => good.slice(0, -2), 'access token signature is invalid'],
    ['signature with a stray character', () => `${good}A`, 'access token signature is invalid'],
    [
      'signature with the last character’s spare bits changed',
      () => good.slice(0, -1) + String.fromCharCode(good.charCodeAt(good.length - 1) ^ 1),
      'access token signature is invalid',
    ],
    ['signature removed', () => good.split('.').slice(0, 2).join('.') + '.', 'access token signature is invalid'],
    ['no signature part', () => good.split('.').slice(0, 2).join('.'), 'malformed access token'],
    ['four parts', () => `${good}.x`, 'malformed access token'],
    ['empty header', () => `.${good.split('.')[1]}.${good.split('.')[2]}`, 'malformed access token'],
    ['empty', () => '', 'missing access token'],
    ['huge', () => 'a'.repeat(5000), 'access token too long'],
    ['header not JSON', () => `${b64('{{')}.${b64(payload())}.x`, 'malformed access token header'],
    ['header null', () => `${b64('null')}.${b64(payload())}.x`, 'malformed access token header'],
    ['header an array', () => `${b64('[1]')}.${b64(payload())}.x`, 'malformed access token header'],
  ];

  function forgeWithOtherPayload(over: Record<string, unknown>): string {
    const [h, , sig] = good.split('.') as [string, string, string];
    return `${h}.${b64(payload(over))}.${sig}`;
  }

  for (const [what, make, message] of tamperCases) {
    it(`refuses a tampered token: ${what}`, function () {
      assert.throws(() => verifyAccessToken(keys, make(), NOW), refused(message));
    });
  }

  const algCases: [string, unknown, string][] = [
    ['alg none', { alg: 'none', typ: 'JWT', kid: 'k1' }, "access token algorithm 'none' is not allowed"],
    ['alg None', { alg: 'None', kid: 'k1' }, "access token algorithm 'None' is not allowed"],
    ['alg missing', { typ: 'JWT', kid: 'k1' }, "access token algorithm 'undefined' is not allowed"],
    ['alg HS512', { alg: 'HS512', kid: 'k1' }, "access token algorithm 'HS512' is not allowed"],
    ['alg RS256 (key confusion)', { alg: 'RS256', kid: 'k1' }, "access token algorithm 'RS256' is not allowed"],
    ['alg EdDSA', { alg: 'EdDSA', kid: 'k1' }, "access token algorithm 'EdDSA' is not allowed"],
    ['typ other than JWT', { alg: 'HS256', typ: 'at+jwt+x', kid: 'k1' }, "access token type 'at+jwt+x' is not allowed"],
    ['critical extension', { alg: 'HS256', kid: 'k1', crit: ['exp'] }, 'access token has critical header extensions'],
    ['no kid', { alg: 'HS256' }, 'access token has no key id'],
    ['unknown kid', { alg: 'HS256', kid: 'k-unknown' }, 'access token signed with an unknown key'],
  ];

  for (const [what, h, message] of algCases) {
    it(`refuses a header with ${what}`, function () {
      assert.throws(() => verifyAccessToken(keys, forge(h, payload(), secret), NOW), refused(message));
    });
  }

  it('refuses alg none with an empty signature (the classic attack)', function () {
    const t = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload({ sub: 'u_admin' }))}.`;
    assert.throws(() => verifyAccessToken(keys, t, NOW), refused("access token algorithm 'none' is not allowed"));
  });

  const claimCases: [string, Record<string, unknown>, string][] = [
    ['wrong issuer', { iss: 'someone-else' }, 'access token has the wrong issuer'],
    ['no issuer', { iss: undefined }, 'access token has the wrong issuer'],
    ['wrong audience', { aud: 'other-platform' }, 'access token has the wrong audience'],
    ['audience as an array', { aud: [AUDIENCE] }, 'access token has the wrong audience'],
    ['sub missing', { sub: undefined }, "access token claim 'sub' is missing"],
    ['sid a number', { sid: 7 }, "access token claim 'sid' is missing"],
    ['exp a string', { exp: '9999999999' }, 'access token lacks iat/exp'],
    ['exp fractional', { exp: 1.5 }, 'access token lacks iat/exp'],
    ['exp huge', { exp: 1e300 }, 'access token lacks iat/exp'],
    ['iat missing', { iat: undefined }, 'access token lacks iat/exp'],
  ];

  for (const [what, over, message] of claimCases) {
    it(`refuses a correctly signed token with ${what}`, function () {
      assert.throws(() => verifyAccessToken(keys, forge(header, payload(over), secret), NOW), refused(message));
    });
  }

  it('refuses correctly signed claims that are not an object', function () {
    for (const p of ['null', '[1,2]', '"str"', '42']) {
      const h = b64(header);
      const body = b64(p);
      const t = `${h}.${body}.${crypto.createHmac('sha256', secret).update(`${h}.${body}`).digest('base64url')}`;
      assert.throws(() => verifyAccessToken(keys, t, NOW), refused('malformed access token claims'), p);
    }
  });

  it('rotation: old tokens verify during the grace period, not after; new ones sign with the new key', function () {
    const json1 = generateKeySet('k1');
    const ks1 = parseKeySet(json1);
    const oldToken = signAccessToken(ks1, claims, { ttlMs: TTL, now: NOW }).token;
    const grace = 20 * 60_000;
    const ks2 = parseKeySet(rotateKeySet(json1, grace, NOW, 'k2'));
    assert.equal(ks2.active.kid, 'k2');
    const newToken = signAccessToken(ks2, claims, { ttlMs: TTL, now: NOW }).token;
    verifyAccessToken(ks2, oldToken, NOW + 60_000);
    verifyAccessToken(ks2, newToken, NOW + 60_000);
    assert.throws(
      () => verifyAccessToken(ks2, oldToken, NOW + grace + 1, Number.MAX_SAFE_INTEGER),
      refused('access token signed with a retired key'),
    );
    assert.throws(() => verifyAccessToken(ks1, newToken, NOW), refused('access token signed with an unknown key'));
  });
});
