// Secret values: generated once, kept when found, derived values recomputed,
// broken values reported by key.
import assert from 'node:assert/strict';
import {
  completeSecretMaterial,
  decodeSecretData,
  SecretMaterialError,
  type KeyGenerator,
} from '../../../operator/src/controller/secret-material.js';
import { parseKeySet } from '../../../services/tokens/src/keyset.js';
import { platform } from './fixtures.js';

/** Deterministic "randomness": counts up. */
function counter(): KeyGenerator & { calls: number } {
  const g = {
    calls: 0,
    randomBytes(n: number): Buffer {
      g.calls++;
      return Buffer.alloc(n, g.calls);
    },
  };
  return g;
}

describe('operator secret material', function () {
  it('generates every value for a new Platform, in the formats the services read', function () {
    const m = completeSecretMaterial(undefined, platform(), counter());
    assert.deepEqual(Object.keys(m.values).sort(), [
      'internal-key',
      'mq-admin-password',
      'mq-gps-password',
      'mq-passwords',
      'token-keys',
      'url-signing-key',
    ]);
    assert.deepEqual(m.generated.sort(), [
      'internal-key',
      'mq-admin-password',
      'mq-passwords',
      'token-keys',
      'url-signing-key',
    ]);
    assert.equal(Buffer.from(m.values['internal-key'], 'base64').length, 32);
    assert.equal(Buffer.from(m.values['url-signing-key'], 'base64').length, 32);
    const keys = parseKeySet(m.values['token-keys']);
    assert.equal(keys.active.secret.length, 32);
    const pw = JSON.parse(m.values['mq-passwords']) as Record<string, string>;
    assert.deepEqual(Object.keys(pw), ['mq_gps']);
    assert.equal(m.values['mq-gps-password'], pw.mq_gps);
  });

  it('keeps every value it finds and generates nothing', function () {
    const first = completeSecretMaterial(undefined, platform(), counter()).values;
    const gen = counter();
    const again = completeSecretMaterial(first, platform(), gen);
    assert.deepEqual(again.values, first);
    assert.deepEqual(again.generated, []);
    assert.equal(gen.calls, 0);
  });

  it('generates only what is missing', function () {
    const first = completeSecretMaterial(undefined, platform(), counter()).values;
    const { ['url-signing-key']: _gone, ...rest } = first;
    const m = completeSecretMaterial(rest, platform(), counter());
    assert.deepEqual(m.generated, ['url-signing-key']);
    assert.equal(m.values['internal-key'], first['internal-key']);
  });

  it('adds a password for a newly declared queue and drops those of removed queues', function () {
    const first = completeSecretMaterial(undefined, platform({ mq: { queues: [{ name: 'old' }] } }), counter()).values;
    const m = completeSecretMaterial(first, platform({ mq: { queues: [{ name: 'new' }] } }), counter());
    const before = JSON.parse(first['mq-passwords']) as Record<string, string>;
    const after = JSON.parse(m.values['mq-passwords']) as Record<string, string>;
    assert.deepEqual(Object.keys(after), ['mq_gps', 'new']);
    assert.equal(after.mq_gps, before.mq_gps);
    assert.deepEqual(m.generated, ['mq-passwords']);
  });

  const broken: { key: string; value: string; message: RegExp }[] = [
    { key: 'token-keys', value: 'not json', message: /^token-keys: not valid JSON/ },
    { key: 'token-keys', value: '{"active":"x","keys":[]}', message: /^token-keys: "keys" must be a non-empty array/ },
    { key: 'mq-passwords', value: '[1]', message: /^mq-passwords: not a JSON object/ },
  ];
  for (const b of broken) {
    it(`reports a hand-broken ${b.key} by name`, function () {
      const good = completeSecretMaterial(undefined, platform(), counter()).values;
      assert.throws(
        () => completeSecretMaterial({ ...good, [b.key]: b.value }, platform(), counter()),
        (err: Error) => err instanceof SecretMaterialError && b.message.test(err.message),
      );
    });
  }

  it('decodes Secret data', function () {
    assert.deepEqual(decodeSecretData({ a: Buffer.from('x').toString('base64') }), { a: 'x' });
    assert.equal(decodeSecretData(undefined), undefined);
  });
});
