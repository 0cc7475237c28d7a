// The broker: the queues by name, authentication (queue passwords, the admin
// credential), publishing, opening subscriptions and applying their frames,
// admin operations, timers (ack timeouts, checkpoints, rates) and recovery of
// durable queues at start. Transport-free: the gRPC edges (servants, streams)
// call into it and map its PlatformErrors to statuses.
import crypto from 'node:crypto';
import type { GroupInfo, QueueStats, SubscribeOpen, SubscribeRequest } from '../../../proto/gen/ts/mq.js';
import { PlatformError } from '../../runtime/src/errors.js';
import type { Logger } from '../../runtime/src/logger.js';
import { Consumer, type EventSink } from './consumer.js';
import { hashPassword, secretEquals, VerifiedCache } from './password.js';
import { Queue, type PublishOutcome, type RawMessage } from './queue.js';
import { deadLetterSpec, incompatibleChange, normalizeSpec, QUEUE_NAME, type QueueDeclaration } from './queue-spec.js';
import type { Declarations, StoredQueue } from './store/declarations.js';
import type { LogStore } from './store/log-store.js';

export const MAX_CREDIT = 10_000;
export const DEFAULT_CREDIT = 1000;
/** Sum of sequence numbers one frame may settle (acks + nacks + rejects): bounds the work per frame. */
export const MAX_SETTLE_SPAN = 1_000_000;
const MAX_METADATA_ENTRIES = 16;
const MAX_METADATA_BYTES = 4096;
const RATE_WINDOW = 10;

export interface BrokerOptions {
  logger: Logger;
  maxMessageBytes: number;
  dedupeWindowMs: number;
  adminPassword: string;
  declarations: Declarations;
  store: LogStore;
  /** False when this process must not acknowledge durable writes (lease running out). */
  leaderValid: () => boolean;
}

interface Rates {
  samples: { at: number; published: number; delivered: number; acked: number }[];
}

export class Broker {
  readonly queues = new Map<string, Queue>();
  private readonly hashes = new Map<string, string>();
  private readonly rates = new Map<string, Rates>();
  private readonly verified = new VerifiedCache();
  private readonly opts: BrokerOptions;
  private readonly timers: NodeJS.Timeout[] = [];
  private consumerSeq = 0;
  private readonly instance = crypto.randomBytes(3).toString('hex');

  constructor(opts: BrokerOptions) {
    this.opts = opts;
    opts.store.snapshot = () => this.durableQueues().map((q) => ({ uid: q.uid, cp: q.checkpoint() }));
    opts.store.entriesIn = (col) => {
      const out: ReturnType<LogStore['entriesIn']> = [];
      for (const q of this.durableQueues()) {
        q.logs.forEach((log, p) => {
          const entries = [...log.values()].filter((e) => e.col === col && e.need > 0);
          if (entries.length > 0) out.push({ queue: q, p, entries });
        });
      }
      return out;
    };
  }

  // --------------------------------------------------------------- lifecycle

