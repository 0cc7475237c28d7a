// A FIFO limit on concurrent chunk writes per process. Without it, a hundred
// uploads each keep an insert outstanding and the store decides who goes next:
// FerretDB on SQLite (and, less so, a busy MongoDB primary) was unfair under
// that contention and can starve one upload for minutes — long enough for
// nginx's send timeout to fail it. Queued here, every upload advances in turn
// and total throughput is unchanged (the store was the bottleneck anyway).

export class StoreGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  async run<T>(op: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await op();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** Chunk writes in flight per process: enough to keep a store busy, few enough to stay fair. */
export const STORE_WRITE_CONCURRENCY = 32;
