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
  /** Points expanded per store round trip (default 5000). */
  batchPoints?: number;
  /** Backlog (points in uncompacted segments) past which ingest waits (default 1 000 000). */
  maxBacklog?: number;
  /** Wait between rounds when idle or after a failure. */
  idleMs?: number;
  /** After each compacted round: points and seconds (metrics). */
  onRound?: (points: number, seconds: number) => void;
}

const RETRY_MS = 500;

export class SegmentCompactor {
  private readonly pending = new Map<number, Segment[]>();
  /** Ids in the backlog: a segment both written here and found by a rebuild is taken once. */
  private readonly ids = new Set<string>();
  private backlogPoints = 0;
  /** Partitions of the round now running. */
  private running: { partitions: Set<number>; done: Promise<void> } | undefined;
  private wake: (() => void) | undefined;
  private roomWaiters: (() => void)[] = [];
  private stopped = false;
  private readonly loop: Promise<void>;

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
    this.dropUnowned();
    if (this.backlogPoints < (this.opts.maxBacklog ?? 1_000_000) || this.stopped) return Promise.resolve();
    return new Promise((r) => this.roomWaiters.push(r));
  }

  /** Resolves when nothing is left to compact (tests, benchmarks, graceful stop). */
  async drained(): Promise<void> {
    while (this.backlogPoints > 0 && !this.stopped) {
      this.wake?.();
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Stops compacting `partitions` (revocation): waits for a round that touches
   * them, then forgets their segments — they stay in the store for the next owner.
   */
  async quiesce(partitions: readonly number[]): Promise<void> {
    const run = this.running;
    if (run && partitions.some((p) => run.partitions.has(p))) await run.done;
    for (const p of partitions) {
      for (const s of this.pending.get(p) ?? []) this.forget(s);
      this.pending.delete(p);
    }
    this.freeRoom();
  }

  /** Finishes the running round within the caller's grace; the rest stays in the store. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    this.freeRoom();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
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
      this.running = { partitions: new Set(round.map((s) => s.partition)), done: new Promise((r) => (finish = r)) };
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
    const max = this.opts.batchPoints ?? 5000;
    const round: Segment[] = [];
    let points = 0;
    for (const [p, list] of this.pending) {
      if (!this.state.ownership.owns(p)) continue;
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
    for (const s of round) {
      for (const point of decodePoints(s.data)) {
        points.push({ point, partition: s.partition });
        // The record as this unit holds it now: it already includes every point of
        // the segment (applied at ingest or at rebuild), and maybe newer ones.
        const r = this.state.get(point.user_id);
        if (r && r.partition === s.partition) latest.set(r.userId, r);
      }
    }
    await this.store.write(points, [...latest.values()]);
    await this.store.deleteSegments(round.map((s) => s.id));
    this.opts.onRound?.(points.length, Number(process.hrtime.bigint() - started) / 1e9);
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

  /**
   * Forgets the waiting segments of partitions no longer owned (revoked): they
   * stay in the store for the next owner, and must not fill the backlog a
   * revocation's own flush may be waiting on.
   */
  private dropUnowned(): void {
    for (const [p, list] of this.pending) {
      if (this.state.ownership.owns(p)) continue;
      for (const s of list) this.forget(s);
      this.pending.delete(p);
    }
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
