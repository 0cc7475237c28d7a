// Messages stay encoded inside the broker: it reads only what it needs (id,
// key, whether a timestamp is set) from the mq.Message bytes with a small
// hand-written scanner (this runs once per published message), and delivers
// and stores those same bytes. A missing timestamp is added by appending
// field 5: in protobuf the last occurrence of a scalar field wins.
import { Message } from '../../../proto/gen/ts/mq.js';
import { PlatformError } from '../../runtime/src/errors.js';
import type { RawMessage } from './queue.js';

class Malformed extends Error {}

/** A protobuf wire scanner over one buffer: varints, lengths, skips, with bounds checks. */
export class Scanner {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  varint(): number {
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Malformed('truncated varint');
      const c = this.buf[this.pos++]!;
      x += (c & 0x7f) * mul;
      if ((c & 0x80) === 0) return x;
      mul *= 128;
    }
    throw new Malformed('varint too long');
  }

  /** Start of a length-delimited field's content; advances past it. */
  lengthDelimited(): number {
    const len = this.varint();
    const start = this.pos;
    if (len > this.end - start) throw new Malformed(`length ${len} runs past the end`);
    this.pos += len;
    return start;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.lengthDelimited();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 5) this.pos += 4;
    else throw new Malformed(`unsupported wire type ${wireType}`);
    if (this.pos > this.end) throw new Malformed('field runs past the end');
  }
}

const utf8 = (b: Uint8Array, start: number, end: number): string =>
  end > start ? Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8') : '';

let tsCache = { now: -1, bytes: new Uint8Array(0) };
/** Field 5 (varint) = now; cached because a frame's messages share one `now`. */
function timestampField(now: number): Uint8Array {
  if (tsCache.now !== now) {
    const out: number[] = [5 << 3];
    let v = now;
    while (v >= 128) {
      out.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
    tsCache = { now, bytes: Uint8Array.from(out) };
  }
  return tsCache.bytes;
}

/**
 * One encoded mq.Message at buf[start, end): its own copy of the bytes (with a
 * timestamp), id and key. Throws INVALID_ARGUMENT when it is not a message.
 */
export function rawFromBytes(buf: Uint8Array, now: number, start = 0, end = buf.length): RawMessage {
  let id = '';
  let key = '';
  let hasTs = false;
  try {
    const s = new Scanner(buf, start, end);
    while (s.pos < end) {
      const tag = s.varint();
      const no = Math.floor(tag / 8);
      const wt = tag & 7;
      if ((no === 1 || no === 2) && wt === 2) {
        const a = s.lengthDelimited();
        if (no === 1) id = utf8(buf, a, s.pos);
        else key = utf8(buf, a, s.pos);
      } else if (no === 5 && wt === 0) hasTs = s.varint() !== 0;
      else if (no === 0) throw new Malformed('field number 0');
      else s.skip(wt);
    }
  } catch (err) {
    if (!(err instanceof Malformed)) throw err;
    throw new PlatformError('INVALID_ARGUMENT', `malformed message: ${err.message}`);
  }
  // Buffer.allocUnsafe takes small messages from Node's shared 8 KiB pool: much
  // cheaper than an ArrayBuffer of their own, and never a view into the whole frame.
  const ts = hasTs ? undefined : timestampField(now);
  const bytes = Buffer.allocUnsafe(end - start + (ts ? ts.length : 0));
  bytes.set(buf.subarray(start, end), 0);
  if (ts) bytes.set(ts, end - start);
  return { bytes, id, key };
}

/** From a decoded message (the unary IMqPublisher path). */
export function rawFromMessage(msg: Message, now: number): RawMessage {
  const m = msg.timestamp ? msg : { ...msg, timestamp: now };
  return { bytes: Message.encode(m).finish(), id: m.id, key: m.key };
}

export { Malformed };
