// Auth's use cases on validated input: register, log in, refresh, log out,
// change password, read a user, list and revoke sessions. The servant
// (auth-servant.ts) validates raw parameters and finds the caller; this file
// decides, talks to the stores and signs tokens.
import type { Identity } from '../../runtime/src/identity.js';
import type { Logger } from '../../runtime/src/logger.js';
import { PlatformError } from '../../runtime/src/errors.js';
import { signAccessToken, type KeySet } from '../../tokens/src/index.js';
import type { Session, Token, User } from '../../../proto/gen/ts/auth.js';
import type { AuthMetrics } from './auth-metrics.js';
import type { HashPool } from './hash-pool.js';
import { newDeviceId, newUserId } from './ids.js';
import { hashPassword, verifyPassword } from './password-hash.js';
import { checkNewPassword } from './password-policy.js';
import type { ParsedRefreshToken } from './refresh-token.js';
import type { RevokeReason, SessionDoc, SessionStore } from './session-store.js';
import type { ThrottlePolicy } from './throttle-policy.js';
import { accountKey, addressKey, type Claim, type ThrottleStore } from './throttle-store.js';
import type { UserDoc, UserStore } from './user-store.js';
import type { Username } from './username.js';

/** What auth knows about who is calling. */
export interface Caller {
  /** Verified (signed by the gateway with TCE_INTERNAL_KEY); never taken from parameters. */
  identity: Identity | undefined;
  /** Throttle key part: the device's address as forwarded by the gateway, else the peer. */
  address: string;
  /** The device's stable id when the gateway forwards one. */
  deviceId: string | undefined;
  cancelled: () => boolean;
}

export interface AuthServiceDeps {
  users: UserStore;
  sessions: SessionStore;
  throttle: ThrottleStore;
  pool: HashPool;
  keys: KeySet;
  accessTtlMs: number;
  accountPolicy: ThrottlePolicy;
  addressPolicy: ThrottlePolicy;
  /** A hash of a random password: unknown users are verified against it, so they cost the same time. */
  dummyHash: string;
  metrics: AuthMetrics;
  logger: Logger;
  now?: () => number;
}

const INVALID_CREDENTIALS = 'invalid username or password';

export class AuthService {
  private readonly now: () => number;

  constructor(private readonly d: AuthServiceDeps) {
    this.now = d.now ?? Date.now;
  }

  async register(
    input: { username: Username; password: string; displayName: string; email: string },
    caller: Caller,
  ): Promise<string> {
    const now = this.now();
    const id = newUserId();
    const won = await this.d.users.reserve(
      {
        _id: id,
        username: input.username.display,
        username_key: input.username.key,
        display_name: input.displayName || input.username.display,
        email: input.email,
        created_at: now,
        updated_at: now,
        password_changed_at: now,
      },
      now,
    );
    if (!won) {
      this.d.metrics.registrations.inc({ outcome: 'taken' });
      throw new PlatformError('ALREADY_EXISTS', `username '${input.username.display}' is already taken`);
    }
    let hash: string;
    try {
      hash = await this.hash(() => hashPassword(input.password), caller);
    } catch (err) {
      await this.d.users.abandon(id);
      throw err;
    }
    if (!(await this.d.users.activate(id, hash, this.now()))) {
      throw new PlatformError('UNAVAILABLE', 'registration took too long to complete; try again');
    }
    this.d.metrics.registrations.inc({ outcome: 'created' });
    this.d.logger.info('Registered user', { userId: id });
    return id;
  }

  async login(input: { username: Username; password: string; deviceType: string }, caller: Caller): Promise<Token> {
    const user = await this.checkPassword(input.username.key, input.password, caller, 'login');
    if (!user) throw new PlatformError('UNAUTHENTICATED', INVALID_CREDENTIALS);
    const deviceId = caller.deviceId ?? newDeviceId();
    const s = await this.d.sessions.create({ userId: user._id, deviceId, deviceType: input.deviceType }, this.now());
    this.d.metrics.logins.inc({ outcome: 'success' });
    this.d.logger.info('Logged in', { userId: user._id, sessionId: s.session._id, deviceType: input.deviceType });
    return this.issue(user, s.session, s.refreshToken, s.refreshExpiresAt);
  }

