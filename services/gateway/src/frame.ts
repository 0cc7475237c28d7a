// The device protocol's envelope (messaging::Frame in proto/idl/messaging.idl):
// kinds, close codes and strict decoding. docs/protocol.md is the reference for
// native clients; keep the two in step.
import { Frame } from '../../../proto/gen/ts/messaging.js';
import { ERROR_CODES, type ErrorCode } from '../../runtime/src/errors.js';
import { varintSize, writeVarint } from '../../runtime/src/varint.js';
import { FrameKind } from './protocol-constants.js';

export { Frame };

export { CloseCode, FrameKind, type FrameKindNo } from './protocol-constants.js';

export class FrameError extends Error {
  override name = 'FrameError';
}

const MAX_NAME = 128;
const MAX_EXTRA_ENTRIES = 32;
const MAX_EXTRA_BYTES = 4096;
const ERROR_CODE_SET: ReadonlySet<string> = new Set(ERROR_CODES);

/** Decodes and checks one frame; throws FrameError when it cannot be a valid envelope. */
export function decodeFrame(data: Uint8Array): Frame {
  let f: Frame;
  try {
    f = Frame.decode(data);
  } catch (err) {
    throw new FrameError(`not a protobuf Frame (${(err as Error).message})`);
  }
  if (f.kind < FrameKind.CALL || f.kind > FrameKind.PONG) throw new FrameError(`unknown frame kind ${f.kind}`);
  if (!Number.isSafeInteger(f.id) || f.id < 0) throw new FrameError(`invalid call id ${f.id}`);
  if (f.kind === FrameKind.CALL && f.id === 0) throw new FrameError('a call needs a non-zero id');
  if (f.iface.length > MAX_NAME || f.method.length > MAX_NAME)
    throw new FrameError('interface or method name too long');
  if (f.timeout_ms < 0) throw new FrameError(`negative timeout ${f.timeout_ms}`);
  const keys = Object.keys(f.extra);
  if (keys.length > MAX_EXTRA_ENTRIES) throw new FrameError(`more than ${MAX_EXTRA_ENTRIES} extra entries`);
  if (keys.length > 0) {
    let n = 0;
    for (const k of keys) n += k.length + (f.extra[k]?.length ?? 0);
    if (n > MAX_EXTRA_BYTES) throw new FrameError(`extra larger than ${MAX_EXTRA_BYTES} characters`);
  }
  return f;
}

export function encodeFrame(f: Partial<Frame>): Buffer {
  return Buffer.from(Frame.encode(Frame.fromPartial(f)).finish());
}

/** Wire type 0 (varint) or 2 (length-delimited) tag for a Frame field. */
const tag = (field: number, wire: 0 | 2): number => (field << 3) | wire;

/**
 * Encodes CALL frames of one method, the gateway's pushes to devices: the
 * fields that never change (kind, interface, method, index, timeout) are
 * encoded once; per call only the id and the payload are written. The bytes
 * decode to the same Frame as encodeFrame gives (fields in another order,
 * which protobuf allows).
 */
export class CallFrameEncoder {
  private readonly fixed: Buffer;

  constructor(iface: string, method: string, methodIndex: number, timeoutMs: number) {
    this.fixed = encodeFrame({
      kind: FrameKind.CALL,
      iface,
      method,
      method_index: methodIndex,
      timeout_ms: timeoutMs,
    });
  }

  encode(id: number, payload: Uint8Array): Buffer {
    if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`invalid call id ${id}`);
    const size =
      1 + varintSize(id) + this.fixed.length + (payload.length ? 1 + varintSize(payload.length) + payload.length : 0);
    const buf = Buffer.allocUnsafe(size);
    let pos = 0;
    buf[pos++] = tag(1, 0);
    pos = writeVarint(buf, pos, id);
    pos += this.fixed.copy(buf, pos);
    if (payload.length) {
      buf[pos++] = tag(7, 2);
      pos = writeVarint(buf, pos, payload.length);
      buf.set(payload, pos);
    }
    return buf;
  }
}

export function errorFrame(id: number, code: ErrorCode, message: string): Buffer {
  return encodeFrame({ id, kind: FrameKind.ERROR, error_code: code, error_message: message });
}

/** An error code received from a device, or INTERNAL when it sent something outside the list. */
export function errorCodeOf(s: string): ErrorCode {
  return ERROR_CODE_SET.has(s) ? (s as ErrorCode) : 'INTERNAL';
}
