// A subscription through mq.MqStream/Subscribe: opens with queue, password,
// group and credit; runs the handler for each delivery (in arrival order, up to
// `concurrency` at once); acks (automatically when the handler returns, unless
// autoAck is off) travel back as ranges, batched per event-loop turn. Group
// assignment notices are barriers in the same order: running handlers finish,
// onRevoked runs, the revocation is confirmed, then onAssigned runs, and only
// then the deliveries that follow. On a broken stream it reconnects with backoff
// (deliveries not yet acked are redelivered by the broker, so handlers may see a
// message twice: at-least-once).
import * as grpc from '@grpc/grpc-js';
import { SubscribeRequest, type Range } from '../../../../proto/gen/ts/mq.js';
import { fromGrpcError, PlatformError } from '../../../runtime/src/errors.js';
import type { Logger } from '../../../runtime/src/logger.js';
import { mqStreamDefinition } from '../stream-definition.js';
import { isRetryable, type MqConnection } from './connection.js';
import { decodeEvent, type WireDelivery } from './event-decoder.js';

export interface Delivery {
  queue: string;
  partition: number;
  seq: number;
  /** 1 on the first delivery. */
  deliveryCount: number;
  redelivered: boolean;
  id: string;
  key: string;
  payload: Buffer;
  headers: Record<string, string>;
  timestamp: number;
  ack(): void;
  /** Back to the queue for redelivery. */
  nack(): void;
  /** Nack without requeue: to the dead-letter queue. */
  reject(): void;
}

export interface SubscribeOptions {
  queue: string;
  password: string;
  /** Partitioned queues: the consumer group. Topics: a named (durable) subscription; empty = ephemeral. */
  group?: string;
  /** Max unacked deliveries (default 1000, broker maximum 10000). */
  credit?: number;
  /** Group members: what others see in describeGroup (e.g. { address: 'host:port' }). */
  metadata?: Record<string, string>;
  /** Ack when the handler returns, nack when it throws (default true). */
  autoAck?: boolean;
  /** Handlers running at once (default 1: strict arrival order). */
  concurrency?: number;
  onAssigned?: (partitions: number[], owned: number[]) => void | Promise<void>;
  onRevoked?: (partitions: number[], owned: number[]) => void | Promise<void>;
  /** A non-retryable failure (wrong password, no such queue, …): the subscription has stopped. */
  onError?: (err: PlatformError) => void;
  /** Connected (with the broker's consumer id) or lost (reconnecting). */
  onState?: (state: 'subscribed' | 'reconnecting', info: { consumerId?: string; err?: PlatformError }) => void;
  logger?: Logger;
}

export type Handler = (d: Delivery) => void | Promise<void>;

/** A class rather than closures: one object per delivery on the hot path. */
class ReceivedDelivery implements Delivery {
  readonly partition: number;
  readonly seq: number;
  readonly deliveryCount: number;
  readonly id: string;
  readonly key: string;
  readonly payload: Buffer;
  readonly headers: Record<string, string>;
  readonly timestamp: number;
  private settled = false;

  constructor(
    private readonly sub: Subscription,
    readonly gen: number,
    readonly queue: string,
    w: WireDelivery,
  ) {
    const m = w.msg;
    this.partition = w.partition;
    this.seq = w.seq;
    this.deliveryCount = w.deliveryCount;
    this.id = m.id;
    this.key = m.key;
    this.payload = m.payload;
    this.headers = m.headers;
    this.timestamp = m.timestamp;
  }

  get redelivered(): boolean {
    return this.deliveryCount > 1;
  }

  ack(): void {
    this.once('ack');
  }

  nack(): void {
    this.once('nack');
  }

  reject(): void {
    this.once('reject');
  }

  private once(how: 'ack' | 'nack' | 'reject'): void {
    if (this.settled) return;
    this.settled = true;
    this.sub.settle(this, how);
  }
}

/** A group assignment notice, queued between deliveries as a barrier. */
class Notice {
  constructor(
    readonly gen: number,
    readonly assigned: number[],
    readonly revoked: number[],
    readonly owned: number[],
  ) {}
}

/** Deliveries are queued as they are (no wrapper object per message). */
type Item = ReceivedDelivery | Notice;

