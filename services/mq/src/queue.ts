// One queue, topic or partitioned queue: its partition logs, its subscriptions
// (the queue's shared cursor, a topic's named and ephemeral subscriptions, a
// partitioned queue's consumer groups), dispatch with credit, acks, redelivery
// with delivery counts, dead-lettering, slow-subscriber bounds and counters.
// No I/O of its own: durable writes go through `DurableWriter`, frames through
// each Consumer's sink.
import { Message, type PublishResult } from '../../../proto/gen/ts/mq.js';
import { PlatformError } from '../../runtime/src/errors.js';
import type { Consumer } from './consumer.js';
import { Cursor, type CursorState, type Holder } from './cursor.js';
import { PartitionGroup, type GroupHost } from './group.js';
import { PartitionLog, type Entry } from './message-log.js';
import { partitionOf } from './partitioner.js';
import type { QueueDeclaration } from './queue-spec.js';
import { expand } from './ranges.js';

export interface RawMessage {
  /** The encoded mq.Message (timestamp already set). */
  bytes: Uint8Array;
  id: string;
  key: string;
}

export type PublishOutcome = { ok: PublishResult } | { err: PlatformError };

/** Durable storage as the queue sees it (store/log-store.ts). */
export interface DurableWriter {
  /** Resolves once the entries are in MongoDB. */
  write(queue: Queue, partition: number, entries: Entry[]): Promise<void>;
  /** An entry stored in collection `col` is no longer needed. */
  release(col: number): void;
}

export interface QueueHooks {
  /** Publish a dead-lettered copy to the queue's DLQ; false when there is none. */
  deadLetter(from: Queue, msg: RawMessage): boolean;
  writer: DurableWriter | undefined;
  dedupeWindowMs: number;
}

export interface Checkpoint {
  /** Acks counted when it was taken (observability: what a restart will remember). */
  acked: number;
  next: number[];
  idle: boolean;
  cur: { g: string; parts: CursorState[] }[];
}

export interface Counters {
  published: number;
  delivered: number;
  acked: number;
  redelivered: number;
  deadLettered: number;
  dropped: number;
  duplicates: number;
}

const BATCH = 256;
const MAX_DEDUPE_IDS = 1_000_000;

/** Competing consumers on one cursor: a queue, or a named topic subscription. */
class SharedSub {
  readonly consumers: Consumer[] = [];
  rr = 0;
  constructor(
    readonly name: string,
    readonly cursor: Cursor,
  ) {}
}

/** One ephemeral topic subscriber with its own non-retaining cursor (at most once). */
class EphemeralSub {
  constructor(
    readonly consumer: Consumer,
    readonly cursor: Cursor,
  ) {}
}

interface DedupeEntry {
  partition: number;
  seq: number;
  at: number;
  written: Promise<void> | undefined;
}

export class Queue implements GroupHost {
  spec: QueueDeclaration;
  readonly uid: string;
  readonly logs: PartitionLog[];
  readonly shared = new Map<string, SharedSub>();
  readonly groups = new Map<string, PartitionGroup>();
  readonly ephemeral = new Set<EphemeralSub>();
  private readonly subOf = new Map<Consumer, SharedSub | EphemeralSub | PartitionGroup>();
  /** Partitioned queues without groups keep messages for the first group to come. */
  idleHold: boolean;
  readonly counters: Counters = {
    published: 0,
    delivered: 0,
    acked: 0,
    redelivered: 0,
    deadLettered: 0,
    dropped: 0,
    duplicates: 0,
  };
  private readonly dedupe = new Map<string, DedupeEntry>();
  private readonly hooks: QueueHooks;
  private tag = 0;
  private pumpScheduled = false;
  deleted = false;
  dirty = false;

  constructor(spec: QueueDeclaration, uid: string, hooks: QueueHooks) {
    this.spec = spec;
    this.uid = uid;
    this.hooks = hooks;
    this.logs = Array.from({ length: spec.partitions }, (_, p) => new PartitionLog(p));
    this.idleHold = spec.kind === 'partitioned';
    if (spec.kind === 'queue') this.shared.set('', new SharedSub('', new Cursor(this.logs[0]!, true, 1)));
  }

