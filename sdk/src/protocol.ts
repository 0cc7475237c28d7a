// The device protocol on the client side: the IDL model, the envelope
// (messaging::Frame) and its kinds. docs/protocol.md is the reference.
import model from '../../proto/gen/model.json' with { type: 'json' };
import { ModelCodec, type IdlModel } from './codec.js';

export const codec = new ModelCodec(model as unknown as IdlModel);

export { CloseCode, FrameKind } from '../../services/gateway/src/protocol-constants.js';

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
