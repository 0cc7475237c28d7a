// Publishing through the mq.MqStream/Publish stream, one stream per queue:
// concurrent publish() calls are gathered into frames (many messages per gRPC
// message), up to WINDOW frames are in flight, and each frame's reply settles
// its messages. When the stream breaks for a retryable reason the client
// reconnects and sends every unanswered frame again, in order (messages with an
// id are then stored once; others may be stored twice: at-least-once).
import * as grpc from '@grpc/grpc-js';
import { PublishReply, PublishRequest, type Message, type PublishResult } from '../../../../proto/gen/ts/mq.js';
import { fromGrpcError, PlatformError } from '../../../runtime/src/errors.js';
import type { Logger } from '../../../runtime/src/logger.js';
import { mqStreamDefinition } from '../stream-definition.js';
import { isRetryable, type MqConnection } from './connection.js';

const FRAME_MAX_MESSAGES = 1000;
const FRAME_MAX_BYTES = 512 * 1024;
const WINDOW = 32;

interface Waiter {
  resolve: (r: PublishResult) => void;
  reject: (e: PlatformError) => void;
}

interface Frame {
  seq: number;
  msgs: Message[];
  waiters: Waiter[];
  sent: boolean;
}

export class PublishChannel {
  private readonly conn: MqConnection;
  private readonly queue: string;
  private readonly password: string;
  private readonly logger: Logger | undefined;
  private filling: Frame | undefined;
  private fillingBytes = 0;
  private readonly frames = new Map<number, Frame>();
  private seq = 0;
  private call: grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
  private client: grpc.Client | undefined;
  private attempt = 0;
  private reconnecting = false;
  private closed = false;

  constructor(conn: MqConnection, queue: string, password: string, logger?: Logger) {
    this.conn = conn;
    this.queue = queue;
    this.password = password;
    this.logger = logger;
  }

  publish(msg: Message): Promise<PublishResult> {
    if (this.closed) return Promise.reject(new PlatformError('CANCELLED', 'the client is closed'));
    return new Promise((resolve, reject) => {
      const size = msg.payload.length + msg.key.length + msg.id.length + 16;
      if (
        this.filling &&
        (this.filling.msgs.length >= FRAME_MAX_MESSAGES || this.fillingBytes + size > FRAME_MAX_BYTES)
      ) {
        this.seal();
      }
      if (!this.filling) {
        this.filling = { seq: 0, msgs: [], waiters: [], sent: false };
        this.fillingBytes = 0;
        setImmediate(() => this.seal());
      }
      this.filling.msgs.push(msg);
      this.filling.waiters.push({ resolve, reject });
      this.fillingBytes += size;
    });
  }

  /** Rejects everything pending and ends the stream. */
  close(): void {
    this.closed = true;
    this.failAll(new PlatformError('CANCELLED', 'the client is closed'));
    this.call?.end();
    this.call = undefined;
  }

  private seal(): void {
    const f = this.filling;
    if (!f) return;
    this.filling = undefined;
    f.seq = ++this.seq;
    this.frames.set(f.seq, f);
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
    for (const f of this.frames.values()) f.sent = false;
    return call;
  }

  private pump(): void {
    if (this.reconnecting || this.closed) return;
    this.call ??= this.open();
    let inflight = 0;
    for (const f of this.frames.values()) {
      if (f.sent) {
        inflight++;
        continue;
      }
      if (inflight >= WINDOW) break;
      this.call.write(this.encode({ open: undefined, seq: f.seq, msgs: f.msgs }));
      f.sent = true;
      inflight++;
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
    this.attempt = 0;
    const errs = new Map(r.errors.map((e) => [e.index, e]));
    f.waiters.forEach((w, i) => {
      const e = errs.get(i);
      if (e) w.reject(new PlatformError((e.code || 'INTERNAL') as PlatformError['code'], e.detail));
      else w.resolve(r.results[i]!);
    });
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
    const frames = [...this.frames.values()];
    this.frames.clear();
    if (this.filling) frames.push(this.filling);
    this.filling = undefined;
    for (const f of frames) for (const w of f.waiters) w.reject(err);
  }
}