  /** Loads declarations and durable contents, then applies the configured declarations. */
  async start(configured: QueueDeclaration[], passwords: Map<string, string>): Promise<void> {
    const stored = await this.opts.declarations.list();
    const recovered = await this.opts.store.recover();
    let messages = 0;
    for (const d of stored) {
      let spec: QueueDeclaration;
      try {
        spec = normalizeSpec(d.spec as unknown as Record<string, unknown>, this.opts.maxMessageBytes);
      } catch (err) {
        this.opts.logger.error('Skipped a stored queue declaration', { queue: d._id, err });
        continue;
      }
      const q = this.newQueue(spec, d.uid);
      this.hashes.set(spec.name, d.hash);
      if (spec.durable) {
        const kept = q.restore(recovered.stored.get(d.uid) ?? [], recovered.checkpoints.get(d.uid));
        this.opts.store.adopt(kept);
        messages += kept.length;
      }
    }
    for (const spec of configured) {
      const pw = passwords.get(spec.name)!;
      const existing = this.queues.get(spec.name);
      if (existing) {
        const why = incompatibleChange(existing.spec, spec);
        if (why) {
          this.opts.logger.error('Kept the stored queue: TCE_MQ_QUEUES asks for an incompatible change', {
            queue: spec.name,
            change: why,
            fix: `delete it first (tce mq rm ${spec.name})`,
          });
        } else {
          existing.spec = spec;
          await this.persist(existing);
        }
        await this.setPassword(spec.name, pw);
      } else await this.create(spec, pw);
    }
    // Passwords for queues created through the admin API may be set (rotated) by configuration too.
    for (const [name, pw] of passwords) if (this.queues.has(name)) await this.setPassword(name, pw);
    for (const q of [...this.queues.values()]) await this.ensureDeadLetter(q);
    this.opts.store.maintain();
    this.timers.push(
      setInterval(() => this.tick(), 100),
      setInterval(() => this.checkpoints(), 200),
      setInterval(() => this.sampleRates(), 1000),
      setInterval(() => this.opts.store.maintain(), 1000),
    );
    for (const t of this.timers) t.unref();
    this.opts.logger.info('Recovered queues', { queues: this.queues.size, durableMessages: messages });
  }

  /** Stops timers, closes subscriptions, writes final checkpoints and everything pending. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const q of this.queues.values()) q.close(new PlatformError('UNAVAILABLE', 'the broker is shutting down'));
    this.checkpoints(true);
    await this.opts.store.stop();
  }

  private tick(): void {
    const now = Date.now();
    for (const q of this.queues.values()) q.tick(now);
  }

  private checkpoints(all = false): void {
    for (const q of this.durableQueues()) {
      if (all || q.needsCheckpoint()) this.opts.store.checkpoint(q.uid, q.checkpoint());
    }
  }

  private durableQueues(): Queue[] {
    return [...this.queues.values()].filter((q) => q.durable);
  }

  private newQueue(spec: QueueDeclaration, uid: string): Queue {
    const q = new Queue(spec, uid, {
      writer: spec.durable ? this.opts.store : undefined,
      dedupeWindowMs: this.opts.dedupeWindowMs,
      deadLetter: (from, msg) => this.deadLetter(from, msg),
    });
    this.queues.set(spec.name, q);
    this.rates.set(spec.name, { samples: [] });
    return q;
  }

  private deadLetter(from: Queue, msg: RawMessage): boolean {
    const dlq = from.spec.dead_letter ? this.queues.get(from.spec.dead_letter) : undefined;
    if (!dlq) {
      this.opts.logger.warn('Dropped a dead letter: no dead-letter queue', { queue: from.spec.name });
      return false;
    }
    dlq.publish([msg]).then(
      (r) => {
        if ('err' in r[0]!)
          this.opts.logger.warn('Dead-letter queue refused a message', { queue: dlq.spec.name, err: r[0].err });
      },
      (err: unknown) => this.opts.logger.error('Dead-lettering failed', { queue: dlq.spec.name, err }),
    );
    return true;
  }

  // --------------------------------------------------------------- auth

  /** The queue, if it exists and the password is right. */
  async authorize(name: string, password: string): Promise<Queue> {
    const q = this.queues.get(name);
    if (!q) throw new PlatformError('NOT_FOUND', `no such queue: '${name}'`);
    if (!password) throw new PlatformError('UNAUTHENTICATED', `queue '${name}' requires a password`);
    const hash = this.hashes.get(name);
    if (!hash || !(await this.verified.check(password, hash))) {
      throw new PlatformError('UNAUTHENTICATED', `wrong password for queue '${name}'`);
    }
    return q;
  }