export class Subscription {
  private readonly conn: MqConnection;
  private readonly opts: SubscribeOptions;
  private readonly handler: Handler;
  private call: grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
  private client: grpc.Client | undefined;
  private gen = 0;
  private attempt = 0;
  private closed = false;
  private readonly items: Item[] = [];
  private itemHead = 0;
  private running = 0;
  private barrier = false;
  private ownedSet = new Set<number>();
  private acks = new Map<number, Range[]>();
  private nacks: Range[] = [];
  private rejects: Range[] = [];
  private flushScheduled = false;
  private inRun = false;
  /** The broker's id for this subscriber (its member id in a group). */
  consumerId = '';

  constructor(conn: MqConnection, opts: SubscribeOptions, handler: Handler) {
    this.conn = conn;
    this.opts = opts;
    this.handler = handler;
    this.connect();
  }

  /** Partitions this member owns now (groups). */
  owned(): number[] {
    return [...this.ownedSet].sort((a, b) => a - b);
  }

  /** Ends the subscription; unacked deliveries go back to the queue. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    // Deliveries received but not yet handled are dropped (the broker redelivers them elsewhere).
    this.gen++;
    // The member gives its partitions up now: the broker reassigns them once the stream ends.
    const lost = this.owned();
    this.ownedSet.clear();
    if (lost.length > 0) void this.callback(() => this.opts.onRevoked?.(lost, []));
    const call = this.call;
    this.call = undefined;
    // Half-close so the last acks reach the broker; cancel if it does not end the stream soon.
    call?.end();
    if (call) setTimeout(() => call.cancel(), 2000).unref();
  }

  /** Sets a new credit window (0 pauses deliveries). */
  setCredit(credit: number): void {
    this.write({ open: undefined, flow: { credit }, acks: [], nacks: [], rejects: [], revoked: [] });
  }

