// Durable queue storage in MongoDB, built for what FerretDB 1.x does fast
// and what it does slowly: inserts are cheap, dropping a collection is cheap,
// but a delete or update by filter scans the whole collection. So storage is a
// log of append-only collections `mq_log_<epoch>_<n>`:
//   - message batches: one document per (queue, partition) per group commit;
//   - checkpoints: per queue, where each subscription stands (floor, done
//     set, next undelivered, delivery counts) — written every 200 ms when it changed.
// A single writer inserts whatever is pending as one `insertMany` (group commit,
// at most one insert started per commit interval); publishes are acknowledged when
// their batch is in (consumers got them already: see Queue.publish). The active collection is
// sealed after ROTATE_BYTES / ROTATE_MS, and the new one starts with a checkpoint
// of every durable queue, so a sealed collection never holds the only copy of
// one. A sealed collection whose messages are all finished is dropped; one that
// is mostly finished has its remaining messages copied forward, then is dropped.
// Recovery reads every log collection in order: later records win.
import { Binary, type Db } from 'mongodb';
import type { Logger } from '../../../runtime/src/logger.js';
import type { Entry } from '../message-log.js';
import type { Checkpoint, DurableWriter, Queue } from '../queue.js';
import { rawFromBytes } from '../raw-message.js';
import { decodeBatch, encodeBatch } from './batch-codec.js';

export const LOG_PREFIX = 'mq_log_';
const LOG_NAME = /^mq_log_(\d+)_(\d+)$/;
const MAX_DOC_BYTES = 4 * 1024 * 1024;
const MAX_INSERT_BYTES = 16 * 1024 * 1024;

interface MessageDoc {
  _id: number;
  k: 'm';
  q: string;
  p: number;
  s: number;
  /** Explicit seqs when not contiguous (messages copied forward). */
  ss?: number[];
  b: Binary;
}
interface CheckpointDoc {
  _id: number;
  k: 'c';
  q: string;
  /** JSON text: FerretDB stores no nested arrays, and checkpoints are full of ranges. */
  cp: string;
}
type LogDoc = MessageDoc | CheckpointDoc;

interface ColInfo {
  name: string;
  live: number;
  total: number;
  bytes: number;
  createdAt: number;
  sealed: boolean;
}

type Pending =
  | { k: 'm'; queue: Queue; p: number; entries: Entry[]; ss: boolean; done: () => void }
  | { k: 'c'; uid: string; cp: Checkpoint };

export interface LogStoreOptions {
  epoch: number;
  logger: Logger;
  rotateBytes?: number;
  rotateMs?: number;
  /** Copy a sealed collection's messages forward when at most this share is still live. */
  compactRatio?: number;
  /**
   * Group commit per tick: an insert starts at least this long after the previous
   * one started, so under load each insert carries a tick's worth of publishes
   * (FerretDB's cost is per operation) instead of the store running back to back.
   * An idle store writes at once. Default 10 ms.
   */
  commitIntervalMs?: number;
  /** Observes each insertMany (metrics). */
  onWrite?: (seconds: number, docs: number) => void;
}

export interface Recovered {
  /** queue uid → partition → entries sorted by seq. */
  stored: Map<string, Entry[][]>;
  checkpoints: Map<string, Checkpoint>;
}

