// Decoding SubscribeEvent frames on the client's hot path. Deliveries (many per
// frame) are scanned by hand: ts-proto's generic decoder turns every int64
// into a string and back and copies every payload. Payloads here are views into
// the frame (copy them to keep them past the handler cheaply). The rare parts
// (subscribed, assignment) use the generated decoder.
import { Assignment, Subscribed } from '../../../../proto/gen/ts/mq.js';
import { Scanner } from '../raw-message.js';

export interface WireMessage {
  id: string;
  key: string;
  payload: Buffer;
  headers: Record<string, string>;
  timestamp: number;
}

export interface WireDelivery {
  partition: number;
  seq: number;
  deliveryCount: number;
  msg: WireMessage;
}

export interface DecodedEvent {
  subscribed: Subscribed | undefined;
  deliveries: WireDelivery[];
  assignment: Assignment | undefined;
  dropped: number;
}

const EMPTY = Buffer.alloc(0);
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

function str(buf: Buffer, a: number, b: number): string {
  return b > a ? buf.toString('utf8', a, b) : '';
}

function message(buf: Buffer, start: number, end: number): WireMessage {
  const s = new Scanner(buf, start, end);
  const m: WireMessage = { id: '', key: '', payload: EMPTY, headers: NO_HEADERS, timestamp: 0 };
  while (s.pos < end) {
    const tag = s.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (wt === 2 && no >= 1 && no <= 4) {
      const a = s.lengthDelimited();
      if (no === 1) m.id = str(buf, a, s.pos);
      else if (no === 2) m.key = str(buf, a, s.pos);
      else if (no === 3) m.payload = buf.subarray(a, s.pos);
      else {
        // map<string,string> entry: key = 1, value = 2
        const e = new Scanner(buf, a, s.pos);
        let k = '';
        let v = '';
        while (e.pos < e.end) {
          const t = e.varint();
          if ((t & 7) === 2) {
            const x = e.lengthDelimited();
            if (t >>> 3 === 1) k = str(buf, x, e.pos);
            else if (t >>> 3 === 2) v = str(buf, x, e.pos);
          } else e.skip(t & 7);
        }
        if (m.headers === NO_HEADERS) m.headers = {};
        m.headers[k] = v;
      }
    } else if (no === 5 && wt === 0) m.timestamp = s.varint();
    else s.skip(wt);
  }
  return m;
}

export function decodeEvent(buf: Buffer): DecodedEvent {
  const ev: DecodedEvent = { subscribed: undefined, deliveries: [], assignment: undefined, dropped: 0 };
  const s = new Scanner(buf);
  while (s.pos < buf.length) {
    const tag = s.varint();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 2 && wt === 2) {
      const a = s.lengthDelimited();
      const end = s.pos;
      const d = new Scanner(buf, a, end);
      const w: WireDelivery = { partition: 0, seq: 0, deliveryCount: 0, msg: undefined as unknown as WireMessage };
      while (d.pos < end) {
        const t = d.varint();
        const n = t >>> 3;
        if (n === 4 && (t & 7) === 2) {
          const x = d.lengthDelimited();
          w.msg = message(buf, x, d.pos);
        } else if ((t & 7) === 0 && n >= 1 && n <= 3) {
          const v = d.varint();
          if (n === 1) w.partition = v;
          else if (n === 2) w.seq = v;
          else w.deliveryCount = v;
        } else d.skip(t & 7);
      }
      w.msg ??= { id: '', key: '', payload: EMPTY, headers: NO_HEADERS, timestamp: 0 };
      ev.deliveries.push(w);
    } else if (no === 1 && wt === 2) {
      const a = s.lengthDelimited();
      ev.subscribed = Subscribed.decode(buf.subarray(a, s.pos));
    } else if (no === 3 && wt === 2) {
      const a = s.lengthDelimited();
      ev.assignment = Assignment.decode(buf.subarray(a, s.pos));
    } else if (no === 4 && wt === 0) ev.dropped = s.varint();
    else s.skip(wt);
  }
  return ev;
}
