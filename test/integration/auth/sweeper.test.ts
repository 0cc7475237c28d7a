// The clean-up that replaces TTL indexes, against the real store: expired
// sessions, refresh tokens, failed-login records, abandoned registrations and
// revocation records are deleted; live ones stay; a session revocation that
// never reached the shared list (crash between the two writes) is republished.
import assert from 'node:assert/strict';
import { MongoClient, type Db } from 'mongodb';
import { silentLogger } from '../../../services/runtime/src/index.js';
import { SessionStore } from '../../../services/auth/src/session-store.js';
import { Sweeper } from '../../../services/auth/src/sweeper.js';
import { accountPolicy } from '../../../services/auth/src/throttle-policy.js';
import { ThrottleStore } from '../../../services/auth/src/throttle-store.js';
import { UserStore } from '../../../services/auth/src/user-store.js';
import { ensureRevocationIndexes, revocations } from '../../../services/tokens/src/index.js';
import { startStore, type Store } from '../../support/index.js';

describe('auth: sweeping expired state on the real store', function () {
  let store: Store;
  let mongo: MongoClient;
  let db: Db;
  let users: UserStore;
  let sessions: SessionStore;
  let throttle: ThrottleStore;
  let sweeper: Sweeper;
  const accessTtlMs = 15 * 60_000;
  const refreshTtlMs = 60 * 60_000;
  const policy = accountPolicy({ freeFailures: 5, baseDelayMs: 1000, maxDelayMs: 60_000 });

  before(async function () {
    store = await startStore();
    mongo = new MongoClient(store.url);
    db = mongo.db();
    users = new UserStore(db);
    sessions = new SessionStore(db, { refreshTtlMs, accessTtlMs });
    throttle = new ThrottleStore(db);
    await users.ensureIndexes();
    await sessions.ensureIndexes();
    await throttle.ensureIndexes();
    await ensureRevocationIndexes(db);
    sweeper = new Sweeper({ db, users, sessions, throttle, logger: silentLogger, intervalMs: 60_000 });
  });

  after(async function () {
    await mongo?.close();
    await store?.stop();
  });

  it('deletes what has expired and keeps what is live', async function () {
    const t0 = Date.now();
    const old = await sessions.create({ userId: 'u_old', deviceId: 'd1', deviceType: 'web' }, t0 - 2 * refreshTtlMs);
    const live = await sessions.create({ userId: 'u_live', deviceId: 'd2', deviceType: 'web' }, t0);
    await sessions.revoke([old.session], 'logout', t0 - 2 * refreshTtlMs);
    await throttle.claim('acct:stale', policy, () => t0 - 2 * 3_600_000);
    await throttle.claim('acct:fresh', policy, () => t0);
    const base = {
      username: 'x',
      display_name: 'x',
      email: '',
      created_at: t0,
      updated_at: t0,
      password_changed_at: t0,
    };
    assert.ok(await users.reserve({ ...base, _id: 'u_pendingold', username_key: 'pendingold' }, t0 - 10 * 60_000));
    assert.ok(await users.reserve({ ...base, _id: 'u_pendingnew', username_key: 'pendingnew' }, t0));

    await sweeper.sweepOnce(t0);

    assert.equal(await sessions.sessions.countDocuments({ _id: old.session._id }), 0);
    assert.equal(await sessions.tokens.countDocuments({ session_id: old.session._id }), 0);
    assert.equal(await sessions.revoked.countDocuments({ _id: old.session._id }), 0);
    assert.equal(await revocations(db).countDocuments({ _id: `session:${old.session._id}` }), 0);
    assert.equal(await sessions.sessions.countDocuments({ _id: live.session._id }), 1);
    assert.equal(await sessions.tokens.countDocuments({ session_id: live.session._id }), 1);
    assert.equal(await throttle.col.countDocuments({ key: 'acct:stale' }), 0);
    assert.equal(await throttle.col.countDocuments({ key: 'acct:fresh' }), 1);
    assert.equal(await users.col.countDocuments({ _id: 'u_pendingold' }), 0);
    assert.equal(await users.col.countDocuments({ _id: 'u_pendingnew' }), 1);
  });

  it('republishes a session revocation that never reached the verifiers', async function () {
    const now = Date.now();
    const s = await sessions.create({ userId: 'u_crash', deviceId: 'd', deviceType: 'ios' }, now);
    await sessions.revoke([s.session], 'logout', now);
    await revocations(db).deleteOne({ _id: `session:${s.session._id}` }); // what a crash in between leaves
    await sweeper.sweepOnce(now + 1000);
    const r = await revocations(db).findOne({ _id: `session:${s.session._id}` });
    assert.ok(r, 'republished');
    assert.ok(r.notBefore > now, 'covers every token of the session');
    assert.ok(r.updatedAt >= now, 'stamped now, so incremental polls see it');
  });

  it('revoking twice is harmless and reports only the first', async function () {
    const now = Date.now();
    const s = await sessions.create({ userId: 'u_twice', deviceId: 'd', deviceType: 'ios' }, now);
    assert.deepEqual(await sessions.revoke([s.session], 'logout', now), [s.session._id]);
    assert.deepEqual(await sessions.revoke([s.session], 'logout-all', now), []);
    assert.equal((await sessions.revoked.findOne({ _id: s.session._id }))?.reason, 'logout');
  });
});
