// messaging::ISession: a device presents (or renews) an access token on its
// open connection, and asks who it is.
import type { SessionInfo } from '../../../proto/gen/ts/messaging.js';
import type { ISessionServant } from '../../../proto/gen/ts/messaging.tce.js';
import type { CallContext } from '../../runtime/src/call-context.js';
import type { Hub } from './hub.js';
import type { DeviceCallContext } from './local-invoke.js';

export class SessionServant implements ISessionServant {
  constructor(private readonly hub: Hub) {}

  authenticate(access_token: string, ctx: CallContext): Promise<SessionInfo> {
    return this.hub.authenticate((ctx as DeviceCallContext).conn, access_token);
  }

  /** Answers once the session has fully started (presence recorded, delivery running). */
  whoami(ctx: CallContext): Promise<SessionInfo> {
    return this.hub.startedSession((ctx as DeviceCallContext).conn);
  }
}
