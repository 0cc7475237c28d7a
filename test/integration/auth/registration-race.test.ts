// Unique usernames under concurrency, on the real store: the unique index on
// the normalised name is the arbiter, so of 100 simultaneous registrations of
// one name exactly one wins — also when the others spell it differently.
import assert from 'node:assert/strict';
import type { PlatformError } from '../../../services/runtime/src/index.js';
import { GOOD_PASSWORD, startAuthStack, uniqueName, type AuthStack } from './harness.js';

describe('auth service: concurrent registrations', function () {
  let s: AuthStack;

  before(async function () {
    s = await startAuthStack();
  });

  after(async function () {
    await s?.stop();
  });

  it('100 concurrent registrations of one name: exactly one succeeds, 99 get ALREADY_EXISTS', async function () {
    const name = uniqueName('race');
    const proxies = Array.from({ length: 4 }, () => s.anon()); // several connections, like several gateways
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) =>
        proxies[i % proxies.length]!.registerUser({
          username: name,
          password: `${GOOD_PASSWORD} ${i}`,
          display_name: `racer ${i}`,
          email: '',
        }),
      ),
    );
    const ok = results.filter((r): r is PromiseFulfilledResult<string> => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(ok.length, 1);
    assert.equal(failed.length, 99);
    for (const f of failed) {
      const e = f.reason as PlatformError;
      assert.equal(e.code, 'ALREADY_EXISTS', e.message);
      assert.equal(e.message, `username '${name}' is already taken`);
    }
    const docs = await s.db.collection('users').find({ username_key: name.toLowerCase() }).toArray();
    assert.equal(docs.length, 1);
    assert.equal(docs[0]!._id, ok[0]!.value);
    assert.equal(docs[0]!.state, 'active');
    // The winner's password is the one stored.
    const winner = results.indexOf(ok[0]!);
    const t = await s.anon().userAuth(name, `${GOOD_PASSWORD} ${winner}`, 'web');
    assert.equal(t.user_id, ok[0]!.value);
  });

  it('names that normalise alike are one name: case and fullwidth forms collide', async function () {
    const name = uniqueName('Carol');
    const fullwidth = [...name].map((c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0)).join('');
    const variants = [name, name.toUpperCase(), name.toLowerCase(), fullwidth];
    const results = await Promise.allSettled(
      variants.map((v) => s.anon().registerUser({ username: v, password: GOOD_PASSWORD, display_name: '', email: '' })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) {
      if (r.status === 'rejected') assert.equal((r.reason as PlatformError).code, 'ALREADY_EXISTS');
    }
    // Whoever won, every spelling logs into the same account.
    const ids = new Set<string>();
    for (const v of variants) ids.add((await s.anon().userAuth(v, GOOD_PASSWORD, 'web')).user_id);
    assert.equal(ids.size, 1);
  });

  it('a registration that died half-way frees its name once its reservation lapses', async function () {
    const name = uniqueName('ghost');
    // What a crash between "win the name" and "store the hash" leaves behind.
    await s.db.collection('users').insertOne({
      _id: 'u_deadregistratio' as never,
      username: name,
      username_key: name.toLowerCase(),
      display_name: name,
      email: '',
      password_hash: null,
      state: 'pending',
      pending_until: Date.now() - 1,
      created_at: Date.now() - 300_000,
      updated_at: Date.now() - 300_000,
      password_changed_at: Date.now() - 300_000,
    });
    await assert.rejects(s.anon().userAuth(name, GOOD_PASSWORD, 'web'), { code: 'UNAUTHENTICATED' });
    const id = await s.anon().registerUser({ username: name, password: GOOD_PASSWORD, display_name: '', email: '' });
    assert.notEqual(id, 'u_deadregistratio');
    await s.anon().userAuth(name, GOOD_PASSWORD, 'web');
  });
});
