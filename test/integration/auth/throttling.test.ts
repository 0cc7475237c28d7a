// Brute-force throttling against the real store and a real auth process:
// per account (a parallel burst cannot exceed the free failures), per client
// address (spraying many accounts), soft lockout answering RESOURCE_EXHAUSTED
// with a clear message, and state that survives a restart. The first delay is
// set to 10 minutes here so "still locked" never depends on how fast the box is.
import assert from 'node:assert/strict';
import type { PlatformError } from '../../../services/runtime/src/index.js';
import { GOOD_PASSWORD, startAuthStack, uniqueName, type AuthStack } from './harness.js';

const THRESHOLD = 3;

describe('auth service: brute-force throttling', function () {
  let s: AuthStack;

  before(async function () {
    s = await startAuthStack({ TCE_AUTH_LOCKOUT_THRESHOLD: String(THRESHOLD), TCE_AUTH_LOCKOUT_DELAY: '10m' });
  });

  after(async function () {
    await s?.stop();
  });

  /** Each test uses its own forwarded address so address limits do not leak between tests. */
  let addrN = 0;
  const nextAddr = (): string => `198.51.100.${++addrN}`;

  async function register(): Promise<string> {
    const name = uniqueName('victim');
    await s.anon().registerUser({ username: name, password: GOOD_PASSWORD, display_name: '', email: '' });
    return name;
  }

  const accountLocked = {
    code: 'RESOURCE_EXHAUSTED',
    message: 'too many failed logins for this account; try again in 10 min',
  };

  it('a parallel burst of wrong passwords gets only the free attempts; then even the right password waits', async function () {
    const name = await register();
    const p = s.anon();
    const extra = { 'client-addr': nextAddr() };
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => p.userAuth(name, `wrong guess ${i}`, 'web', { extra })),
    );
    const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as PlatformError).code : 'OK'));
    assert.equal(codes.filter((c) => c === 'UNAUTHENTICATED').length, THRESHOLD, codes.join(','));
    assert.equal(codes.filter((c) => c === 'RESOURCE_EXHAUSTED').length, 20 - THRESHOLD, codes.join(','));
    for (const r of results) {
      if (r.status === 'rejected' && (r.reason as PlatformError).code === 'RESOURCE_EXHAUSTED') {
        assert.equal((r.reason as PlatformError).message, accountLocked.message);
      }
    }
    // Soft lockout: the right password is refused too, from any address.
    await assert.rejects(
      p.userAuth(name, GOOD_PASSWORD, 'web', { extra: { 'client-addr': nextAddr() } }),
      accountLocked,
    );
    const failures = await s.db.collection('auth_login_failures').countDocuments({ key: `acct:${name.toLowerCase()}` });
    assert.equal(failures, THRESHOLD, 'refused attempts are not failures (the password was never checked)');
  });

  it('the lockout survives a restart of the auth process (state is in the store)', async function () {
    const name = await register();
    const extra = { 'client-addr': nextAddr() };
    for (let i = 0; i < THRESHOLD; i++) {
      await assert.rejects(s.anon().userAuth(name, `wrong ${i}`, 'web', { extra }), { code: 'UNAUTHENTICATED' });
    }
    await assert.rejects(s.anon().userAuth(name, GOOD_PASSWORD, 'web', { extra }), accountLocked);
    await s.restart();
    await assert.rejects(s.anon().userAuth(name, GOOD_PASSWORD, 'web', { extra }), accountLocked);
  });

  it('unknown usernames are throttled exactly like real ones (no way to tell them apart)', async function () {
    const ghost = uniqueName('ghost');
    const extra = { 'client-addr': nextAddr() };
    for (let i = 0; i < THRESHOLD; i++) {
      await assert.rejects(s.anon().userAuth(ghost, `wrong ${i}`, 'web', { extra }), {
        code: 'UNAUTHENTICATED',
        message: 'invalid username or password',
      });
    }
    await assert.rejects(s.anon().userAuth(ghost, 'wrong again', 'web', { extra }), accountLocked);
  });

  it('a successful login clears the account’s failures', async function () {
    const name = await register();
    const extra = { 'client-addr': nextAddr() };
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < THRESHOLD - 1; i++) {
        await assert.rejects(s.anon().userAuth(name, `wrong ${i}`, 'web', { extra }), { code: 'UNAUTHENTICATED' });
      }
      await s.anon().userAuth(name, GOOD_PASSWORD, 'web', { extra });
    }
  });

  it('one address spraying many accounts is throttled per address; other addresses are not', async function () {
    const sprayer = { 'client-addr': nextAddr() };
    const perAddress = THRESHOLD * 4;
    for (let i = 0; i < perAddress; i++) {
      await assert.rejects(s.anon().userAuth(uniqueName('sprayed'), 'Summer2024!', 'web', { extra: sprayer }), {
        code: 'UNAUTHENTICATED',
      });
    }
    const name = await register();
    await assert.rejects(s.anon().userAuth(name, GOOD_PASSWORD, 'web', { extra: sprayer }), {
      code: 'RESOURCE_EXHAUSTED',
      message: 'too many failed logins from this network address; try again in 10 min',
    });
    // The account itself is not locked: its owner logs in from elsewhere.
    await s.anon().userAuth(name, GOOD_PASSWORD, 'web', { extra: { 'client-addr': nextAddr() } });
  });

  it('IPv6 clients are throttled per /64, so rotating addresses in one subscriber prefix does not help', async function () {
    const name = await register();
    for (let i = 0; i < THRESHOLD; i++) {
      const extra = { 'client-addr': `2001:db8:aa:bb::${i + 1}` };
      await assert.rejects(s.anon().userAuth(uniqueName('v6'), 'wrong', 'web', { extra }), { code: 'UNAUTHENTICATED' });
    }
    const keys = await s.db.collection('auth_login_failures').distinct('key', { key: /^addr:2001:db8:aa:bb/ });
    assert.deepEqual(keys, ['addr:2001:db8:aa:bb::/64']);
    await s.anon().userAuth(name, GOOD_PASSWORD, 'web', { extra: { 'client-addr': '2001:db8:aa:bb::99' } });
  });

  it('wrong old passwords in changePassword count against the account too', async function () {
    const name = await register();
    const t = await s.anon().userAuth(name, GOOD_PASSWORD, 'web', { extra: { 'client-addr': nextAddr() } });
    for (let i = 0; i < THRESHOLD; i++) {
      await assert.rejects(s.as(t).changePassword(`wrong ${i}`, 'a brand new passphrase'), {
        code: 'PERMISSION_DENIED',
      });
    }
    await assert.rejects(s.as(t).changePassword(GOOD_PASSWORD, 'a brand new passphrase'), accountLocked);
  });
});
