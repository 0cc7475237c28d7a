// Pacing the store: FerretDB (and a busy MongoDB) answers a few point reads or
// updates at a time well and collapses under hundreds in parallel (measured on
// FerretDB 1.x: 100 parallel $max updates run at a third of the sequential
// rate). Background work therefore goes through a small semaphore, and
// bookkeeping writes (delivery cursors, sequence hints) through a coalescing
// writer: a newer value for the same key replaces one not yet written.

export class Semaphore {
  private active = 0;
  private readonly urgent: (() => void)[] = [];
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Callers waiting for a slot (metrics). */
  get queued(): number {
    return this.urgent.length + this.waiting.length;
  }

  /**
   * Runs fn when a slot is free. `urgent` work (what a device waits for: storing
   * a send, starting a session) goes before queued bookkeeping (cursors, hints).
   */
  async run<T>(fn: () => Promise<T>, urgent = false): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => (urgent ? this.urgent : this.waiting).push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.urgent.shift() ?? this.waiting.shift();
      // The slot passes straight to the next waiter; only without one is it released.
      if (next) next();
      else this.active--;
    }
  }
}

interface Pending {
  write: () => Promise<void>;
  done: (() => void)[];
}

export class CoalescingWriter {
  private readonly pending = new Map<string, Pending>();
  private running = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly onError: (err: unknown, key: string) => void,
  ) {}

  /**
   * Schedules `write` for `key`; resolves once a write for the key submitted
   * at or after this one has finished (failures are reported, not thrown).
   */
  submit(key: string, write: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const p = this.pending.get(key);
      if (p) {
        p.write = write;
        p.done.push(resolve);
      } else this.pending.set(key, { write, done: [resolve] });
      this.pump();
    });
  }

  get backlog(): number {
    return this.pending.size;
  }

  /** Resolves when everything submitted so far is written. */
  drained(): Promise<void> {
    if (this.pending.size === 0 && this.running === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private pump(): void {
    while (this.running < this.concurrency && this.pending.size > 0) {
      const [key, p] = this.pending.entries().next().value as [string, Pending];
      this.pending.delete(key);
      this.running++;
      p.write()
        .catch((err: unknown) => this.onError(err, key))
        .finally(() => {
          this.running--;
          for (const d of p.done) d();
          this.pump();
          if (this.running === 0 && this.pending.size === 0) for (const r of this.idle.splice(0)) r();
        });
    }
  }
}

/** The process's pace for the store: point reads and single-document writes. */
export interface StorePace {
  reads: Semaphore;
  writes: Semaphore;
}

/**
 * Defaults measured on FerretDB 1.x with its SQLite backend: reads scaled to a
 * dozen or so in parallel; writes went fastest one or two at a time (one writer;
 * more only waited on its lock). Re-measured on PostgreSQL: docs/gateway.md.
 */
export function storePace(reads = 16, writes = 2): StorePace {
  return { reads: new Semaphore(reads), writes: new Semaphore(writes) };
}