  get durable(): boolean {
    return this.spec.durable && this.hooks.writer !== undefined;
  }

  // ------------------------------------------------------------------ publish

  /** Appends valid messages in order; resolves per message once it is safe (durable: written). */
  async publish(msgs: RawMessage[], now = Date.now()): Promise<PublishOutcome[]> {
    const out: (PublishOutcome | Promise<PublishOutcome>)[] = [];
    const byPartition = new Map<number, Entry[]>();
    let retained = this.retained();
    for (const m of msgs) {
      if (m.bytes.length > this.spec.max_message_bytes) {
        out.push({
          err: new PlatformError(
            'RESOURCE_EXHAUSTED',
            `message of ${m.bytes.length} bytes exceeds the maximum of ${this.spec.max_message_bytes} bytes of queue '${this.spec.name}'`,
          ),
        });
        continue;
      }
      if (m.id) {
        const d = this.dedupe.get(m.id);
        if (d && now - d.at <= this.hooks.dedupeWindowMs) {
          this.counters.duplicates++;
          const r: PublishOutcome = { ok: { id: m.id, partition: d.partition, offset: d.seq, duplicate: true } };
          out.push(d.written ? d.written.then(() => r) : r);
          continue;
        }
      }
      if (this.spec.kind !== 'topic' && retained >= this.spec.max_depth) {
        out.push({
          err: new PlatformError(
            'RESOURCE_EXHAUSTED',
            `queue '${this.spec.name}' is full: ${retained} messages (max_depth ${this.spec.max_depth})`,
          ),
        });
        continue;
      }
      const p = this.spec.kind === 'partitioned' ? partitionOf(m.key, this.spec.partitions) : 0;
      const log = this.logs[p]!;
      const e = log.append(m.bytes, m.id, this.needFor(), this.spec.kind === 'topic' ? this.ephemeral.size : 0);
      retained++;
      this.counters.published++;
      if (e.need === 0 && e.eph === 0 && !this.durable) log.release(e.seq);
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push(e);
      const ok: PublishOutcome = { ok: { id: m.id, partition: p, offset: e.seq, duplicate: false } };
      if (m.id) {
        this.dedupe.set(m.id, { partition: p, seq: e.seq, at: now, written: undefined });
        if (this.dedupe.size > MAX_DEDUPE_IDS) this.dedupe.delete(this.dedupe.keys().next().value!);
      }
      out.push(ok);
    }
    if (this.spec.kind === 'topic') this.boundTopic();
    // Deliverable at once, durable or not: a durable publish is acknowledged only
    // once written, but its consumers need not wait for the store (FerretDB's
    // write latency would be every delivery's latency). A message acked before its
    // group commit is simply not stored; one delivered and then lost in a crash
    // before the write was never acknowledged to its publisher, who sends it
    // again (at-least-once, as RabbitMQ does with confirms).
    for (const p of byPartition.keys()) this.logs[p]!.ready = this.logs[p]!.next;
    this.schedule();
    if (this.durable) {
      const writes: Promise<void>[] = [];
      for (const [p, entries] of byPartition) {
        const log = this.logs[p]!;
        const w = this.hooks.writer!.write(this, p, entries).then(() => {
          for (const e of entries) if (e.need === 0 && e.eph === 0) log.release(e.seq);
        });
        writes.push(w);
        for (const e of entries) {
          const d = e.id ? this.dedupe.get(e.id) : undefined;
          if (d && d.seq === e.seq && d.partition === p) {
            d.written = w;
            void w.then(() => {
              if (d.written === w) d.written = undefined;
            });
          }
        }
      }
      await Promise.all(writes);
    }
    return Promise.all(out);
  }

  sweepDedupe(now: number): void {
    for (const [id, d] of this.dedupe) {
      if (now - d.at <= this.hooks.dedupeWindowMs) break;
      this.dedupe.delete(id);
    }
  }

