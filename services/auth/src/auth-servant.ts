// auth::IAuthServer over gRPC: validates every raw parameter (raw gRPC
// clients can send anything), finds the caller, and hands over to
// AuthService. Calls that act on "me" take the caller only from the verified
// identity in the metadata (signed by the gateway), never from a parameter.
import type { IAuthServerServant } from '../../../proto/gen/ts/auth.tce.js';
import type { Session, Token, User, UserInfo } from '../../../proto/gen/ts/auth.js';
import type { CallContext } from '../../runtime/src/call-context.js';
import { invalidArgument, PlatformError } from '../../runtime/src/errors.js';
import type { Identity } from '../../runtime/src/identity.js';
import type { AuthService, Caller } from './auth-service.js';
import { clientAddress } from './client-address.js';
import { DEVICE_ID_EXTRA } from './extra-keys.js';
import { parseDeviceId, parseDeviceType, parseDisplayName, parseEmail, parseSessionId, parseUserId } from './fields.js';
import { checkLoginPassword, checkNewPassword } from './password-policy.js';
import { parseRefreshToken } from './refresh-token.js';
import { checkNotReserved, parseUsername } from './username.js';

export class AuthServant implements IAuthServerServant {
  constructor(private readonly auth: AuthService) {}

  async registerUser(info: UserInfo, ctx: CallContext): Promise<string> {
    if (typeof info !== 'object' || info === null) throw invalidArgument('info must be a UserInfo message');
    const username = parseUsername(info.username, 'info.username');
    checkNotReserved(username, 'info.username');
    const password = checkNewPassword(info.password, username, 'info.password');
    const displayName = parseDisplayName(info.display_name, 'info.display_name');
    const email = parseEmail(info.email, 'info.email');
    return this.auth.register({ username, password, displayName, email }, caller(ctx));
  }

  async userAuth(user: string, passwd: string, device_type: string, ctx: CallContext): Promise<Token> {
    const username = parseUsername(user, 'user');
    const password = checkLoginPassword(passwd, 'passwd');
    const deviceType = parseDeviceType(device_type, 'device_type');
    return this.auth.login({ username, password, deviceType }, caller(ctx));
  }

  async refresh(refresh_token: string, device_type: string): Promise<Token> {
    const token = parseRefreshToken(refresh_token, 'refresh_token');
    const deviceType = parseDeviceType(device_type, 'device_type');
    return this.auth.refresh(token, deviceType);
  }

  async logout(refresh_token: string, all_devices: boolean, ctx: CallContext): Promise<void> {
    const me = identity(ctx, 'logout');
    if (typeof all_devices !== 'boolean') throw invalidArgument('all_devices must be a boolean');
    if (typeof refresh_token !== 'string') throw invalidArgument('refresh_token must be a string');
    const token = refresh_token === '' ? undefined : parseRefreshToken(refresh_token, 'refresh_token');
    await this.auth.logout(me, { token, allDevices: all_devices });
  }

  async getUser(user_id: string, ctx: CallContext): Promise<User> {
    return this.auth.getUser(parseUserId(user_id, 'user_id'), caller(ctx));
  }

  async changePassword(old_passwd: string, new_passwd: string, ctx: CallContext): Promise<void> {
    const me = identity(ctx, 'changePassword');
    const oldPassword = checkLoginPassword(old_passwd, 'old_passwd');
    // Shape here; the full policy needs the username, so the service applies it.
    checkLoginPassword(new_passwd, 'new_passwd');
    await this.auth.changePassword(me, oldPassword, new_passwd, caller(ctx));
  }

  async listSessions(ctx: CallContext): Promise<Session[]> {
    return this.auth.listSessions(identity(ctx, 'listSessions'));
  }

  async revokeSession(session_id: string, ctx: CallContext): Promise<void> {
    const me = identity(ctx, 'revokeSession');
    await this.auth.revokeSession(me, parseSessionId(session_id, 'session_id'));
  }
}

function identity(ctx: CallContext, method: string): Identity {
  if (!ctx.identity) {
    throw new PlatformError(
      'UNAUTHENTICATED',
      `${method} acts on the calling user and needs a verified caller identity (call it through the gateway)`,
    );
  }
  return ctx.identity;
}

function caller(ctx: CallContext): Caller {
  return {
    identity: ctx.identity,
    address: clientAddress(ctx.extra, ctx.peer),
    deviceId: parseDeviceId(ctx.extra[DEVICE_ID_EXTRA], `extra '${DEVICE_ID_EXTRA}'`),
    cancelled: () => ctx.cancelled || Date.now() >= ctx.deadline,
  };
}
