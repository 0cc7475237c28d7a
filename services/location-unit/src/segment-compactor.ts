// Expands write-ahead segments (location_segments) into the query-friendly
// collections — one document per point for `track`, the latest record per user
// for rebuilds — and deletes them. This is the slow part of durability on
// FerretDB (documents, not bytes, cost), so it runs behind the acks: a point is
// durable once its segment is stored, and the compactor catches up. Its backlog
// is bounded: past `maxBacklog` points the ingest pipeline waits (and with it
// the mq acks, so the broker's credit slows the producers down).
//
// Ownership: a unit compacts only segments of partitions it owns. On revocation
// the partition's in-flight compaction finishes before the revocation is
// confirmed (`quiesce`), so the next owner never rebuilds while this unit is
// still moving the partition's points around; segments left behind (a crash
// mid-compaction) are replayed by the next owner, idempotently.
import type { Logger } from '../../runtime/src/logger.js';
import type { LocationStore, Segment } from './location-store.js';
import { decodePoints } from './segment-codec.js';
import type { LatestRecord, Point, UnitState } from './unit-state.js';

export interface CompactorOptions {
  logger: Logger;
  /** Points expanded per round (default 20 000). */
  batchPoints?: number;
  /** Compacted segments and superseded latest versions are deleted at most this often while busy (default 10 s). */
  gcMs?: number;
  /** Backlog (points in uncompacted segments) past which ingest waits (default 1 000 000). */
  maxBacklog?: number;
  /** Wait between rounds when idle or after a failure. */
  idleMs?: number;
  /** After each compacted round: points and seconds (metrics). */
  onRound?: (points: number, seconds: number) => void;
}

const RETRY_MS = 500;
const GC_CHUNK = 10_000;

export class SegmentCompactor {
  private readonly pending = new Map<number, Segment[]>();
  /** Ids in the backlog: a segment both written here and found by a rebuild is taken once. */
  private readonly ids = new Set<string>();
  private backlogPoints = 0;
  /**
   * The round now running, with its partitions. One at a time: two measured no
   * faster on FerretDB (a single writer) and took store time from the acked path.
   */
  private running: { partitions: Set<number>; done: Promise<void> } | undefined;
  private wake: (() => void) | undefined;
  private roomWaiters: (() => void)[] = [];
  private stopped = false;
  private readonly loop: Promise<void>;
  /** Deletes owed: compacted segments and superseded latest versions. */
  private garbage = { segments: [] as string[], latest: [] as string[], since: Date.now() };

  constructor(
    private readonly store: LocationStore,
    private readonly state: UnitState,
    private readonly opts: CompactorOptions,
  ) {
    this.loop = this.run();
  }

  /** Points stored in segments and not yet compacted (by this unit). */
  get backlog(): number {
    return this.backlogPoints;
  }

  /** Takes durable segments (just written, or found at rebuild) into the backlog. */
  add(segments: readonly Segment[]): void {
    for (const s of segments) {
      if (this.ids.has(s.id)) continue;
      this.ids.add(s.id);
      let list = this.pending.get(s.partition);
      if (!list) this.pending.set(s.partition, (list = []));
      list.push(s);
      this.backlogPoints += s.count;
    }
    this.wake?.();
  }

  /** Resolves when the backlog is below its bound (the ingest pipeline waits here). */
  room(): Promise<void> {
    if (this.backlogPoints < (this.opts.maxBacklog ?? 1_000_000) || this.stopped) return Promise.resolve();
    return new Promise((r) => this.roomWaiters.push(r));
  }

  /** Nothing left to compact and nothing left to delete. */
  get idle(): boolean {
    return this.backlogPoints === 0 && this.garbage.segments.length === 0 && this.garbage.latest.length === 0;
  }

  /**
   * Forgets the waiting segments of `partitions` (revocation, before the
   * pipeline's flush): they stay in the store for the next owner, and must not
   * keep writers — which that flush waits for — stuck on a full backlog.
   */
  release(partitions: readonly number[]): void {
    for (const p of partitions) {
      for (const s of this.pending.get(p) ?? []) this.forget(s);
      this.pending.delete(p);
    }
    this.freeRoom();
  }

  /**
   * Stops compacting `partitions` (revocation, after the pipeline's flush): waits
   * for a running round that touches them, then forgets what the flush added.
   */
  async quiesce(partitions: readonly number[]): Promise<void> {
    const run = this.running;
    if (run && partitions.some((p) => run.partitions.has(p))) await run.done;
    this.release(partitions);
  }