export class LogStore implements DurableWriter {
  private readonly db: Db;
  private readonly opts: Required<Omit<LogStoreOptions, 'onWrite'>> & Pick<LogStoreOptions, 'onWrite'>;
  private readonly cols: ColInfo[] = [];
  private active = -1;
  private nextId = 1;
  private colSeq = 0;
  private pending: Pending[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;
  /** When the last insert started (performance.now()). */
  private lastCommit = -Infinity;
  lastError: string | undefined;
  /** Per queue uid: checkpoints written, and the ack count the last one covered (metrics; tests wait on it). */
  readonly checkpointsWritten = new Map<string, { n: number; acked: number }>();
  /** Every durable queue's checkpoint (written first into each new collection). */
  snapshot: () => { uid: string; cp: Checkpoint }[] = () => [];
  /** Durable entries held in collection `col` (for copying them forward). */
  entriesIn: (col: number) => { queue: Queue; p: number; entries: Entry[] }[] = () => [];

  constructor(db: Db, opts: LogStoreOptions) {
    this.db = db;
    this.opts = {
      rotateBytes: 32 * 1024 * 1024,
      rotateMs: 30_000,
      compactRatio: 0.25,
      commitIntervalMs: 10,
      ...opts,
    };
  }

  // --------------------------------------------------------------- recovery

  /** Reads every log collection (oldest first); registers them as sealed. */
  async recover(): Promise<Recovered> {
    const names = (await this.db.listCollections({}, { nameOnly: true }).toArray())
      .map((c) => c.name)
      .filter((n) => LOG_NAME.test(n))
      .sort();
    const byQueue = new Map<string, Map<number, Map<number, Entry>>>();
    const checkpoints = new Map<string, Checkpoint>();
    for (const name of names) {
      const docs = (await this.db.collection<LogDoc>(name).find({}).toArray()).sort((a, b) => a._id - b._id);
      const col = this.cols.length;
      const info: ColInfo = { name, live: 0, total: 0, bytes: 0, createdAt: Date.now(), sealed: true };
      this.cols.push(info);
      for (const d of docs) {
        if (d.k === 'c') {
          checkpoints.set(d.q, JSON.parse(d.cp) as Checkpoint);
          continue;
        }
        let parts = byQueue.get(d.q);
        if (!parts) byQueue.set(d.q, (parts = new Map()));
        let entries = parts.get(d.p);
        if (!entries) parts.set(d.p, (entries = new Map()));
        const msgs = decodeBatch(d.b.buffer);
        info.total += msgs.length;
        info.bytes += d.b.buffer.length;
        msgs.forEach((bytes, i) => {
          const seq = d.ss ? d.ss[i]! : d.s + i;
          entries.set(seq, { seq, bytes, id: rawFromBytes(bytes, 0).id, need: 0, eph: 0, col });
        });
      }
    }
    const stored = new Map<string, Entry[][]>();
    for (const [uid, parts] of byQueue) {
      const arr: Entry[][] = [];
      for (const [p, m] of parts) arr[p] = [...m.values()].sort((a, b) => a.seq - b.seq);
      stored.set(uid, arr);
    }
    return { stored, checkpoints };
  }

  /** After the queues restored: the entries they kept are live in their collections. */
  adopt(entries: Iterable<Entry>): void {
    for (const e of entries) if (e.col >= 0) this.cols[e.col]!.live++;
  }

  // --------------------------------------------------------------- writing

  write(queue: Queue, p: number, entries: Entry[]): Promise<void> {
    return new Promise((resolve) => {
      this.pending.push({ k: 'm', queue, p, entries, ss: false, done: resolve });
      this.kick();
    });
  }

  checkpoint(uid: string, cp: Checkpoint): void {
    this.pending.push({ k: 'c', uid, cp });
    this.kick();
  }

  release(col: number): void {
    const c = this.cols[col];
    if (c && c.live > 0) c.live--;
  }

  /** Periodic: rotation by age and dropping finished collections also happen when nothing is written. */
  maintain(): void {
    this.kick();
  }

  /** Writes what is pending, then stops the writer. */
  async stop(): Promise<void> {
    this.kick();
    while (this.running) await this.running;
    this.stopped = true;
  }

  /** Live collections (for stats and tests). */
  collections(): { name: string; live: number; total: number; sealed: boolean }[] {
    return this.cols.filter((c) => c.name).map(({ name, live, total, sealed }) => ({ name, live, total, sealed }));
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = this.loop()
      .catch(async (err: unknown) => {
        this.lastError = (err as Error).message;
        this.opts.logger.error('Log writer failed; retrying', { err });
        await new Promise((r) => setTimeout(r, 500));
      })
      .finally(() => {
        this.running = undefined;
        if (this.pending.length > 0 && !this.stopped) this.kick();
      });
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.active < 0 || this.rotationDue()) await this.rotate();
      if (this.pending.length === 0) break;
      const wait = this.lastCommit + this.opts.commitIntervalMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.lastCommit = performance.now();
      const batch = this.take();
      const docs = this.docsOf(batch);
      const t0 = process.hrtime.bigint();
      try {
        if (docs.length > 0)
          await this.db.collection<LogDoc>(this.cols[this.active]!.name).insertMany(docs, { ordered: true });
        this.failures = 0;
        this.lastError = undefined;
      } catch (err) {
        // Keep everything pending and retry: publishes wait rather than being acknowledged unwritten.
        this.pending.unshift(...batch);
        this.failures++;
        this.lastError = (err as Error).message;
        this.opts.logger.warn('Store write failed; retrying', { err, attempt: this.failures });
        await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** Math.min(this.failures, 6))));
        if (this.stopped) return;
        continue;
      }
      this.opts.onWrite?.(Number(process.hrtime.bigint() - t0) / 1e9, docs.length);
      const info = this.cols[this.active]!;
      for (const r of batch) {
        if (r.k === 'c') {
          const w = this.checkpointsWritten.get(r.uid);
          this.checkpointsWritten.set(r.uid, { n: (w?.n ?? 0) + 1, acked: r.cp.acked });
        }
        if (r.k !== 'm') continue;
        for (const e of r.entries) {
          if (e.need <= 0) continue;
          if (r.ss && e.col >= 0) this.release(e.col);
          e.col = this.active;
          info.live++;
        }
        if (!r.ss) r.done();
      }
    }
    await this.dropFinished();
  }

  /** Pending records up to MAX_INSERT_BYTES, in order. */
  private take(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < this.pending.length && bytes < MAX_INSERT_BYTES) {
      const r = this.pending[n]!;
      if (r.k === 'm') for (const e of r.entries) bytes += e.bytes.length + 4;
      else bytes += 256;
      n++;
    }
    return this.pending.splice(0, n);
  }

  private docsOf(batch: Pending[]): LogDoc[] {
    const docs: LogDoc[] = [];
    const info = this.cols[this.active]!;
    for (const r of batch) {
      if (r.k === 'c') {
        docs.push({ _id: this.nextId++, k: 'c', q: r.uid, cp: JSON.stringify(r.cp) });
        continue;
      }
      // Entries finished before they were written (purged, no subscriber) need no storage.
      const live = r.entries.filter((e) => e.need > 0);
      for (let i = 0; i < live.length;) {
        const chunk: Entry[] = [];
        let size = 0;
        while (i < live.length && (chunk.length === 0 || size + live[i]!.bytes.length < MAX_DOC_BYTES)) {
          size += live[i]!.bytes.length + 4;
          chunk.push(live[i++]!);
        }
        const contiguous = chunk.every((e, j) => e.seq === chunk[0]!.seq + j);
        const blob = encodeBatch(chunk.map((e) => e.bytes));
        info.total += chunk.length;
        info.bytes += blob.length;
        docs.push({
          _id: this.nextId++,
          k: 'm',
          q: r.queue.uid,
          p: r.p,
          s: chunk[0]!.seq,
          ...(contiguous ? {} : { ss: chunk.map((e) => e.seq) }),
          b: new Binary(blob),
        });
      }
    }
    return docs;
  }

  private rotationDue(): boolean {
    const a = this.cols[this.active];
    if (!a) return true;
    return a.bytes >= this.opts.rotateBytes || (a.total > 0 && Date.now() - a.createdAt >= this.opts.rotateMs);
  }

  /** Seals the active collection; the new one starts with every durable queue's checkpoint. */
  private async rotate(): Promise<void> {
    const prev = this.cols[this.active];
    if (prev) prev.sealed = true;
    const name = `${LOG_PREFIX}${String(this.opts.epoch).padStart(8, '0')}_${String(++this.colSeq).padStart(8, '0')}`;
    await this.db.createCollection(name).catch((err: unknown) => {
      if ((err as { codeName?: string }).codeName !== 'NamespaceExists') throw err;
    });
    this.cols.push({ name, live: 0, total: 0, bytes: 0, createdAt: Date.now(), sealed: false });
    this.active = this.cols.length - 1;
    this.nextId = 1;
    const snap = this.snapshot();
    if (snap.length > 0) this.pending.unshift(...snap.map(({ uid, cp }) => ({ k: 'c' as const, uid, cp })));
    this.opts.logger.debug('Rotated log collection', { collection: name, checkpoints: snap.length });
  }

  private async dropFinished(): Promise<void> {
    for (let i = 0; i < this.cols.length; i++) {
      const c = this.cols[i]!;
      if (!c.sealed || !c.name) continue;
      if (c.live > 0 && c.live <= c.total * this.opts.compactRatio && this.pending.length === 0)
        await this.copyForward(i);
      if (c.live > 0) continue;
      await this.db
        .collection(c.name)
        .drop()
        .catch((err: unknown) => {
          if ((err as { codeName?: string }).codeName !== 'NamespaceNotFound') throw err;
        });
      this.opts.logger.debug('Dropped finished log collection', { collection: c.name, messages: c.total });
      c.name = '';
    }
  }

  /** Rewrites the still-live messages of a sealed collection into the active one. */
  private async copyForward(col: number): Promise<void> {
    const groups = this.entriesIn(col);
    if (groups.length === 0) return;
    const batch: Pending[] = groups.map((g) => ({
      k: 'm' as const,
      queue: g.queue,
      p: g.p,
      entries: g.entries,
      ss: true,
      done: () => undefined,
    }));
    const docs = this.docsOf(batch);
    await this.db.collection<LogDoc>(this.cols[this.active]!.name).insertMany(docs, { ordered: true });
    const info = this.cols[this.active]!;
    for (const g of groups) {
      for (const e of g.entries) {
        if (e.col !== col) continue;
        this.release(col);
        e.col = this.active;
        info.live++;
      }
    }
    this.opts.logger.debug('Copied live messages forward', { from: this.cols[col]!.name, to: info.name });
  }
}
