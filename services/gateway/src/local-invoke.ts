// Runs a device call on a servant inside the gateway: the frame's payload is
// the method's request message; the result becomes its response message. The
// same adaptation the RPC runtime does for gRPC (servantHandlers), with the
// device connection in the context.
import * as grpc from '@grpc/grpc-js';
import type { CallContext } from '../../runtime/src/call-context.js';
import { PlatformError } from '../../runtime/src/errors.js';
import type { MethodInfo } from '../../runtime/src/tce.js';
import type { DeviceConnection, Session } from './device-connection.js';

/** ctx of a device call served in the gateway: TCE's ctx carries the connection too. */
export interface DeviceCallContext extends CallContext {
  conn: DeviceConnection;
}

export function deviceContext(
  conn: DeviceConnection,
  extra: Record<string, string>,
  deadline: number,
): DeviceCallContext {
  const s = conn.session;
  return {
    conn,
    extra,
    peer: conn.peer,
    identity: s ? { userId: s.userId, deviceId: s.deviceId } : undefined,
    deadline,
    metadata: new grpc.Metadata(),
    get cancelled() {
      return conn.closed || Date.now() > deadline;
    },
  };
}

/** The device of a call that requires a session (the dispatcher checked it). */
export function sessionOf(ctx: CallContext): Session & { conn: DeviceConnection } {
  const conn = (ctx as DeviceCallContext).conn;
  if (!conn?.session) throw new PlatformError('UNAUTHENTICATED', 'login required');
  return { ...conn.session, conn };
}

export async function invokeLocal(
  servant: object,
  method: MethodInfo,
  payload: Uint8Array,
  ctx: DeviceCallContext,
): Promise<Uint8Array> {
  let req: Record<string, unknown>;
  try {
    req = method.request.decode(payload) as Record<string, unknown>;
  } catch {
    throw new PlatformError('INVALID_ARGUMENT', `payload is not a valid ${method.name} request`);
  }
  const args: unknown[] = method.params.map((p) => req[p]);
  method.structParams.forEach((t, i) => {
    if (t && args[i] === undefined) args[i] = t.fromPartial({} as never);
  });
  const fn = (servant as Record<string, unknown>)[method.name];
  if (typeof fn !== 'function') throw new PlatformError('UNIMPLEMENTED', `${method.name} is not served here`);
  const value: unknown = await (fn as (...a: unknown[]) => unknown).apply(servant, [...args, ctx]);
  return method.response.encode(method.response.fromPartial((method.returnsVoid ? {} : { value }) as never)).finish();
}
