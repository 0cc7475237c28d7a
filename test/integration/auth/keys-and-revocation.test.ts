// The token library against the real store, and key rotation through a real
// auth process: a verifier's polled revocation list (events, expiry, missed
// writes caught by the periodic full re-read), the sweep, rotated keys
// (old tokens verify during the grace period, not after), configuration that
// fails fast naming the variable, and readiness following the store.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { silentLogger } from '../../../services/runtime/src/index.js';
import {
  RevocationList,
  ensureRevocationIndexes,
  parseKeySet,
  revocations,
  revoke,
  rotateKeySet,
  sweepRevocations,
  verifyAccessToken,
  type RevocationRecord,
} from '../../../services/tokens/src/index.js';
import { startService, startStore, waitFor, type Store } from '../../support/index.js';
import { GOOD_PASSWORD, startAuthStack, uniqueName, type AuthStack } from './harness.js';

describe('tokens: revocation list on the real store', function () {
  let store: Store;
  let mongo: MongoClient;
  let db: Db;

  before(async function () {
    store = await startStore();
    mongo = new MongoClient(store.url);
    db = mongo.db();
    await ensureRevocationIndexes(db);
  });

  after(async function () {
    await mongo?.close();
    await store?.stop();
  });

  const claims = (sub: string, sid: string, iatMs: number) => ({ sub, sid, iat: Math.floor(iatMs / 1000) });

  it('records concurrent revocations of one new session without failing any of them', async function () {
    const sid = `race-${crypto.randomUUID()}`;
    const own = mongo.db('revocation-race'); // its own database: the next test counts records
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => revoke(own, { session: sid }, 60_000)));
    assert.deepEqual(
      results.map((r) => r.status),
      Array.from({ length: 8 }, () => 'fulfilled'),
      JSON.stringify(results.filter((r) => r.status === 'rejected')),
    );
    assert.equal(await own.collection('revocations').countDocuments({ _id: `session:${sid}` as never }), 1);
  });

  it('sees a session or user revocation after one poll and emits it once', async function () {
    const list = new RevocationList(db, { pollMs: 60_000, logger: silentLogger });
    const seen: RevocationRecord[] = [];
    list.on('revoked', (r: RevocationRecord) => seen.push(r));
    await list.start();
    try {
      const now = Date.now();
      const before = claims('u1', 's1', now - 5000);
      assert.equal(list.isRevoked(before), false);
      await revoke(db, { session: 's1' }, 900_000, now);
      await list.poll();
      assert.equal(list.isRevoked(before), true);
      assert.equal(list.isRevoked(claims('u1', 's2', now - 5000)), false, 'other sessions are fine');
      assert.equal(list.isRevoked(claims('u1', 's1', now + 5000)), false, 'tokens issued later are fine');
      await list.poll();
      assert.deepEqual(
        seen.map((r) => r._id),
        ['session:s1'],
        'emitted once',
      );
      await revoke(db, { user: 'u9' }, 900_000, now);
      await list.poll();
      assert.equal(list.isRevoked(claims('u9', 'any', now - 1000)), true);
      assert.equal(list.size, 2);
    } finally {
      await list.stop();
    }
  });

  it('catches a record written with a lagging clock at the next full re-read', async function () {
    const list = new RevocationList(db, { pollMs: 60_000, logger: silentLogger });
    await list.start();
    try {
      await list.poll(); // the first polls are incremental after start's full read
      const now = Date.now();
      await revocations(db).updateOne(
        { _id: 'session:lagging' },
        { $set: { notBefore: now, expiresAt: now + 900_000, updatedAt: now - 120_000 } },
        { upsert: true },
      );
      let polls = 0;
      while (!list.isRevoked(claims('u', 'lagging', now - 1000))) {
        await list.poll();
        assert.ok(++polls <= 30, 'a full re-read happens at least every 30 polls');
      }
    } finally {
      await list.stop();
    }
  });

  it('forgets expired records and the sweep deletes them from the store', async function () {
    const list = new RevocationList(db, { pollMs: 60_000, logger: silentLogger });
    const now = Date.now();
    await revoke(db, { session: 'short' }, 1000, now - 120_000); // expired a minute ago
    await list.start();
    try {
      assert.equal(list.isRevoked(claims('u', 'short', now - 200_000)), false);
      assert.ok((await sweepRevocations(db, now)) >= 1);
      assert.equal(await revocations(db).countDocuments({ _id: 'session:short' }), 0);
    } finally {
      await list.stop();
    }
  });
});