  checkAdmin(password: string): void {
    if (!this.opts.adminPassword) {
      throw new PlatformError(
        'UNAUTHENTICATED',
        'the admin API is disabled: TCE_MQ_ADMIN_PASSWORD is not set on the broker',
      );
    }
    if (!password) throw new PlatformError('UNAUTHENTICATED', 'admin password required');
    if (!secretEquals(password, this.opts.adminPassword))
      throw new PlatformError('UNAUTHENTICATED', 'wrong admin password');
  }

  // --------------------------------------------------------------- publish

  async publish(queue: string, password: string, msgs: RawMessage[]): Promise<PublishOutcome[]> {
    const q = await this.authorize(queue, password);
    return this.publishTo(q, msgs);
  }

  async publishTo(q: Queue, msgs: RawMessage[]): Promise<PublishOutcome[]> {
    if (q.deleted) throw new PlatformError('NOT_FOUND', `no such queue: '${q.spec.name}'`);
    this.mustLead(q);
    const out = await q.publish(msgs);
    // Written, but acknowledged only while our lease is safely ours (see lease.ts).
    this.mustLead(q);
    return out;
  }

  private mustLead(q: Queue): void {
    if (q.durable && !this.opts.leaderValid()) {
      throw new PlatformError('UNAVAILABLE', 'this broker is not (or no longer) the leader; retry');
    }
  }

  // --------------------------------------------------------------- subscribe

  /** Validates the open frame, attaches the subscriber and tells it so. */
  async subscribe(open: SubscribeOpen, sink: EventSink): Promise<{ consumer: Consumer; queue: Queue }> {
    const q = await this.authorize(open.queue, open.password);
    const credit = this.checkCredit(open.credit) || DEFAULT_CREDIT;
    if (open.group && !QUEUE_NAME.test(open.group)) {
      throw new PlatformError(
        'INVALID_ARGUMENT',
        `invalid group name '${open.group}': 1-128 characters of A-Z a-z 0-9 _ . -`,
      );
    }
    const meta = Object.entries(open.metadata ?? {});
    if (
      meta.length > MAX_METADATA_ENTRIES ||
      meta.reduce((n, [k, v]) => n + k.length + v.length, 0) > MAX_METADATA_BYTES
    ) {
      throw new PlatformError(
        'INVALID_ARGUMENT',
        `metadata is limited to ${MAX_METADATA_ENTRIES} entries and ${MAX_METADATA_BYTES} bytes`,
      );
    }
    if (q.spec.kind === 'queue' && open.group) {
      throw new PlatformError('INVALID_ARGUMENT', `queue '${q.spec.name}' is a plain queue: group must be empty`);
    }
    if (q.spec.kind === 'partitioned' && !open.group) {
      throw new PlatformError(
        'INVALID_ARGUMENT',
        `queue '${q.spec.name}' is partitioned: subscribers must name a consumer group`,
      );
    }
    const consumer = new Consumer({
      id: `${this.instance}-${++this.consumerSeq}`,
      queue: q.spec.name,
      group: open.group,
      credit,
      partitions: q.spec.partitions,
      metadata: open.metadata ?? {},
      sink,
    });
    consumer.sendSubscribed({
      consumer_id: consumer.id,
      kind: q.spec.kind,
      partitions: q.spec.partitions,
      max_credit: MAX_CREDIT,
    });
    q.attach(consumer);
    return { consumer, queue: q };
  }

  private checkCredit(credit: number): number {
    if (!Number.isInteger(credit) || credit < 0)
      throw new PlatformError('INVALID_ARGUMENT', `credit must be 0 or more, got ${credit}`);
    if (credit > MAX_CREDIT) {
      throw new PlatformError(
        'RESOURCE_EXHAUSTED',
        `credit ${credit} exceeds the maximum of ${MAX_CREDIT} unacked deliveries`,
      );
    }
    return credit;
  }

