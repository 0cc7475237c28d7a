// Publishing through the mq.MqStream/Publish stream, one stream per queue:
// concurrent publish() calls are gathered into frames (many messages per gRPC
// message), up to WINDOW frames are in flight, and each frame's reply settles
// its messages. When the stream breaks for a retryable reason the client
// reconnects and sends every unanswered frame again, in order (messages with an
// id are then stored once; others may be stored twice: at-least-once).
import * as grpc from '@grpc/grpc-js';
import { Message, PublishReply, PublishRequest, type PublishResult } from '../../../../proto/gen/ts/mq.js';
import { fromGrpcError, PlatformError } from '../../../runtime/src/errors.js';
import type { Logger } from '../../../runtime/src/logger.js';
import { mqStreamDefinition } from '../stream-definition.js';
import { varintSize, writeVarint } from '../wire-writer.js';
import { isRetryable, type MqConnection } from './connection.js';

const FRAME_MAX_MESSAGES = 1000;
const FRAME_MAX_BYTES = 512 * 1024;
/**
 * Frames sent and not yet answered: at most WINDOW frames and WINDOW_BYTES bytes.
 * Durable frames are answered after their group commit, and a publisher at a
 * steady rate sends small frames (one per event-loop turn): a count alone would
 * stall it behind one slow commit. (The broker reads on up to 1024 frames / 32 MiB.)
 */
const WINDOW = 512;
const WINDOW_BYTES = 16 * 1024 * 1024;
/** Room in front of a frame's messages for its seq field (tag + varint), written when it is sealed. */
const HEADROOM = 11;
const FRAME_START_BYTES = 16 * 1024;

/** What publish() takes (MqClient's MessageInput, payload already bytes). */
export interface OutgoingMessage {
  payload: Uint8Array;
  key?: string;
  id?: string;
  headers?: Record<string, string>;
  timestamp?: number;
}

type Resolve = (r: PublishResult) => void;
type Reject = (e: PlatformError) => void;

interface Frame {
  seq: number;
  /** The encoded PublishRequest (seq + messages), kept until answered: resent after a reconnect. */
  bytes: Buffer;
  resolves: Resolve[];
  rejects: Reject[];
  sent: boolean;
}

/**
 * The frame being filled: messages are encoded straight into one growing buffer
 * as publish() is called (no Message objects, no per-message copies kept), so a
 * frame of a thousand messages is one allocation and one gRPC write.
 */
export class FrameBuilder {
  buf = Buffer.allocUnsafe(FRAME_START_BYTES);
  pos = HEADROOM;
  readonly resolves: Resolve[] = [];
  readonly rejects: Reject[] = [];

  get count(): number {
    return this.resolves.length;
  }

  get bytes(): number {
    return this.pos - HEADROOM;
  }

  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  varint(v: number): void {
    this.pos = writeVarint(this.buf, this.pos, v);
  }

  bytesField(tag: number, v: Uint8Array): void {
    this.buf[this.pos++] = tag;
    this.varint(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** Appends PublishRequest.msgs (field 3) = m. */
  add(m: OutgoingMessage): void {
    const ts = m.timestamp ?? 0;
    let hasHeaders = false;
    if (m.headers) for (const _ in m.headers) hasHeaders = true;
    if (hasHeaders || !Number.isSafeInteger(ts) || ts < 0) {
      // Rare shapes (headers, odd timestamps): the generated encoder.
      const enc = Message.encode({
        id: m.id ?? '',
        key: m.key ?? '',
        payload: Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.length),
        headers: m.headers ?? {},
        timestamp: ts,
      }).finish();
      this.ensure(enc.length + 11);
      this.bytesField(26, enc);
      return;
    }
    const id = m.id ? Buffer.from(m.id, 'utf8') : undefined;
    const key = m.key ? Buffer.from(m.key, 'utf8') : undefined;
    const pl = m.payload.length;
    const len =
      (id ? 1 + varintSize(id.length) + id.length : 0) +
      (key ? 1 + varintSize(key.length) + key.length : 0) +
      (pl > 0 ? 1 + varintSize(pl) + pl : 0) +
      (ts > 0 ? 1 + varintSize(ts) : 0);
    this.ensure(len + 11);
    this.buf[this.pos++] = 26; // PublishRequest.msgs = 3, LEN
    this.varint(len);
    if (id) this.bytesField(10, id); // Message.id = 1
    if (key) this.bytesField(18, key); // Message.key = 2
    if (pl > 0) this.bytesField(26, m.payload); // Message.payload = 3
    if (ts > 0) {
      this.buf[this.pos++] = 40; // Message.timestamp = 5, VARINT
      this.varint(ts);
    }
  }

  /** The finished PublishRequest: seq (field 2) written into the headroom in front. */
  seal(seq: number): Buffer {
    const hlen = 1 + varintSize(seq);
    const start = HEADROOM - hlen;
    const end = this.pos;
    this.pos = start;
    this.buf[this.pos++] = 16; // PublishRequest.seq = 2, VARINT
    this.varint(seq);
    return this.buf.subarray(start, end);
  }
}

// A module-level executor: no closure allocated per publish.
let nextResolve: Resolve | undefined;
let nextReject: Reject | undefined;
function capture(resolve: Resolve, reject: Reject): void {
  nextResolve = resolve;
  nextReject = reject;
}

export class PublishChannel {
  private readonly conn: MqConnection;
  private readonly queue: string;
  private readonly password: string;
  private readonly logger: Logger | undefined;
  private filling: FrameBuilder | undefined;
  private readonly frames = new Map<number, Frame>();
  private seq = 0;
  private nextSend = 1;
  private inflight = 0;
  private inflightBytes = 0;
  private call: grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
  private client: grpc.Client | undefined;
  private attempt = 0;
  private reconnecting = false;
  private closed = false;
  private readonly sealNow = (): void => this.seal();

