// Key sets (TCE_TOKEN_KEYS): parsing with precise problems, generation,
// rotation with a grace period and pruning, and the config helper that names
// the variable. Secrets never appear in messages.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { ConfigError, loadConfig } from '../../../services/runtime/src/config.js';
import {
  generateKeySet,
  keySetFromConfig,
  parseKeySet,
  rotateKeySet,
  verifierSchema,
} from '../../../services/tokens/src/index.js';

const secret = crypto.randomBytes(32).toString('base64');

describe('tokens: key sets', function () {
  it('generates a parseable set with one 32-byte key', function () {
    const ks = parseKeySet(generateKeySet('abc'));
    assert.equal(ks.active.kid, 'abc');
    assert.equal(ks.active.secret.length, 32);
    assert.equal(ks.active.verifyUntil, undefined);
    assert.equal(ks.byKid.size, 1);
  });

  const cases: [string, string, string][] = [
    [
      'not JSON',
      '{',
      'token keys: not valid JSON (expected {"active":"kid","keys":[{"kid":"…","secret":"<base64, ≥32 bytes>"}]})',
    ],
    ['no keys', '{"active":"a","keys":[]}', 'token keys: "keys" must be a non-empty array'],
    ['null', 'null', 'token keys: "keys" must be a non-empty array'],
    [
      'bad kid',
      `{"active":"a b","keys":[{"kid":"a b","secret":"${secret}"}]}`,
      'token keys: keys[0].kid must match /^[A-Za-z0-9._-]{1,64}$/',
    ],
    [
      'duplicate kid',
      `{"active":"a","keys":[{"kid":"a","secret":"${secret}"},{"kid":"a","secret":"${secret}"}]}`,
      "token keys: duplicate kid 'a'",
    ],
    [
      'short secret',
      '{"active":"a","keys":[{"kid":"a","secret":"c2hvcnQ="}]}',
      "token keys: key 'a' must have a base64 secret of at least 32 bytes",
    ],
    [
      'bad verifyUntil',
      `{"active":"b","keys":[{"kid":"a","secret":"${secret}","verifyUntil":"soon"}, {"kid":"b","secret":"${secret}"}]}`,
      "token keys: key 'a' verifyUntil must be ms since epoch",
    ],
    [
      'unknown active',
      `{"active":"z","keys":[{"kid":"a","secret":"${secret}"}]}`,
      "token keys: active kid 'z' is not among the keys",
    ],
    [
      'active key with a deadline',
      `{"active":"a","keys":[{"kid":"a","secret":"${secret}","verifyUntil":1}]}`,
      "token keys: active key 'a' must not have verifyUntil",
    ],
  ];

  for (const [what, json, message] of cases) {
    it(`refuses a key set: ${what}`, function () {
      assert.throws(
        () => parseKeySet(json),
        (err: Error) => {
          assert.equal(err.message, message);
          assert.ok(!err.message.includes(secret), 'the secret is not in the message');
          return true;
        },
      );
    });
  }

  it('rotation adds an active key, gives old keys a deadline and drops keys already past theirs', function () {
    const now = 1_700_000_000_000;
    const v1 = generateKeySet('k1');
    const v2 = rotateKeySet(v1, 60_000, now, 'k2');
    const ks2 = parseKeySet(v2);
    assert.equal(ks2.active.kid, 'k2');
    assert.equal(ks2.byKid.get('k1')!.verifyUntil, now + 60_000);
    assert.equal(ks2.byKid.get('k1')!.secret.toString('base64'), parseKeySet(v1).active.secret.toString('base64'));
    const v3 = rotateKeySet(v2, 60_000, now + 120_000, 'k3');
    const ks3 = parseKeySet(v3);
    assert.deepEqual([...ks3.byKid.keys()].sort(), ['k2', 'k3'], 'k1 was past its deadline');
    assert.equal(ks3.byKid.get('k2')!.verifyUntil, now + 180_000);
    assert.throws(() => rotateKeySet(v3, 60_000, now, 'k3'), { message: "token keys: kid 'k3' is already in use" });
    assert.throws(() => rotateKeySet('{', 60_000, now), /not valid JSON/);
  });

  it('keySetFromConfig names TCE_TOKEN_KEYS; the verifier schema has the poll interval with its default', function () {
    assert.throws(
      () => keySetFromConfig('{'),
      (err: ConfigError) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.problems[0]!, /^TCE_TOKEN_KEYS: not valid JSON/);
        return true;
      },
    );
    const cfg = loadConfig(verifierSchema, { TCE_TOKEN_KEYS: generateKeySet('k') });
    assert.equal(cfg.revocationPoll, 2000);
    assert.equal(keySetFromConfig(cfg.tokenKeys).active.kid, 'k');
    assert.equal(loadConfig(verifierSchema, { TCE_TOKEN_KEYS: 'x', TCE_REVOCATION_POLL: '500ms' }).revocationPoll, 500);
    assert.throws(
      () => loadConfig(verifierSchema, { TCE_TOKEN_KEYS: 'x', TCE_REVOCATION_POLL: '10ms' }),
      /TCE_REVOCATION_POLL: must be at least 100 ms/,
    );
    assert.throws(() => loadConfig(verifierSchema, {}), /TCE_TOKEN_KEYS: required/);
  });
});