  async refresh(t: ParsedRefreshToken, deviceType: string): Promise<Token> {
    const r = await this.d.sessions.rotate(t, deviceType, this.now());
    this.d.metrics.refreshes.inc({ outcome: r.kind.replace('-', '_') });
    switch (r.kind) {
      case 'rotated': {
        const user = await this.d.users.findActiveById(r.session.user_id);
        if (!user) throw new PlatformError('UNAUTHENTICATED', 'the account of this session no longer exists');
        return this.issue(user, r.session, r.refreshToken, r.refreshExpiresAt);
      }
      case 'reused':
        this.d.metrics.revokedSessions.inc({ reason: 'refresh-token-reuse' });
        this.d.logger.warn('Revoked session after refresh-token reuse', {
          userId: r.session.user_id,
          sessionId: r.session._id,
        });
        throw new PlatformError(
          'UNAUTHENTICATED',
          'refresh token was already used; the session has been revoked for safety, log in again',
        );
      case 'revoked':
        throw new PlatformError('UNAUTHENTICATED', 'the session of this refresh token has ended; log in again');
      case 'expired':
        throw new PlatformError('UNAUTHENTICATED', 'refresh token expired; log in again');
      case 'device-mismatch':
        throw new PlatformError(
          'PERMISSION_DENIED',
          `refresh token was issued to device type '${r.session.device_type}', not '${deviceType}'`,
        );
      case 'unknown':
        throw new PlatformError('UNAUTHENTICATED', 'refresh token is not valid; log in again');
    }
  }

  /** This device (or the session of `token`), or every device of the caller. */
  async logout(me: Identity, opts: { token: ParsedRefreshToken | undefined; allDevices: boolean }): Promise<void> {
    const now = this.now();
    let targets: SessionDoc[];
    let reason: RevokeReason = 'logout';
    if (opts.allDevices) {
      targets = await this.d.sessions.listActive(me.userId, now);
      reason = 'logout-all';
    } else if (opts.token) {
      const s = await this.d.sessions.sessionOfToken(opts.token);
      if (!s) throw new PlatformError('UNAUTHENTICATED', 'refresh_token is not valid');
      if (s.user_id !== me.userId)
        throw new PlatformError('PERMISSION_DENIED', 'refresh_token belongs to another user');
      targets = [s];
    } else {
      targets = (await this.d.sessions.listActive(me.userId, now)).filter((s) => s.device_id === me.deviceId);
    }
    await this.revoke(targets, reason, now);
  }

  /** `newRaw` is checked against the full password policy here, where the username is known. */
  async changePassword(me: Identity, oldPassword: string, newRaw: string, caller: Caller): Promise<void> {
    const user = await this.d.users.findActiveById(me.userId);
    if (!user) throw new PlatformError('NOT_FOUND', 'your account no longer exists');
    const newPassword = checkNewPassword(newRaw, { display: user.username, key: user.username_key }, 'new_passwd');
    const ok = await this.checkPassword(user.username_key, oldPassword, caller, 'change-password');
    if (!ok) throw new PlatformError('PERMISSION_DENIED', 'old_passwd is not the current password');
    // Compared only after the old password proved right, so this cannot be used to guess it.
    if (oldPassword === newPassword)
      throw new PlatformError('INVALID_ARGUMENT', 'new_passwd must differ from old_passwd');
    const hash = await this.hash(() => hashPassword(newPassword), caller);
    const now = this.now();
    await this.d.users.setPasswordHash(user._id, hash, now);
    const others = (await this.d.sessions.listActive(user._id, now)).filter((s) => s.device_id !== me.deviceId);
    await this.revoke(others, 'password-changed', now);
    this.d.logger.info('Changed password', { userId: user._id, revokedSessions: others.length });
  }