  /** Finishes the running round within the caller's grace; the rest stays in the store. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (this.garbage.segments.length > 0 || this.garbage.latest.length > 0) await this.collectGarbage();
    this.freeRoom();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      // Deletes scan whole collections on FerretDB 1.x, so they are batched: when
      // idle, or every gcMs while busy. Before taking a round: a round taken is
      // registered at once, so a revocation (quiesce) always sees it.
      if (this.backlogPoints === 0 || Date.now() - this.garbage.since >= (this.opts.gcMs ?? 10_000)) {
        await this.collectGarbage();
      }
      if (this.stopped) break;
      const round = this.take();
      if (!round) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, this.opts.idleMs ?? 200);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = undefined;
        continue;
      }
      let finish!: () => void;
      this.running = {
        partitions: new Set(round.map((s) => s.partition)),
        done: new Promise<void>((r) => (finish = r)),
      };
      try {
        await this.compact(round);
        this.settle(round);
      } catch (err) {
        this.opts.logger.warn('Compacting segments failed; retrying', { segments: round.length, err });
        this.putBack(round);
        await new Promise((r) => setTimeout(r, RETRY_MS));
      } finally {
        this.running = undefined;
        finish();
      }
    }
  }

  /** Whole segments, oldest first per partition, up to about `batchPoints` points; only owned partitions. */
  private take(): Segment[] | undefined {
    const max = this.opts.batchPoints ?? 20_000;
    const round: Segment[] = [];
    let points = 0;
    for (const [p, list] of this.pending) {
      // Not while loading: the records written must include what the rebuild restores.
      if (!this.state.ownership.isReady(p)) continue;
      while (list.length > 0 && (points === 0 || points + list[0]!.count <= max)) {
        const s = list.shift()!;
        round.push(s);
        points += s.count;
      }
      if (list.length === 0) this.pending.delete(p);
      if (points >= max) break;
    }
    return round.length > 0 ? round : undefined;
  }

  private async compact(round: readonly Segment[]): Promise<void> {
    const started = process.hrtime.bigint();
    const points: { point: Point; partition: number }[] = [];
    const latest = new Map<string, LatestRecord>();
    const keep = new Set<string>();
    for (const s of round) {
      for (const point of decodePoints(s.data)) {
        points.push({ point, partition: s.partition });
        // The record as this unit holds it now: it already includes every point of
        // the segment (applied at ingest or at rebuild), and maybe newer ones.
        const r = this.state.get(point.user_id);
        if (r && r.partition === s.partition) latest.set(r.userId, r);
        // Without the record the segment is the only full copy: it stays for a rebuild.
        else keep.add(s.id);
      }
    }
    const superseded = await this.store.write(points, [...latest.values()]);
    this.garbage.latest.push(...superseded);
    for (const s of round) if (!keep.has(s.id)) this.garbage.segments.push(s.id);
    if (keep.size > 0)
      this.opts.logger.warn('Kept segments whose users this unit no longer holds', { segments: [...keep] });
    this.opts.onRound?.(points.length, Number(process.hrtime.bigint() - started) / 1e9);
  }

  private async collectGarbage(): Promise<void> {
    const { segments, latest } = this.garbage;
    this.garbage = { segments: [], latest: [], since: Date.now() };
    try {
      // Chunks: after an outage the lists could outgrow one BSON command.
      for (let i = 0; i < segments.length; i += GC_CHUNK)
        await this.store.deleteSegments(segments.slice(i, i + GC_CHUNK));
      for (let i = 0; i < latest.length; i += GC_CHUNK) await this.store.deleteLatest(latest.slice(i, i + GC_CHUNK));
    } catch (err) {
      // Harmless meanwhile: a rebuild replays compacted segments idempotently and keeps the newest version.
      this.opts.logger.warn('Deleting compacted segments failed; retrying later', { err });
      this.garbage.segments.push(...segments);
      this.garbage.latest.push(...latest);
    }
  }

  private settle(round: readonly Segment[]): void {
    for (const s of round) this.forget(s);
    this.freeRoom();
  }

  /** A failed round goes back to the front (unless its partition was revoked meanwhile). */
  private putBack(round: readonly Segment[]): void {
    for (const s of [...round].reverse()) {
      if (!this.state.ownership.owns(s.partition)) {
        this.forget(s);
        continue;
      }
      let list = this.pending.get(s.partition);
      if (!list) this.pending.set(s.partition, (list = []));
      list.unshift(s);
    }
    this.freeRoom();
  }

  private forget(s: Segment): void {
    this.ids.delete(s.id);
    this.backlogPoints -= s.count;
  }

  private freeRoom(): void {
    if (this.backlogPoints >= (this.opts.maxBacklog ?? 1_000_000) && !this.stopped) return;
    for (const r of this.roomWaiters.splice(0)) r();
  }
}