  /** One client frame after the open; throws (ending the stream) on a protocol violation. */
  onFrame(c: Consumer, q: Queue, req: SubscribeRequest): void {
    if (req.open) throw new PlatformError('INVALID_ARGUMENT', 'open may only be sent once, in the first frame');
    const n = q.spec.partitions;
    const checkPartition = (p: number): void => {
      if (!Number.isInteger(p) || p < 0 || p >= n) {
        throw new PlatformError(
          'INVALID_ARGUMENT',
          `partition ${p} out of range: queue '${q.spec.name}' has ${n} partition(s)`,
        );
      }
    };
    let span = 0;
    for (const list of [req.acks, req.nacks, req.rejects]) {
      for (const r of list) {
        checkPartition(r.partition);
        if (!(r.first >= 1) || r.last < r.first) {
          throw new PlatformError(
            'INVALID_ARGUMENT',
            `invalid range [${r.first}, ${r.last}] in partition ${r.partition}`,
          );
        }
        span += r.last - r.first + 1;
        if (r.last > c.maxDelivered[r.partition]!) {
          throw new PlatformError(
            'NOT_FOUND',
            `unknown delivery: partition ${r.partition} seq ${r.last} was never delivered on this subscription`,
          );
        }
      }
    }
    if (span > MAX_SETTLE_SPAN) {
      throw new PlatformError(
        'INVALID_ARGUMENT',
        `one frame may settle at most ${MAX_SETTLE_SPAN} sequence numbers, got ${span}`,
      );
    }
    for (const p of req.revoked) checkPartition(p);
    for (const r of req.acks) q.settle(c, r.partition, r.first, r.last, 'ack');
    for (const r of req.nacks) q.settle(c, r.partition, r.first, r.last, 'nack');
    for (const r of req.rejects) q.settle(c, r.partition, r.first, r.last, 'reject');
    for (const p of req.revoked) q.revokeDone(c, p);
    if (req.flow) {
      c.credit = this.checkCredit(req.flow.credit);
      q.schedule();
    }
  }

  unsubscribe(c: Consumer, q: Queue): void {
    q.detach(c);
  }

  // --------------------------------------------------------------- admin

  async create(spec: QueueDeclaration, password: string): Promise<void> {
    if (!password) throw new PlatformError('INVALID_ARGUMENT', `queue '${spec.name}' needs a password`);
    if (this.queues.has(spec.name)) throw new PlatformError('ALREADY_EXISTS', `queue '${spec.name}' already exists`);
    const hash = await hashPassword(password);
    const q = this.newQueue(spec, crypto.randomUUID());
    this.hashes.set(spec.name, hash);
    await this.persist(q);
    await this.ensureDeadLetter(q);
    this.opts.logger.info('Created queue', { queue: spec.name, kind: spec.kind, durable: spec.durable });
  }

  private async ensureDeadLetter(q: Queue): Promise<void> {
    const name = q.spec.dead_letter;
    if (!name || this.queues.has(name)) return;
    const dspec = deadLetterSpec(q.spec);
    const dq = this.newQueue(dspec, crypto.randomUUID());
    this.hashes.set(name, this.hashes.get(q.spec.name)!);
    await this.persist(dq);
    this.opts.logger.info('Created dead-letter queue', { queue: name, for: q.spec.name });
  }

  private async persist(q: Queue): Promise<void> {
    const doc: StoredQueue = {
      _id: q.spec.name,
      uid: q.uid,
      spec: q.spec,
      hash: this.hashes.get(q.spec.name)!,
      createdAt: Date.now(),
    };
    await this.opts.declarations.put(doc);
  }

  private async setPassword(name: string, pw: string): Promise<void> {
    const old = this.hashes.get(name);
    if (old && (await this.verified.check(pw, old))) return;
    this.hashes.set(name, await hashPassword(pw));
    await this.persist(this.queues.get(name)!);
  }