  async getUser(id: string, caller: Caller): Promise<User> {
    const u = await this.d.users.findActiveById(id);
    if (!u) throw new PlatformError('NOT_FOUND', `user ${id} not found`);
    return {
      user_id: u._id,
      username: u.username,
      display_name: u.display_name,
      // Contact data is the user's own business.
      email: caller.identity?.userId === u._id ? u.email : '',
      created_at: u.created_at,
    };
  }

  async listSessions(me: Identity): Promise<Session[]> {
    const list = await this.d.sessions.listActive(me.userId, this.now());
    return list.map((s) => ({
      session_id: s._id,
      device_id: s.device_id,
      device_type: s.device_type,
      created_at: s.created_at,
      last_used_at: s.last_used_at,
      expires_at: s.expires_at,
      current: s.device_id === me.deviceId,
    }));
  }

  async revokeSession(me: Identity, sessionId: string): Promise<void> {
    const s = await this.d.sessions.findById(sessionId);
    // Someone else's session is reported like a missing one: ids of others' sessions reveal nothing.
    if (!s || s.user_id !== me.userId) throw new PlatformError('NOT_FOUND', `session ${sessionId} not found`);
    await this.revoke([s], 'revoked-by-user', this.now());
  }

  /**
   * The password check shared by login and changePassword, under both
   * throttles: the address may not be throttled, an attempt on the account
   * is claimed before hashing, and the result updates both. Unknown users are
   * checked against the dummy hash: same work, same time, same answer.
   */
  private async checkPassword(
    usernameKey: string,
    password: string,
    caller: Caller,
    what: 'login' | 'change-password',
  ): Promise<UserDoc | undefined> {
    const addr = addressKey(caller.address);
    const acct = accountKey(usernameKey);
    let claim: Claim;
    try {
      await this.d.throttle.check(addr, this.d.addressPolicy, this.now());
      claim = await this.d.throttle.claim(acct, this.d.accountPolicy, this.now);
    } catch (err) {
      if (err instanceof PlatformError && err.code === 'RESOURCE_EXHAUSTED') {
        this.d.metrics.logins.inc({ outcome: 'throttled' });
        this.d.logger.info('Throttled password check', { what, address: caller.address });
      }
      throw err;
    }
    let user: UserDoc | null;
    let ok: boolean;
    try {
      user = await this.d.users.findActiveByKey(usernameKey);
      const stored = user?.password_hash ?? this.d.dummyHash;
      ok = await this.hash(() => verifyPassword(password, stored), caller);
    } catch (err) {
      await this.d.throttle.release(claim); // the password was never judged: not a failure
      throw err;
    }
    if (ok && user) {
      await this.d.throttle.reset(acct);
      return user;
    }
    // The claim stays as the account's failure; the address gets one too.
    await this.d.throttle.recordFailure(addr, this.d.addressPolicy, this.now());
    this.d.metrics.logins.inc({ outcome: 'invalid_credentials' });
    this.d.logger.info('Refused password', { what, address: caller.address });
    return undefined;
  }

  private async hash<T>(task: () => Promise<T>, caller: Caller): Promise<T> {
    return this.d.pool.run(async () => {
      const end = this.d.metrics.hashSeconds.startTimer();
      try {
        return await task();
      } finally {
        end();
      }
    }, caller.cancelled);
  }

  private async revoke(targets: readonly SessionDoc[], reason: RevokeReason, now: number): Promise<void> {
    if (targets.length === 0) return;
    const revoked = await this.d.sessions.revoke(targets, reason, now);
    if (revoked.length) this.d.metrics.revokedSessions.inc({ reason }, revoked.length);
  }

  private issue(user: UserDoc, session: SessionDoc, refreshToken: string, refreshExpiresAt: number): Token {
    const at = signAccessToken(
      this.d.keys,
      { sub: user._id, did: session.device_id, sid: session._id, name: user.username },
      { ttlMs: this.d.accessTtlMs, now: this.now() },
    );
    return {
      access_token: at.token,
      refresh_token: refreshToken,
      access_expires_at: at.expiresAt,
      refresh_expires_at: refreshExpiresAt,
      user_id: user._id,
      username: user.username,
      session_id: session._id,
      device_id: session.device_id,
      display_name: user.display_name,
    };
  }
}
