// A subscription's position in one partition log: what is done (acked, dead-
// lettered, dropped), what is in flight to which consumer with how many
// deliveries so far, what waits for redelivery. Plain state; the queue decides.
import { Fifo, MinHeap } from './collections.js';
import type { PartitionLog } from './message-log.js';
import { toRanges } from './ranges.js';

/** The consumer side of a delivery, as the cursor sees it. */
export interface Holder {
  readonly id: string;
  inFlight: number;
}

export interface Flight {
  holder: Holder;
  /** Deliveries so far, this one included. */
  count: number;
  /** Delivery batch: ties the flight to its deadline entry. */
  tag: number;
}

export interface Deadline {
  at: number;
  tag: number;
  seqs: number[];
}

/** What a checkpoint stores of a cursor. */
export interface CursorState {
  /** Every seq below is done. */
  f: number;
  /** Done seqs at or above f, as ranges. */
  d: [number, number][];
  /** Next never-delivered seq. */
  n: number;
  /** Delivery counts ≥ 2 of seqs not done (in flight or waiting for redelivery). */
  c: [number, number][];
}

export class Cursor {
  readonly log: PartitionLog;
  /** Counts in Entry.need: the log keeps what this cursor has not finished. */
  readonly retaining: boolean;
  nextNew: number;
  floor: number;
  readonly done = new Set<number>();
  readonly inFlight = new Map<number, Flight>();
  readonly retry = new MinHeap();
  /** seq → deliveries so far, for seqs waiting in `retry`. */
  readonly counts = new Map<number, number>();
  readonly deadlines = new Fifo<Deadline>();
  dirty = false;

  constructor(log: PartitionLog, retaining: boolean, start: number) {
    this.log = log;
    this.retaining = retaining;
    this.nextNew = start;
    this.floor = start;
  }

  hasWork(): boolean {
    return this.retry.size > 0 || this.nextNew < this.log.ready;
  }

  /** Ready messages: redeliveries first (lowest seq first), then new ones. */
  waiting(): number {
    return this.retry.size + Math.max(0, this.log.next - this.nextNew);
  }

  isDone(seq: number): boolean {
    return seq < this.floor || this.done.has(seq);
  }

  /** Marks seq done; advances the floor over contiguous done seqs. */
  markDone(seq: number): void {
    if (seq < this.floor) return;
    this.dirty = true;
    this.counts.delete(seq);
    if (seq === this.floor) {
      this.floor++;
      while (this.done.delete(this.floor)) this.floor++;
    } else this.done.add(seq);
  }

  /** Queue seq for redelivery after `count` deliveries. */
  requeue(seq: number, count: number): void {
    this.counts.set(seq, count);
    this.retry.push(seq);
    this.dirty = true;
  }

  state(): CursorState {
    const c: [number, number][] = [];
    for (const [s, f] of this.inFlight) if (f.count >= 2) c.push([s, f.count]);
    for (const [s, n] of this.counts) if (n >= 2) c.push([s, n]);
    return { f: this.floor, d: toRanges([...this.done].sort((a, b) => a - b)), n: this.nextNew, c };
  }
}