  private connect(): void {
    if (this.closed || this.conn.isClosed) return;
    const gen = ++this.gen;
    const client = this.conn.client();
    this.client = client;
    const def = mqStreamDefinition.Subscribe;
    const call = client.makeBidiStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      new grpc.Metadata(),
    );
    this.call = call;
    this.acks.clear();
    this.nacks = [];
    this.rejects = [];
    call.write(
      Buffer.from(
        SubscribeRequest.encode({
          open: {
            queue: this.opts.queue,
            password: this.opts.password,
            group: this.opts.group ?? '',
            credit: this.opts.credit ?? 1000,
            metadata: this.opts.metadata ?? {},
          },
          flow: undefined,
          acks: [],
          nacks: [],
          rejects: [],
          revoked: [],
        }).finish(),
      ),
    );
    call.on('data', (buf: Buffer) => this.onEvent(gen, buf));
    call.on('error', (err) => this.onBroken(call, gen, fromGrpcError(err)));
    call.on('end', () =>
      this.onBroken(call, gen, new PlatformError('UNAVAILABLE', 'the broker ended the subscription')),
    );
  }

  private onEvent(gen: number, buf: Buffer): void {
    if (gen !== this.gen) return;
    let ev;
    try {
      ev = decodeEvent(buf);
    } catch (err) {
      this.opts.logger?.error('Undecodable frame from the broker; reconnecting', { queue: this.opts.queue, err });
      this.call?.cancel();
      return;
    }
    if (ev.subscribed) {
      this.consumerId = ev.subscribed.consumer_id;
      this.attempt = 0;
      this.opts.onState?.('subscribed', { consumerId: this.consumerId });
    }
    const queue = this.opts.queue;
    for (const w of ev.deliveries) this.items.push(new ReceivedDelivery(this, gen, queue, w));
    if (ev.assignment) {
      const a = ev.assignment;
      this.items.push(new Notice(gen, a.assigned, a.revoked, a.owned));
    }
    this.run();
  }

  /** A delivery's ack/nack/reject (once; ignored after a reconnect: the broker redelivers it). */
  settle(d: ReceivedDelivery, how: 'ack' | 'nack' | 'reject'): void {
    if (d.gen !== this.gen) return;
    if (how === 'ack') this.addAck(d.partition, d.seq);
    else (how === 'nack' ? this.nacks : this.rejects).push({ partition: d.partition, first: d.seq, last: d.seq });
    this.scheduleFlush();
  }

  private addAck(p: number, seq: number): void {
    let list = this.acks.get(p);
    if (!list) this.acks.set(p, (list = []));
    const last = list[list.length - 1];
    if (last && seq === last.last + 1) last.last = seq;
    else list.push({ partition: p, first: seq, last: seq });
  }

  private run(): void {
    // A handler that finishes synchronously lets this loop go on (no recursion per delivery).
    if (this.inRun) return;
    this.inRun = true;
    try {
      this.runItems();
    } finally {
      this.inRun = false;
    }
  }

  private runItems(): void {
    const concurrency = this.opts.concurrency ?? 1;
    while (!this.barrier && this.itemHead < this.items.length && this.running < concurrency) {
      const it = this.items[this.itemHead]!;
      if (it.gen !== this.gen) {
        this.itemHead++;
        continue;
      }
      if (it instanceof Notice) {
        if (this.running > 0) break; // wait for running handlers: a notice is a barrier
        this.itemHead++;
        this.barrier = true;
        void this.applyAssignment(it).finally(() => {
          this.barrier = false;
          this.run();
        });
        break;
      }
      this.itemHead++;
      this.running++;
      this.invoke(it);
    }
    if (this.itemHead > 1024 && this.itemHead * 2 > this.items.length) {
      this.items.splice(0, this.itemHead);
      this.itemHead = 0;
    }
  }

  private invoke(d: Delivery): void {
    let r: void | Promise<void>;
    try {
      r = this.handler(d);
    } catch (err) {
      this.opts.logger?.warn('Message handler failed', { queue: this.opts.queue, err });
      this.handled(d, false);
      return;
    }
    if (r && typeof (r as Promise<void>).then === 'function') {
      (r as Promise<void>).then(
        () => this.handled(d, true),
        (err: unknown) => {
          this.opts.logger?.warn('Message handler failed', { queue: this.opts.queue, err });
          this.handled(d, false);
        },
      );
    } else this.handled(d, true);
  }

  /** A handler finished: auto-ack/nack, then the next item (no closure per delivery on the sync path). */
  private handled(d: Delivery, ok: boolean): void {
    if (this.opts.autoAck !== false) {
      if (ok) d.ack();
      else d.nack();
    }
    this.running--;
    this.run();
  }

  private async applyAssignment(a: Notice): Promise<void> {
    if (a.revoked.length > 0) {
      for (const p of a.revoked) this.ownedSet.delete(p);
      await this.callback(() => this.opts.onRevoked?.(a.revoked, this.owned()));
      if (a.gen === this.gen) {
        // Acks first, then the confirmation: the broker hands the partitions over once it has both.
        this.flush();
        this.write({ open: undefined, flow: undefined, acks: [], nacks: [], rejects: [], revoked: a.revoked });
      }
    }
    if (a.assigned.length > 0 && a.gen === this.gen) {
      for (const p of a.assigned) this.ownedSet.add(p);
      await this.callback(() => this.opts.onAssigned?.(a.assigned, this.owned()));
    }
  }

  private async callback(fn: () => void | Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.opts.logger?.warn('Assignment callback failed', { queue: this.opts.queue, err });
    }
  }

  private scheduleFlush(): void {
    let pending = this.nacks.length + this.rejects.length;
    for (const l of this.acks.values()) pending += l.length;
    if (pending >= 256) return this.flush();
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.acks.size === 0 && this.nacks.length === 0 && this.rejects.length === 0) return;
    const acks = [...this.acks.values()].flat();
    this.acks.clear();
    const req: SubscribeRequest = {
      open: undefined,
      flow: undefined,
      acks,
      nacks: this.nacks,
      rejects: this.rejects,
      revoked: [],
    };
    this.nacks = [];
    this.rejects = [];
    this.write(req);
  }

  private write(req: SubscribeRequest): void {
    this.call?.write(Buffer.from(SubscribeRequest.encode(req).finish()));
  }

  private onBroken(call: grpc.ClientDuplexStream<Buffer, Buffer>, gen: number, err: PlatformError): void {
    if (gen !== this.gen || call !== this.call) return;
    this.call = undefined;
    this.gen++; // everything from the old stream is void: its acks would be refused
    const lost = this.owned();
    this.ownedSet.clear();
    if (lost.length > 0) void this.callback(() => this.opts.onRevoked?.(lost, []));
    if (this.closed) return;
    if (!isRetryable(err)) {
      this.closed = true;
      this.opts.logger?.warn('Subscription stopped', { queue: this.opts.queue, err });
      this.opts.onError?.(err);
      return;
    }
    this.conn.failed(this.client, err);
    this.opts.onState?.('reconnecting', { err });
    const delay = this.conn.backoff(this.attempt++);
    setTimeout(() => this.connect(), delay).unref();
  }
}