  /** Messages kept (in memory; durable ones also stored). */
  retained(): number {
    let n = 0;
    for (const l of this.logs) n += l.count;
    return n;
  }

  private needFor(): number {
    if (this.spec.kind === 'queue') return 1;
    if (this.spec.kind === 'topic') return this.shared.size;
    return this.groups.size > 0 ? this.groups.size : 1;
  }

  /** Topics never refuse a publish: lagging subscribers lose their oldest messages instead (counted). */
  private boundTopic(): void {
    const log = this.logs[0]!;
    for (const s of this.shared.values()) {
      const c = s.cursor;
      let over = log.next - c.nextNew + c.retry.size - this.spec.max_depth;
      while (over > 0 && c.retry.size > 0) {
        const seq = c.retry.pop()!;
        if (!c.counts.has(seq)) continue;
        this.finish(c, seq);
        this.counters.dropped++;
        over--;
      }
      if (over > 0) {
        for (let i = 0; i < over; i++) this.finish(c, c.nextNew + i);
        c.nextNew += over;
        this.counters.dropped += over;
      }
    }
    for (const s of this.ephemeral) {
      const c = s.cursor;
      const lag = log.next - c.nextNew;
      if (lag <= this.spec.subscriber_limit) continue;
      if (this.spec.slow_policy === 'disconnect') {
        this.counters.dropped += lag;
        s.consumer.close(
          new PlatformError(
            'RESOURCE_EXHAUSTED',
            `subscriber too slow: ${lag} messages behind on topic '${this.spec.name}' (subscriber_limit ${this.spec.subscriber_limit})`,
          ),
        );
        this.detach(s.consumer);
        continue;
      }
      const skip = lag - this.spec.subscriber_limit;
      for (let i = 0; i < skip; i++) this.dropEphemeral(c.nextNew + i);
      c.nextNew += skip;
      this.counters.dropped += skip;
      s.consumer.addDropped(skip);
    }
  }

  // ------------------------------------------------------------------ subscribe

  /** Attaches a subscriber; throws PlatformError for a group/kind mismatch. */
  attach(c: Consumer): void {
    const { kind } = this.spec;
    if (kind === 'queue') {
      if (c.group) {
        throw new PlatformError('INVALID_ARGUMENT', `queue '${this.spec.name}' is a plain queue: group must be empty`);
      }
      const s = this.shared.get('')!;
      s.consumers.push(c);
      this.subOf.set(c, s);
    } else if (kind === 'topic') {
      if (c.group) {
        const s = this.sharedSub(c.group);
        s.consumers.push(c);
        this.subOf.set(c, s);
      } else {
        const s = new EphemeralSub(c, new Cursor(this.logs[0]!, false, this.logs[0]!.next));
        this.ephemeral.add(s);
        this.subOf.set(c, s);
      }
    } else {
      if (!c.group) {
        throw new PlatformError(
          'INVALID_ARGUMENT',
          `queue '${this.spec.name}' is partitioned: subscribers must name a consumer group`,
        );
      }
      const g = this.group(c.group);
      this.subOf.set(c, g);
      g.join(c);
    }
    c.onWritable = () => this.schedule();
    this.schedule();
  }

  /** The subscriber went away: its in-flight messages go back (with their delivery counts). */
  detach(c: Consumer): void {
    const s = this.subOf.get(c);
    if (!s) return;
    this.subOf.delete(c);
    if (s instanceof SharedSub) {
      s.consumers.splice(s.consumers.indexOf(c), 1);
      this.releaseHolder(s.cursor, c, 'consumer disconnected');
    } else if (s instanceof EphemeralSub) {
      this.ephemeral.delete(s);
      const log = this.logs[0]!;
      for (let seq = s.cursor.nextNew; seq < log.next; seq++) this.dropEphemeral(seq);
    } else {
      s.leave(c);
    }
    this.schedule();
  }

