// Auth's configuration: defaults as documented, the internal key check, and
// failures that name the variable without printing secrets.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { ConfigError, loadConfig } from '../../../services/runtime/src/config.js';
import { authSchema, internalKeyFromConfig } from '../../../services/auth/src/config.js';

describe('auth: configuration', function () {
  const required = {
    TCE_MONGO_URL: 'mongodb://user:secret@db:27017/tce',
    TCE_INTERNAL_KEY: crypto.randomBytes(32).toString('base64'),
    TCE_TOKEN_KEYS: '{}',
  };

  it('has the documented defaults', function () {
    const c = loadConfig(authSchema, required);
    assert.equal(c.grpcPort, 50051);
    assert.equal(c.accessTokenTtl, 15 * 60_000);
    assert.equal(c.refreshTokenTtl, 30 * 86_400_000);
    assert.equal(c.lockoutThreshold, 5);
    assert.equal(c.lockoutDelay, 1000);
    assert.equal(c.lockoutMaxDelay, 15 * 60_000);
  });

  it('names every missing or bad variable at once, without secrets', function () {
    assert.throws(
      () => loadConfig(authSchema, { TCE_MONGO_URL: 'http://user:hunter2@x/', TCE_ACCESS_TOKEN_TTL: '1s' }),
      (err: ConfigError) => {
        assert.deepEqual(
          err.problems.map((p) => p.split(':')[0]),
          ['TCE_MONGO_URL', 'TCE_INTERNAL_KEY', 'TCE_ACCESS_TOKEN_TTL', 'TCE_TOKEN_KEYS'],
        );
        assert.ok(!err.message.includes('hunter2'));
        return true;
      },
    );
  });

  it('needs an internal key of at least 32 bytes of base64', function () {
    assert.equal(internalKeyFromConfig(required.TCE_INTERNAL_KEY).length, 32);
    assert.equal(internalKeyFromConfig(crypto.randomBytes(48).toString('base64url')).length, 48);
    for (const bad of ['', 'c2hvcnQ=', 'not base64 at all!', crypto.randomBytes(31).toString('base64')]) {
      assert.throws(
        () => internalKeyFromConfig(bad),
        (err: ConfigError) => {
          assert.deepEqual(err.problems, ['TCE_INTERNAL_KEY: must be base64 of at least 32 bytes']);
          return true;
        },
      );
    }
  });
});