  constructor(conn: MqConnection, queue: string, password: string, logger?: Logger) {
    this.conn = conn;
    this.queue = queue;
    this.password = password;
    this.logger = logger;
  }

  publish(msg: OutgoingMessage): Promise<PublishResult> {
    if (this.closed) return Promise.reject(new PlatformError('CANCELLED', 'the client is closed'));
    const size = msg.payload.length + (msg.key?.length ?? 0) + (msg.id?.length ?? 0) + 16;
    let f = this.filling;
    if (f && (f.count >= FRAME_MAX_MESSAGES || f.bytes + size > FRAME_MAX_BYTES)) {
      this.seal();
      f = undefined;
    }
    if (!f) {
      f = this.filling = new FrameBuilder();
      // Everything published in this event-loop turn travels in one frame.
      setImmediate(this.sealNow);
    }
    f.add(msg);
    const p = new Promise<PublishResult>(capture);
    f.resolves.push(nextResolve!);
    f.rejects.push(nextReject!);
    return p;
  }

  /** Rejects everything pending and ends the stream. */
  close(): void {
    this.closed = true;
    this.failAll(new PlatformError('CANCELLED', 'the client is closed'));
    this.call?.end();
    this.call = undefined;
  }

  private seal(): void {
    const b = this.filling;
    if (!b) return;
    this.filling = undefined;
    const seq = ++this.seq;
    this.frames.set(seq, { seq, bytes: b.seal(seq), resolves: b.resolves, rejects: b.rejects, sent: false });
    this.pump();
  }

  private open(): grpc.ClientDuplexStream<Buffer, Buffer> {
    const client = this.conn.client();
    this.client = client;
    const def = mqStreamDefinition.Publish;
    const call = client.makeBidiStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      new grpc.Metadata(),
    );
    call.write(this.encode({ open: { queue: this.queue, password: this.password }, seq: 0, msgs: [] }));
    call.on('data', (buf: Buffer) => this.onReply(buf));
    call.on('error', (err) => this.onBroken(call, fromGrpcError(err)));
    call.on('end', () => this.onBroken(call, new PlatformError('UNAVAILABLE', 'the broker ended the publish stream')));
    // A new stream: every unanswered frame is sent again, in order.
    for (const f of this.frames.values()) f.sent = false;
    this.inflight = 0;
    this.inflightBytes = 0;
    this.nextSend = this.frames.keys().next().value ?? this.seq + 1;
    return call;
  }

  private pump(): void {
    if (this.reconnecting || this.closed) return;
    this.call ??= this.open();
    // Frames go out in seq order; those below nextSend are sent (or answered already).
    while (this.nextSend <= this.seq) {
      const f = this.frames.get(this.nextSend);
      if (f) {
        if (this.inflight >= WINDOW || (this.inflight > 0 && this.inflightBytes + f.bytes.length > WINDOW_BYTES)) break;
        this.call.write(f.bytes);
        f.sent = true;
        this.inflight++;
        this.inflightBytes += f.bytes.length;
      }
      this.nextSend++;
    }
  }

  private encode(r: PublishRequest): Buffer {
    return Buffer.from(PublishRequest.encode(r).finish());
  }

  private onReply(buf: Buffer): void {
    const r = PublishReply.decode(buf);
    const f = this.frames.get(r.seq);
    if (!f) return;
    this.frames.delete(r.seq);
    if (f.sent) {
      this.inflight--;
      this.inflightBytes -= f.bytes.length;
    }
    this.attempt = 0;
    if (r.errors.length === 0) {
      for (let i = 0; i < f.resolves.length; i++) f.resolves[i]!(r.results[i]!);
    } else {
      const errs = new Map(r.errors.map((e) => [e.index, e]));
      for (let i = 0; i < f.resolves.length; i++) {
        const e = errs.get(i);
        if (e) f.rejects[i]!(new PlatformError((e.code || 'INTERNAL') as PlatformError['code'], e.detail));
        else f.resolves[i]!(r.results[i]!);
      }
    }
    this.pump();
  }

  private onBroken(call: grpc.ClientDuplexStream<Buffer, Buffer>, err: PlatformError): void {
    if (call !== this.call) return;
    this.call = undefined;
    if (this.closed) return;
    if (!isRetryable(err)) {
      this.failAll(err);
      return;
    }
    this.conn.failed(this.client, err);
    if (this.frames.size === 0) return; // reopened lazily by the next publish
    this.reconnecting = true;
    const delay = this.conn.backoff(this.attempt++);
    this.logger?.debug('Publish stream broke; reconnecting', { queue: this.queue, err, delay });
    setTimeout(() => {
      this.reconnecting = false;
      this.pump();
    }, delay).unref();
  }

  private failAll(err: PlatformError): void {
    const rejects = [...this.frames.values()].map((f) => f.rejects);
    this.frames.clear();
    this.inflight = 0;
    this.inflightBytes = 0;
    this.nextSend = this.seq + 1;
    if (this.filling) rejects.push(this.filling.rejects);
    this.filling = undefined;
    for (const list of rejects) for (const reject of list) reject(err);
  }
}
