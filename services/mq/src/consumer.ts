// One subscriber (one Subscribe stream): its credit window, what it has in
// flight, and the outgoing frame it is filling. Deliveries are appended to a
// frame encoded by hand from each message's stored bytes (no re-encoding of the
// message), and flushed after the queue's delivery pass or when the frame is full, so
// many deliveries travel in one gRPC message.
import { SubscribeEvent, type Assignment, type Subscribed } from '../../../proto/gen/ts/mq.js';
import type { PlatformError } from '../../runtime/src/errors.js';
import type { Holder } from './cursor.js';
import { varintSize, WireWriter } from './wire-writer.js';

/** Where a consumer's frames go (the gRPC stream; a fake in unit tests). */
export interface EventSink {
  /** Returns false when the transport wants the writer to wait for `drain`. */
  write(frame: Uint8Array): boolean;
  onDrain(cb: () => void): void;
  /** Ends the stream: OK when err is undefined. */
  end(err?: PlatformError): void;
}

const FRAME_MAX_DELIVERIES = 512;
const FRAME_MAX_BYTES = 512 * 1024;
// SubscribeEvent.deliveries = 2 (LEN); Delivery: partition=1, seq=2, delivery_count=3 (VARINT), msg=4 (LEN).
const TAG_DELIVERY = (2 << 3) | 2;
const TAG_DROPPED = (4 << 3) | 0;

export class Consumer implements Holder {
  readonly id: string;
  readonly queue: string;
  readonly group: string;
  readonly metadata: Record<string, string>;
  readonly connectedAt = Date.now();
  credit: number;
  inFlight = 0;
  closed = false;
  /** Highest seq ever delivered per partition: acks above it are for unknown deliveries. */
  readonly maxDelivered: number[];
  private out: WireWriter | undefined;
  private outCount = 0;
  private outBytes = 0;
  private dropped = 0;
  private blocked = false;
  private flushScheduled = false;
  private readonly sink: EventSink;
  /**
   * Deliveries are made by the queue's pump, one synchronous pass: flushing right
   * after it (a microtask) sends all of them in one frame without waiting a whole
   * event-loop turn, which would add its I/O to every delivery's latency.
   */
  private readonly flushLater = (): void => {
    this.flushScheduled = false;
    this.flush();
  };
  /** Called when the consumer can take more (drain): the queue pumps again. */
  onWritable: () => void = () => undefined;

  constructor(opts: {
    id: string;
    queue: string;
    group: string;
    credit: number;
    partitions: number;
    metadata: Record<string, string>;
    sink: EventSink;
  }) {
    this.id = opts.id;
    this.queue = opts.queue;
    this.group = opts.group;
    this.credit = opts.credit;
    this.metadata = opts.metadata;
    this.maxDelivered = new Array<number>(opts.partitions).fill(0);
    this.sink = opts.sink;
  }

  /** How many more deliveries it may take now. */
  spare(): number {
    if (this.closed || this.blocked) return 0;
    return this.credit - this.inFlight;
  }

  deliver(partition: number, seq: number, count: number, bytes: Uint8Array): void {
    if (!this.out) {
      this.out = new WireWriter();
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(this.flushLater);
      }
    }
    // Delivery written without fork/join (this runs once per delivery): its length is known up front.
    const len =
      (partition !== 0 ? 1 + varintSize(partition) : 0) +
      1 +
      varintSize(seq) +
      1 +
      varintSize(count) +
      1 +
      varintSize(bytes.length) +
      bytes.length;
    const w = this.out
      .ensure(len + 11)
      .varint(TAG_DELIVERY)
      .varint(len);
    if (partition !== 0) w.varint(8).varint(partition);
    w.varint(16).varint(seq).varint(24).varint(count).varint(34).bytes(bytes);
    if (seq > this.maxDelivered[partition]!) this.maxDelivered[partition] = seq;
    this.outCount++;
    this.outBytes += bytes.length + 16;
    if (this.outCount >= FRAME_MAX_DELIVERIES || this.outBytes >= FRAME_MAX_BYTES) this.flush();
  }

  /** Messages skipped for this slow subscriber; reported in the next frame. */
  addDropped(n: number): void {
    this.dropped += n;
    if (!this.out) this.out = new WireWriter();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushLater);
    }
  }

  flush(): void {
    if (!this.out || this.closed) return;
    if (this.dropped > 0) this.out.ensure(11).varint(TAG_DROPPED).varint(this.dropped);
    const frame = this.out.finish();
    this.out = undefined;
    this.outCount = 0;
    this.outBytes = 0;
    this.dropped = 0;
    this.write(frame);
  }

  sendSubscribed(s: Subscribed): void {
    this.flush();
    this.write(SubscribeEvent.encode({ subscribed: s, deliveries: [], assignment: undefined, dropped: 0 }).finish());
  }

  /** Assignment notices go after every delivery already queued, so a revoke is never overtaken. */
  sendAssignment(a: Assignment): void {
    this.flush();
    this.write(SubscribeEvent.encode({ subscribed: undefined, deliveries: [], assignment: a, dropped: 0 }).finish());
  }

  close(err?: PlatformError): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.sink.end(err);
  }

  private write(frame: Uint8Array): void {
    if (this.closed) return;
    if (!this.sink.write(frame) && !this.blocked) {
      this.blocked = true;
      this.sink.onDrain(() => {
        this.blocked = false;
        this.onWritable();
      });
    }
  }
}