  private sharedSub(name: string): SharedSub {
    let s = this.shared.get(name);
    if (!s) {
      // A new named subscription starts now: it receives what is published from here on.
      s = new SharedSub(name, new Cursor(this.logs[0]!, true, this.logs[0]!.next));
      s.cursor.dirty = true;
      this.shared.set(name, s);
      this.dirty = true;
    }
    return s;
  }

  group(name: string): PartitionGroup {
    let g = this.groups.get(name);
    if (g) return g;
    const adopt = this.idleHold;
    const cursors = this.logs.map((log) => {
      const c = new Cursor(log, true, log.low);
      c.dirty = true;
      // The first group inherits what was kept for it; later groups start at the oldest kept message.
      if (!adopt) for (const e of log.values()) e.need++;
      return c;
    });
    this.idleHold = false;
    g = new PartitionGroup(name, cursors, this, this.spec.ack_timeout_ms);
    this.groups.set(name, g);
    this.dirty = true;
    return g;
  }

  /** Admin: forgets a group or named subscription (must have no subscribers). */
  removeGroup(name: string): void {
    const g = this.groups.get(name);
    const s = this.spec.kind === 'topic' ? this.shared.get(name) : undefined;
    if (!g && !s) {
      throw new PlatformError('NOT_FOUND', `queue '${this.spec.name}' has no group or subscription '${name}'`);
    }
    const n = g ? g.members.length : s!.consumers.length;
    if (n > 0) {
      throw new PlatformError(
        'FAILED_PRECONDITION',
        `'${name}' on queue '${this.spec.name}' still has ${n} subscriber(s)`,
      );
    }
    if (g) {
      this.groups.delete(name);
      if (this.groups.size === 0)
        this.idleHold = true; // the hold takes over what the last group had not finished
      else for (const c of g.cursors) this.dropCursor(c);
    } else {
      this.shared.delete(name);
      this.dropCursor(s!.cursor);
    }
    this.dirty = true;
  }

  private dropCursor(c: Cursor): void {
    for (const e of [...c.log.values()]) if (!c.isDone(e.seq)) this.unneed(c.log, e);
  }

  // ------------------------------------------------------------------ dispatch