  async remove(name: string): Promise<void> {
    const q = this.mustGet(name);
    q.close(new PlatformError('NOT_FOUND', `queue '${name}' was deleted`));
    // Its stored messages stop counting as live (their collections can be dropped), and
    // those not written yet are skipped by the writer.
    for (const log of q.logs) {
      for (const e of log.values()) {
        if (e.col >= 0 && e.need > 0) this.opts.store.release(e.col);
        e.col = -1;
        e.need = 0;
      }
    }
    this.queues.delete(name);
    this.hashes.delete(name);
    this.rates.delete(name);
    await this.opts.declarations.remove(name);
    this.opts.logger.info('Deleted queue', { queue: name });
  }

  purge(name: string): number {
    return this.mustGet(name).purge();
  }

  list(): QueueDeclaration[] {
    return [...this.queues.values()].map((q) => q.spec).sort((a, b) => a.name.localeCompare(b.name));
  }

  stats(name: string): QueueStats {
    const q = this.mustGet(name);
    const c = q.counters;
    const s = this.rates.get(name)?.samples ?? [];
    const rate = (k: 'published' | 'delivered' | 'acked'): number => {
      const a = s[0];
      const b = s[s.length - 1];
      if (!a || !b || b.at <= a.at) return 0;
      return Math.round(((b[k] - a[k]) / ((b.at - a.at) / 1000)) * 10) / 10;
    };
    return {
      name,
      kind: q.spec.kind,
      durable: q.spec.durable,
      depth: q.depth(),
      in_flight: q.inFlight(),
      consumers: q.consumers(),
      published: c.published,
      delivered: c.delivered,
      acked: c.acked,
      redelivered: c.redelivered,
      dead_lettered: c.deadLettered,
      dropped: c.dropped,
      duplicates: c.duplicates,
      publish_rate: rate('published'),
      deliver_rate: rate('delivered'),
      ack_rate: rate('acked'),
    };
  }

  private sampleRates(): void {
    const now = Date.now();
    for (const [name, r] of this.rates) {
      const c = this.queues.get(name)?.counters;
      if (!c) continue;
      r.samples.push({ at: now, published: c.published, delivered: c.delivered, acked: c.acked });
      if (r.samples.length > RATE_WINDOW + 1) r.samples.shift();
    }
  }

  groups(name: string): GroupInfo[] {
    const q = this.mustGet(name);
    const names =
      q.spec.kind === 'partitioned' ? [...q.groups.keys()] : q.spec.kind === 'topic' ? [...q.shared.keys()] : [];
    return names.sort().map((g) => this.describeGroup(q, g));
  }

  describeGroup(q: Queue, group: string): GroupInfo {
    const g = q.groups.get(group);
    if (g) {
      return {
        queue: q.spec.name,
        group,
        generation: g.generation,
        members: g.members.map((m) => ({
          member_id: m.id,
          metadata: m.metadata,
          partitions: g.owned(m),
          joined_at: m.connectedAt,
        })),
        unowned: g.unowned(),
        lag: q.lag(group),
      };
    }
    const s = q.spec.kind === 'topic' ? q.shared.get(group) : undefined;
    if (!s) throw new PlatformError('NOT_FOUND', `queue '${q.spec.name}' has no group or subscription '${group}'`);
    return {
      queue: q.spec.name,
      group,
      generation: 0,
      members: s.consumers.map((m) => ({
        member_id: m.id,
        metadata: m.metadata,
        partitions: [0],
        joined_at: m.connectedAt,
      })),
      unowned: [],
      lag: q.lag(group),
    };
  }

  /** Checkpoints of a durable queue written to MongoDB so far, and the acks the last one covers. */
  checkpointsWritten(q: Queue): { n: number; acked: number } {
    return this.opts.store.checkpointsWritten.get(q.uid) ?? { n: 0, acked: 0 };
  }

  removeGroup(name: string, group: string): void {
    this.mustGet(name).removeGroup(group);
  }

  private mustGet(name: string): Queue {
    const q = this.queues.get(name);
    if (!q) throw new PlatformError('NOT_FOUND', `no such queue: '${name}'`);
    return q;
  }
}
