// The device protocol on the client side: the IDL model, the envelope
// (messaging::Frame) and its kinds. docs/protocol.md is the reference.
import model from '../../proto/gen/model.json' with { type: 'json' };
import { ModelCodec, type IdlModel } from './codec.js';

export const codec = new ModelCodec(model as unknown as IdlModel);

export const FrameKind = { CALL: 1, RETURN: 2, ERROR: 3, ONEWAY: 4, PING: 5, PONG: 6 } as const;

export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  POLICY_VIOLATION: 1008,
  TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  DISPLACED: 4001,
  TOKEN_REVOKED: 4002,
  TOKEN_EXPIRED: 4003,
  SLOW_CONSUMER: 4004,
  LOGIN_TIMEOUT: 4005,
  IDLE_TIMEOUT: 4006,
  DELIVERY_FAILED: 4007,
} as const;

/** messaging::Frame as the SDK holds it. */
export interface WireFrame {
  id: number;
  kind: number;
  iface: string;
  iface_index: number;
  method: string;
  method_index: number;
  payload: Uint8Array;
  extra: Record<string, string>;
  timeout_ms: number;
  error_code: string;
  error_message: string;
}

export function encodeFrame(f: Partial<WireFrame>): Uint8Array {
  return codec.encodeStruct('messaging', 'Frame', f as Record<string, unknown>);
}

export function decodeFrame(b: Uint8Array): WireFrame {
  return codec.decodeStruct<WireFrame>('messaging', 'Frame', b);
}

export const IFACES = {
  auth: 'auth.IAuthServer',
  messages: 'messaging.IMessageServer',
  session: 'messaging.ISession',
  terminal: 'messaging.ITerminal',
  locationQuery: 'location.ILocationQuery',
  locationReport: 'location.ILocationReport',
  diag: 'diag.IDiag',
} as const;