  schedule(): void {
    if (this.pumpScheduled || this.deleted) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  pump(now = Date.now()): void {
    for (const s of this.shared.values()) {
      const c = s.cursor;
      const n = s.consumers.length;
      if (n === 0) continue;
      let idle = 0;
      while (c.hasWork() && idle < n) {
        const con = s.consumers[s.rr++ % n]!;
        const spare = con.spare();
        if (spare <= 0) {
          idle++;
          continue;
        }
        idle = 0;
        if (this.deliverFrom(c, 0, con, Math.min(spare, BATCH), now) === 0) break;
      }
    }
    for (const s of this.ephemeral) {
      while (s.cursor.hasWork()) {
        const spare = s.consumer.spare();
        if (spare <= 0 || this.deliverFrom(s.cursor, 0, s.consumer, Math.min(spare, BATCH), now) === 0) break;
      }
    }
    for (const g of this.groups.values()) {
      for (let p = 0; p < g.partitions; p++) {
        const con = g.deliverable(p);
        const c = g.cursors[p]!;
        while (con && c.hasWork()) {
          const spare = con.spare();
          if (spare <= 0 || this.deliverFrom(c, p, con, Math.min(spare, BATCH), now) === 0) break;
        }
      }
    }
  }

  private deliverFrom(c: Cursor, p: number, con: Consumer, max: number, now: number): number {
    const log = c.log;
    const seqs: number[] = [];
    const tag = ++this.tag;
    while (seqs.length < max) {
      let seq: number;
      if (c.retry.size > 0) {
        seq = c.retry.pop()!;
        if (!c.counts.has(seq)) continue;
      } else if (c.nextNew < log.ready) seq = c.nextNew++;
      else break;
      const e = log.get(seq);
      if (!e) {
        // Released meanwhile (dropped or purged): nothing to deliver.
        if (c.retaining) c.markDone(seq);
        continue;
      }
      const count = (c.counts.get(seq) ?? 0) + 1;
      c.counts.delete(seq);
      con.deliver(p, seq, count, e.bytes);
      c.inFlight.set(seq, { holder: con, count, tag });
      con.inFlight++;
      if (!c.retaining) this.dropEphemeral(seq);
      if (count > 1) this.counters.redelivered++;
      seqs.push(seq);
    }
    if (seqs.length > 0) {
      this.counters.delivered += seqs.length;
      c.deadlines.push({ at: now + this.spec.ack_timeout_ms, tag, seqs });
      if (c.retaining) c.dirty = true;
    }
    return seqs.length;
  }

  // ------------------------------------------------------------------ acks

  /** Which cursor a consumer's acks for partition p refer to. */
  private cursorOf(con: Consumer, p: number): Cursor | undefined {
    const s = this.subOf.get(con);
    if (!s) return undefined;
    if (s instanceof PartitionGroup) return s.cursors[p];
    return p === 0 ? s.cursor : undefined;
  }

  /**
   * Applies an ack/nack/reject range. Seqs not in flight to this consumer (already
   * acked, or taken back after a timeout or revocation) are ignored: that race is normal.
   */
  settle(con: Consumer, p: number, first: number, last: number, how: 'ack' | 'nack' | 'reject'): void {
    const c = this.cursorOf(con, p);
    if (!c) return;
    for (let seq = first; seq <= last; seq++) {
      const f = c.inFlight.get(seq);
      if (!f || f.holder !== con) continue;
      c.inFlight.delete(seq);
      con.inFlight--;
      if (!c.retaining) continue;
      if (how === 'ack') {
        this.counters.acked++;
        this.finish(c, seq);
      } else if (how === 'nack') this.failed(c, seq, f.count, 'nacked');
      else this.deadLetter(c, seq, f.count, 'rejected');
    }
    this.schedule();
  }

  revokeDone(con: Consumer, p: number): void {
    const s = this.subOf.get(con);
    if (s instanceof PartitionGroup) s.revokeDone(con, p);
  }

  /** GroupHost: the member's deliveries of partition p go back for redelivery. */
  releasePartition(g: PartitionGroup, m: Consumer, p: number): void {
    this.releaseHolder(g.cursors[p]!, m, 'partition revoked');
  }

  wake(): void {
    this.schedule();
  }

  private releaseHolder(c: Cursor, h: Holder, reason: string): void {
    for (const [seq, f] of c.inFlight) {
      if (f.holder !== h) continue;
      c.inFlight.delete(seq);
      h.inFlight--;
      this.failed(c, seq, f.count, reason);
    }
  }

  /** A delivery failed (timeout, nack, consumer gone): redeliver, or dead-letter after max_deliveries. */
  private failed(c: Cursor, seq: number, count: number, reason: string): void {
    if (!c.retaining) return;
    if (this.spec.max_deliveries > 0 && count >= this.spec.max_deliveries) {
      this.deadLetter(c, seq, count, `max deliveries (${this.spec.max_deliveries}) reached, last: ${reason}`);
    } else c.requeue(seq, count);
  }

  private deadLetter(c: Cursor, seq: number, count: number, reason: string): void {
    const e = c.log.get(seq);
    if (e) {
      const msg = Message.decode(e.bytes);
      msg.headers = {
        ...msg.headers,
        'x-dead-letter-reason': reason,
        'x-original-queue': this.spec.name,
        'x-original-partition': String(c.log.partition),
        'x-original-seq': String(seq),
        'x-delivery-count': String(count),
      };
      if (this.hooks.deadLetter(this, { bytes: Message.encode(msg).finish(), id: '', key: msg.key })) {
        this.counters.deadLettered++;
      } else this.counters.dropped++;
    }
    this.finish(c, seq);
  }

  /** The cursor is done with seq: the entry may leave memory and storage. */
  private finish(c: Cursor, seq: number): void {
    if (c.isDone(seq)) return;
    c.markDone(seq);
    const e = c.log.get(seq);
    if (e) this.unneed(c.log, e);
  }

  private unneed(log: PartitionLog, e: Entry): void {
    if (e.need <= 0) return;
    e.need--;
    if (e.need > 0) return;
    if (e.col >= 0) {
      this.hooks.writer?.release(e.col);
      e.col = -1;
    }
    if (e.eph === 0 && e.seq < log.ready) log.release(e.seq);
  }

  private dropEphemeral(seq: number): void {
    const log = this.logs[0]!;
    const e = log.get(seq);
    if (!e || e.eph <= 0) return;
    e.eph--;
    if (e.eph === 0 && e.need === 0 && e.seq < log.ready) log.release(seq);
  }

  // ------------------------------------------------------------------ timers

  /** Ack timeouts, revocation timeouts. */
  tick(now: number): void {
    const expire = (c: Cursor): void => {
      while ((c.deadlines.peek()?.at ?? Infinity) <= now) {
        const d = c.deadlines.shift()!;
        for (const seq of d.seqs) {
          const f = c.inFlight.get(seq);
          if (!f || f.tag !== d.tag) continue;
          c.inFlight.delete(seq);
          f.holder.inFlight--;
          this.failed(c, seq, f.count, 'ack timeout');
        }
      }
    };
    for (const s of this.shared.values()) expire(s.cursor);
    for (const s of this.ephemeral) expire(s.cursor);
    for (const g of this.groups.values()) {
      g.tick(now);
      for (const c of g.cursors) expire(c);
    }
    this.sweepDedupe(now);
    this.schedule();
  }

  // ------------------------------------------------------------------ admin

  /** Drops every message waiting for delivery (in-flight ones stay); returns how many left the queue. */
  purge(): number {
    let n = 0;
    const purgeCursor = (c: Cursor): void => {
      while (c.retry.size > 0) {
        const seq = c.retry.pop()!;
        if (c.counts.has(seq)) n += this.purgeOne(c, seq);
      }
      for (let seq = c.nextNew; seq < c.log.next; seq++) n += this.purgeOne(c, seq);
      c.nextNew = c.log.next;
    };
    for (const s of this.shared.values()) purgeCursor(s.cursor);
    for (const g of this.groups.values()) for (const c of g.cursors) purgeCursor(c);
    if (this.idleHold) {
      for (const log of this.logs) {
        for (const e of [...log.values()]) {
          this.unneed(log, e);
          n++;
        }
      }
    }
    this.dirty = true;
    return n;
  }

  private purgeOne(c: Cursor, seq: number): number {
    const e = c.log.get(seq);
    const before = e?.need ?? 0;
    this.finish(c, seq);
    return e && before === 1 ? 1 : 0;
  }

  /** Stops everything: subscribers are told why. */
  close(err: PlatformError): void {
    this.deleted = true;
    for (const c of [...this.subOf.keys()]) c.close(err);
    this.subOf.clear();
  }

  consumers(): number {
    return this.subOf.size;
  }

  depth(): number {
    let n = 0;
    for (const s of this.shared.values()) n += s.cursor.waiting();
    for (const g of this.groups.values()) for (const c of g.cursors) n += c.waiting();
    if (this.idleHold) n += this.retained();
    return n;
  }

  inFlight(): number {
    let n = 0;
    for (const s of this.shared.values()) n += s.cursor.inFlight.size;
    for (const s of this.ephemeral) n += s.cursor.inFlight.size;
    for (const g of this.groups.values()) for (const c of g.cursors) n += c.inFlight.size;
    return n;
  }

  /** Not yet acked by a group (or named subscription). */
  lag(name: string): number {
    const g = this.groups.get(name);
    if (g) return g.cursors.reduce((n, c) => n + c.waiting() + c.inFlight.size, 0);
    const s = this.shared.get(name);
    return s ? s.cursor.waiting() + s.cursor.inFlight.size : 0;
  }

  // ------------------------------------------------------------------ durability

  /** Everything a restart needs besides the stored messages. */
  checkpoint(): Checkpoint {
    const cur: Checkpoint['cur'] = [];
    for (const [g, s] of this.shared) cur.push({ g, parts: [s.cursor.state()] });
    for (const [g, grp] of this.groups) cur.push({ g, parts: grp.cursors.map((c) => c.state()) });
    for (const s of this.shared.values()) s.cursor.dirty = false;
    for (const grp of this.groups.values()) for (const c of grp.cursors) c.dirty = false;
    this.dirty = false;
    return { acked: this.counters.acked, next: this.logs.map((l) => l.next), idle: this.idleHold, cur };
  }

  needsCheckpoint(): boolean {
    if (this.dirty) return true;
    for (const s of this.shared.values()) if (s.cursor.dirty) return true;
    for (const g of this.groups.values()) for (const c of g.cursors) if (c.dirty) return true;
    return false;
  }

  /**
   * Rebuilds from storage: `stored[p]` sorted by seq. Messages a cursor had
   * delivered but not finished come back for redelivery with their counts.
   * Returns the entries kept (the caller counts them live in their collections).
   */
  restore(stored: Entry[][], cp: Checkpoint | undefined): Entry[] {
    const kept: Entry[] = [];
    const cursors: Cursor[][] = this.logs.map(() => []);
    const states = new Map<Cursor, CursorState>();
    for (let p = 0; p < this.logs.length; p++) {
      const next = Math.max(cp?.next[p] ?? 1, (stored[p]?.[stored[p]!.length - 1]?.seq ?? 0) + 1);
      this.logs[p]!.restore([], next);
    }
    for (const { g, parts } of cp?.cur ?? []) {
      if (this.spec.kind === 'partitioned') {
        if (parts.length !== this.logs.length) continue;
        const grp = new PartitionGroup(
          g,
          parts.map((st, p) => new Cursor(this.logs[p]!, true, st.f)),
          this,
          this.spec.ack_timeout_ms,
        );
        this.groups.set(g, grp);
        grp.cursors.forEach((c, p) => {
          states.set(c, parts[p]!);
          cursors[p]!.push(c);
        });
      } else if (parts.length === 1) {
        const s = new SharedSub(g, new Cursor(this.logs[0]!, true, parts[0]!.f));
        this.shared.set(g, s);
        states.set(s.cursor, parts[0]!);
        cursors[0]!.push(s.cursor);
      }
    }
    if (this.spec.kind === 'queue' && !this.shared.has('')) {
      const s = new SharedSub('', new Cursor(this.logs[0]!, true, 1));
      this.shared.set('', s);
      cursors[0]!.push(s.cursor);
    }
    this.idleHold = this.spec.kind === 'partitioned' && this.groups.size === 0;
    for (const [c, st] of states) {
      for (const s of expand(st.d)) c.done.add(s);
      c.nextNew = st.n;
    }
    for (let p = 0; p < this.logs.length; p++) {
      const keep: Entry[] = [];
      for (const e of stored[p] ?? []) {
        e.need = this.idleHold ? 1 : 0;
        e.eph = 0;
        for (const c of cursors[p]!) if (!c.isDone(e.seq)) e.need++;
        if (e.need > 0) keep.push(e);
      }
      this.logs[p]!.restore(keep, this.logs[p]!.next);
      kept.push(...keep);
      const now = Date.now();
      for (const e of keep) if (e.id) this.dedupe.set(e.id, { partition: p, seq: e.seq, at: now, written: undefined });
    }
    for (const [c, st] of states) {
      const counts = new Map(st.c);
      for (const e of c.log.values()) {
        if (e.seq >= c.nextNew || c.isDone(e.seq)) continue;
        c.requeue(e.seq, counts.get(e.seq) ?? 1);
      }
      // Seqs between the floor and the first kept entry were finished by everyone: move the floor up.
      const up = Math.min(c.log.low, c.nextNew);
      if (c.floor < up) {
        c.floor = up;
        for (const s of c.done) if (s < up) c.done.delete(s);
        while (c.done.delete(c.floor)) c.floor++;
      }
      c.dirty = false;
    }
    return kept;
  }
}
