// The auth service as a real process on the real store, over real gRPC with
// the generated IAuthServerProxy: register, log in, refresh (rotation and
// reuse detection), log out, change password, read users, sessions — and a
// verifier (as the gateway runs it) seeing each revocation within its poll.
import assert from 'node:assert/strict';
import { IDiagProxy } from '../../../proto/gen/ts/diag.tce.js';
import type { Token } from '../../../proto/gen/ts/auth.js';
import { PlatformError, silentLogger } from '../../../services/runtime/src/index.js';
import { RevocationList, verifyAccessToken, type AccessClaims } from '../../../services/tokens/src/index.js';
import { bin, run, waitFor } from '../../support/index.js';
import { GOOD_PASSWORD, startAuthStack, uniqueName, type AuthStack } from './harness.js';

describe('auth service: accounts, tokens and sessions over gRPC', function () {
  let s: AuthStack;
  let verifier: RevocationList;

  before(async function () {
    s = await startAuthStack();
    verifier = new RevocationList(s.db, { pollMs: 200, logger: silentLogger });
    await verifier.start();
  });

  after(async function () {
    await verifier?.stop();
    await s?.stop();
  });

  /** What a gateway does per call: verify locally, then consult the polled revocation list. */
  function gatewayAccepts(accessToken: string): AccessClaims | undefined {
    const claims = verifyAccessToken(s.keys, accessToken);
    return verifier.isRevoked(claims) ? undefined : claims;
  }

  async function registerAndLogin(deviceType = 'android'): Promise<{ name: string; id: string; token: Token }> {
    const name = uniqueName();
    const id = await s.anon().registerUser({ username: name, password: GOOD_PASSWORD, display_name: '', email: '' });
    const token = await s.anon().userAuth(name, GOOD_PASSWORD, deviceType);
    return { name, id, token };
  }

  it('registers a user and logs in: the access token verifies locally with the right claims', async function () {
    const name = uniqueName('Alice');
    const id = await s.anon().registerUser({
      username: name,
      password: GOOD_PASSWORD,
      display_name: '爱丽丝 🌸',
      email: 'alice@Example.COM',
    });
    assert.match(id, /^u_[A-Za-z0-9_-]{16}$/);
    const t = await s.anon().userAuth(name.toLowerCase(), GOOD_PASSWORD, 'Android');
    assert.equal(t.user_id, id);
    assert.equal(t.username, name, 'the username keeps the case it was registered with');
    assert.equal(t.display_name, '爱丽丝 🌸');
    assert.match(t.refresh_token, /^rt1\.s_[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
    const claims = verifyAccessToken(s.keys, t.access_token);
    assert.deepEqual(
      { sub: claims.sub, sid: claims.sid, did: claims.did, name: claims.name },
      { sub: id, sid: t.session_id, did: t.device_id, name },
    );
    assert.equal(claims.exp - claims.iat, 15 * 60, 'TCE_ACCESS_TOKEN_TTL defaults to 15 minutes');
    assert.ok(t.refresh_expires_at - Date.now() > 29 * 86_400_000, 'TCE_REFRESH_TOKEN_TTL defaults to 30 days');
  });

  it('stores only a scrypt hash, never the password', async function () {
    const { name, id } = await registerAndLogin();
    const doc = await s.db.collection('users').findOne({ _id: id as never });
    assert.ok(doc);
    assert.equal(doc.username_key, name.toLowerCase());
    assert.match(String(doc.password_hash), /^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.ok(!JSON.stringify(doc).includes(GOOD_PASSWORD));
    const tokens = await s.db.collection('auth_refresh_tokens').find({ user_id: id }).toArray();
    assert.equal(tokens.length, 1);
    assert.match(String(tokens[0]!._id), /^[0-9a-f]{64}$/, 'refresh tokens are stored as SHA-256 hashes');
  });

  it('refuses an unknown user and a wrong password with the same error', async function () {
    const { name } = await registerAndLogin();
    const expected = { code: 'UNAUTHENTICATED', message: 'invalid username or password' };
    await assert.rejects(s.anon().userAuth(name, 'wrong password here', 'ios'), expected);
    await assert.rejects(s.anon().userAuth(uniqueName('ghost'), 'wrong password here', 'ios'), expected);
  });

  it('uses the device id the gateway forwards, else makes one per login', async function () {
    const { name } = await registerAndLogin();
    const a = await s.anon().userAuth(name, GOOD_PASSWORD, 'ios', { extra: { 'device-id': 'iphone-42' } });
    assert.equal(a.device_id, 'iphone-42');
    const b = await s.anon().userAuth(name, GOOD_PASSWORD, 'ios');
    assert.match(b.device_id, /^d_[A-Za-z0-9_-]{16}$/);
    await assert.rejects(s.anon().userAuth(name, GOOD_PASSWORD, 'ios', { extra: { 'device-id': 'bad id!' } }), {
      code: 'INVALID_ARGUMENT',
      message: "extra 'device-id' must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-', got 'bad id!'",
    });
  });

  it('refresh rotates the refresh token and keeps the session', async function () {
    const { token: t0 } = await registerAndLogin();
    const t1 = await s.anon().refresh(t0.refresh_token, 'android');
    assert.notEqual(t1.refresh_token, t0.refresh_token);
    assert.notEqual(t1.access_token, t0.access_token);
    assert.equal(t1.session_id, t0.session_id);
    assert.equal(t1.device_id, t0.device_id);
    const t2 = await s.anon().refresh(t1.refresh_token, 'android');
    assert.equal(verifyAccessToken(s.keys, t2.access_token).sid, t0.session_id);
  });

  it('reuse of a spent refresh token revokes the whole family and its live access tokens', async function () {
    const { token: t0 } = await registerAndLogin();
    const t1 = await s.anon().refresh(t0.refresh_token, 'android'); // the owner refreshes
    assert.ok(gatewayAccepts(t1.access_token));
    // A thief replays the stolen, already spent token.
    await assert.rejects(s.anon().refresh(t0.refresh_token, 'android'), {
      code: 'UNAUTHENTICATED',
      message: 'refresh token was already used; the session has been revoked for safety, log in again',
    });
    // The owner's newer token is dead too: the family is revoked.
    await assert.rejects(s.anon().refresh(t1.refresh_token, 'android'), {
      code: 'UNAUTHENTICATED',
      message: 'the session of this refresh token has ended; log in again',
    });
    await waitFor('the verifier to see the session revoked', () => gatewayAccepts(t1.access_token) === undefined);
    assert.ok(gatewayAccepts(t0.access_token) === undefined);
  });

  it('two concurrent refreshes with one token: exactly one wins and the family is revoked', async function () {
    const { token: t0 } = await registerAndLogin();
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => s.anon().refresh(t0.refresh_token, 'android')),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
    for (const r of results) {
      if (r.status === 'rejected') assert.equal((r.reason as PlatformError).code, 'UNAUTHENTICATED');
    }
    const winner = (won[0] as PromiseFulfilledResult<Token>).value;
    await assert.rejects(s.anon().refresh(winner.refresh_token, 'android'), { code: 'UNAUTHENTICATED' });
  });

  it('refuses refresh from another device type, with garbage, and with a made-up token', async function () {
    const { token } = await registerAndLogin('android');
    await assert.rejects(s.anon().refresh(token.refresh_token, 'ios'), {
      code: 'PERMISSION_DENIED',
      message: "refresh token was issued to device type 'android', not 'ios'",
    });
    const madeUp = `rt1.${token.session_id}.${'A'.repeat(43)}`;
    await assert.rejects(s.anon().refresh(madeUp, 'android'), {
      code: 'UNAUTHENTICATED',
      message: 'refresh token is not valid; log in again',
    });
    // A made-up token must not revoke the session (anyone can read the sid from an access token).
    const next = await s.anon().refresh(token.refresh_token, 'android');
    assert.equal(next.session_id, token.session_id);
  });

  it('logout of this device revokes its session only, and the gateway sees it', async function () {
    const { name, token: phone } = await registerAndLogin('android');
    const tablet = await s.anon().userAuth(name, GOOD_PASSWORD, 'ios');
    await s.as(phone).logout('', false);
    await assert.rejects(s.anon().refresh(phone.refresh_token, 'android'), { code: 'UNAUTHENTICATED' });
    await waitFor('the phone token to be revoked', () => gatewayAccepts(phone.access_token) === undefined);
    assert.ok(gatewayAccepts(tablet.access_token), 'the other device stays logged in');
    await s.anon().refresh(tablet.refresh_token, 'ios');
  });

  it('logout with a refresh token ends that session; another user’s token is refused', async function () {
    const a = await registerAndLogin();
    const b = await registerAndLogin();
    await assert.rejects(s.as(a.token).logout(b.token.refresh_token, false), {
      code: 'PERMISSION_DENIED',
      message: 'refresh_token belongs to another user',
    });
    await s.as(a.token).logout(a.token.refresh_token, false);
    await assert.rejects(s.anon().refresh(a.token.refresh_token, 'android'), { code: 'UNAUTHENTICATED' });
    await s.as(a.token).logout(a.token.refresh_token, false); // idempotent
  });

  it('logout of all devices revokes every session of the user', async function () {
    const { name, token: one } = await registerAndLogin('android');
    const two = await s.anon().userAuth(name, GOOD_PASSWORD, 'web');
    const other = await registerAndLogin();
    await s.as(one).logout('', true);
    await waitFor(
      'both sessions to be revoked',
      () => !gatewayAccepts(one.access_token) && !gatewayAccepts(two.access_token),
    );
    assert.ok(gatewayAccepts(other.token.access_token), 'other users are untouched');
    await assert.rejects(s.anon().refresh(two.refresh_token, 'web'), { code: 'UNAUTHENTICATED' });
    // Logging in again right away works: revocation is per session, not per user.
    const again = await s.anon().userAuth(name, GOOD_PASSWORD, 'android');
    assert.ok(gatewayAccepts(again.access_token));
  });

  it('acts on "me" only with a verified identity: unsigned or forged identities are refused', async function () {
    const { token } = await registerAndLogin();
    const needsIdentity = (method: string) => ({
      code: 'UNAUTHENTICATED',
      message: `${method} acts on the calling user and needs a verified caller identity (call it through the gateway)`,
    });
    await assert.rejects(s.anon().logout(token.refresh_token, true), needsIdentity('logout'));
    await assert.rejects(
      s.anon().changePassword(GOOD_PASSWORD, 'another good passphrase'),
      needsIdentity('changePassword'),
    );
    await assert.rejects(s.anon().listSessions(), needsIdentity('listSessions'));
    const { IAuthServerProxy } = await import('../../../proto/gen/ts/auth.tce.js');
    const forged = new IAuthServerProxy(s.addr, {
      identity: { identity: { userId: token.user_id, deviceId: token.device_id }, key: Buffer.alloc(32, 7) },
    });
    try {
      await assert.rejects(forged.logout('', true), needsIdentity('logout'));
    } finally {
      forged.close();
    }
    assert.ok(gatewayAccepts(token.access_token));
  });

  it('changePassword checks the old password, keeps this device and logs out the others', async function () {
    const { name, token: phone } = await registerAndLogin('android');
    const laptop = await s.anon().userAuth(name, GOOD_PASSWORD, 'web');
    await assert.rejects(s.as(phone).changePassword('not my password', 'a new good passphrase'), {
      code: 'PERMISSION_DENIED',
      message: 'old_passwd is not the current password',
    });
    await assert.rejects(s.as(phone).changePassword(GOOD_PASSWORD, GOOD_PASSWORD), {
      code: 'INVALID_ARGUMENT',
      message: 'new_passwd must differ from old_passwd',
    });
    await assert.rejects(s.as(phone).changePassword(GOOD_PASSWORD, `${name}123`), {
      code: 'INVALID_ARGUMENT',
      message: 'new_passwd must not contain the username',
    });
    await s.as(phone).changePassword(GOOD_PASSWORD, 'a new good passphrase');
    await waitFor('the laptop session to be revoked', () => gatewayAccepts(laptop.access_token) === undefined);
    assert.ok(gatewayAccepts(phone.access_token), 'the device that changed the password stays logged in');
    await assert.rejects(s.anon().refresh(laptop.refresh_token, 'web'), { code: 'UNAUTHENTICATED' });
    await s.anon().refresh(phone.refresh_token, 'android');
    await assert.rejects(s.anon().userAuth(name, GOOD_PASSWORD, 'web'), { code: 'UNAUTHENTICATED' });
    await s.anon().userAuth(name, 'a new good passphrase', 'web');
  });

  it('getUser returns the public profile; the e-mail only to the user', async function () {
    const name = uniqueName();
    const id = await s.anon().registerUser({
      username: name,
      password: GOOD_PASSWORD,
      display_name: '  Bob  ',
      email: 'bob@Example.org',
    });
    const mine = await s.anon().userAuth(name, GOOD_PASSWORD, 'web');
    const other = await registerAndLogin();
    const self = await s.as(mine).getUser(id);
    assert.equal(self.email, 'bob@example.org');
    assert.equal(self.display_name, 'Bob');
    assert.equal(self.username, name);
    assert.ok(Math.abs(self.created_at - Date.now()) < 600_000);
    const seen = await s.as(other.token).getUser(id);
    assert.equal(seen.email, '');
    assert.equal(seen.username, name);
    assert.equal((await s.anon().getUser(id)).email, '');
    await assert.rejects(s.anon().getUser('u_AAAAAAAAAAAAAAAA'), {
      code: 'NOT_FOUND',
      message: 'user u_AAAAAAAAAAAAAAAA not found',
    });
  });

  it('lists the caller’s sessions and revokes one of them', async function () {
    const { name, token: phone } = await registerAndLogin('android');
    const web = await s.anon().userAuth(name, GOOD_PASSWORD, 'web');
    const list = await s.as(phone).listSessions();
    assert.deepEqual(
      list.map((x) => [x.session_id, x.device_type, x.current]).sort(),
      [
        [phone.session_id, 'android', true],
        [web.session_id, 'web', false],
      ].sort(),
    );
    const stranger = await registerAndLogin();
    await assert.rejects(s.as(stranger.token).revokeSession(web.session_id), {
      code: 'NOT_FOUND',
      message: `session ${web.session_id} not found`,
    });
    await s.as(phone).revokeSession(web.session_id);
    await waitFor('the web session to be revoked', () => gatewayAccepts(web.access_token) === undefined);
    assert.deepEqual(
      (await s.as(phone).listSessions()).map((x) => x.session_id),
      [phone.session_id],
    );
  });

  it('serves diag.IDiag next to IAuthServer, and stock clients find both through reflection', async function () {
    const diag = new IDiagProxy(s.addr);
    try {
      assert.equal(await diag.echo('auth'), 'auth');
    } finally {
      diag.close();
    }
    const grpcurl = bin('grpcurl');
    const list = await run(grpcurl, ['-plaintext', s.addr, 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^auth\.IAuthServer$/m);
    assert.match(list.stdout, /^diag\.IDiag$/m);
    assert.match(list.stdout, /^grpc\.health\.v1\.Health$/m);
    const call = await run(grpcurl, ['-plaintext', '-d', '{"user_id":"nobody"}', s.addr, 'auth.IAuthServer/getUser']);
    assert.notEqual(call.code, 0);
    assert.match(call.stderr, /Code: InvalidArgument/);
    assert.match(call.stderr, /user_id is not a user id \(u_ and 16 characters\): 'nobody'/);
    const health = await run(grpcurl, [
      '-plaintext',
      '-d',
      '{"service":"auth.IAuthServer"}',
      s.addr,
      'grpc.health.v1.Health/Check',
    ]);
    assert.equal(health.code, 0, health.stderr);
    assert.deepEqual(JSON.parse(health.stdout), { status: 'SERVING' });
  });
});