describe('auth service: key rotation', function () {
  let s: AuthStack;

  before(async function () {
    s = await startAuthStack();
  });

  after(async function () {
    await s?.stop();
  });

  it('signs with the new key after rotation; old tokens verify during the grace period, not after', async function () {
    const name = uniqueName('rotor');
    await s.anon().registerUser({ username: name, password: GOOD_PASSWORD, display_name: '', email: '' });
    const old = await s.anon().userAuth(name, GOOD_PASSWORD, 'web');
    const graceMs = 20 * 60_000;
    const rotated = rotateKeySet(s.keysJson, graceMs, Date.now(), 'k2');
    await s.restart({ TCE_TOKEN_KEYS: rotated });
    const fresh = await s.anon().refresh(old.refresh_token, 'web'); // refresh tokens survive rotation
    const header = (t: string) => JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()) as { kid: string };
    assert.equal(header(old.access_token).kid, 'k1');
    assert.equal(header(fresh.access_token).kid, 'k2');
    const keys = parseKeySet(rotated); // what the gateway and file service are given
    verifyAccessToken(keys, old.access_token);
    verifyAccessToken(keys, fresh.access_token);
    const afterGrace = keys.byKid.get('k1')!.verifyUntil! + 1;
    assert.throws(() => verifyAccessToken(keys, old.access_token, afterGrace, Number.MAX_SAFE_INTEGER), {
      code: 'UNAUTHENTICATED',
      message: 'access token signed with a retired key',
    });
    // The old key set alone does not know k2 (a verifier that missed the rotation).
    assert.throws(() => verifyAccessToken(s.keys, fresh.access_token), {
      message: 'access token signed with an unknown key',
    });
  });
});

describe('auth service: configuration and readiness', function () {
  const base = {
    TCE_MONGO_URL: 'mongodb://127.0.0.1:1/tce',
    TCE_INTERNAL_KEY: crypto.randomBytes(32).toString('base64'),
    TCE_TOKEN_KEYS:
      '{"active":"k1","keys":[{"kid":"k1","secret":"' + crypto.randomBytes(32).toString('base64') + '"}]}',
    TCE_GRPC_PORT: '0',
  };

  const cases: [string, Record<string, string>, RegExp][] = [
    ['missing store URL', { TCE_MONGO_URL: '' }, /TCE_MONGO_URL: required/],
    ['short internal key', { TCE_INTERNAL_KEY: 'c2hvcnQ=' }, /TCE_INTERNAL_KEY: must be base64 of at least 32 bytes/],
    ['broken key set', { TCE_TOKEN_KEYS: '{"active":' }, /TCE_TOKEN_KEYS: not valid JSON/],
    [
      'short token secret',
      { TCE_TOKEN_KEYS: '{"active":"a","keys":[{"kid":"a","secret":"c2hvcnQ="}]}' },
      /TCE_TOKEN_KEYS: key 'a' must have a base64 secret of at least 32 bytes/,
    ],
    ['bad lockout delay', { TCE_AUTH_LOCKOUT_DELAY: 'soon' }, /TCE_AUTH_LOCKOUT_DELAY: expected a duration/],
  ];

  for (const [what, env, message] of cases) {
    it(`refuses to start with a ${what}, naming the variable`, async function () {
      await assert.rejects(startService({ name: 'auth', env: { ...base, ...env } }), (err: Error) => {
        assert.match(err.message, message);
        assert.ok(!err.message.includes(base.TCE_INTERNAL_KEY), 'secrets are not printed');
        return true;
      });
    });
  }

  it('is ready only while the store answers', async function () {
    const s = await startAuthStack();
    try {
      const readyz = () => fetch(`http://127.0.0.1:${s.auth.opsPort}/readyz`);
      assert.equal((await readyz()).status, 200);
      await s.store.process.stop();
      await waitFor(
        '/readyz to report the store',
        async () => {
          const r = await readyz();
          return r.status === 503 && /store: store unreachable/.test(await r.text());
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
    } finally {
      await s.stop();
    }
  });
});
