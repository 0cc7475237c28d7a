// Single requests that travel together: callers submit one request each; they
// go out in batches through a function that answers a whole batch in order
// (e.g. one gRPC call of `nearbyMany`). Requests submitted in the same turn of
// the event loop leave together at its end (a lone request: after one turn);
// requests submitted while `concurrency` batches are in flight wait and leave
// together with the next one. Under load a handful of calls carries many requests, so
// the per-call cost (HTTP/2 frames, headers, protobuf envelopes, one fan-out to
// every peer) is paid once per batch; when idle nothing waits.

interface Pending<Q, R> {
  request: Q;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

export interface CallBatcherOptions {
  /** Requests per batch at most (the rest go in the next). Default 64. */
  maxBatch?: number;
  /** Batches in flight at once. Default 2: one is answered while the next is worked on. */
  concurrency?: number;
}

export class CallBatcher<Q, R> {
  private queue: Pending<Q, R>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly concurrency: number;

  constructor(
    /** Answers every request of a batch, in the order given. */
    private readonly call: (requests: Q[]) => Promise<R[]>,
    opts: CallBatcherOptions = {},
  ) {
    this.maxBatch = Math.max(1, opts.maxBatch ?? 64);
    this.concurrency = Math.max(1, opts.concurrency ?? 2);
  }

  submit(request: Q): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.schedule();
    });
  }

  /** Requests waiting for a batch (metrics, tests). */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Sends at the end of this turn, not at once: callers answered by one batch
   * usually submit their next requests in the same turn (in the microtasks
   * after the answer), and those should travel together.
   */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.concurrency || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.next();
    });
  }

  private next(): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      let answer: Promise<R[]>;
      try {
        answer = this.call(batch.map((p) => p.request));
      } catch (err) {
        answer = Promise.reject(err);
      }
      answer
        .then((results) => {
          if (!Array.isArray(results) || results.length !== batch.length) {
            const got = Array.isArray(results) ? results.length : typeof results;
            throw new Error(`a batch of ${batch.length} requests got ${got} answers`);
          }
          batch.forEach((p, i) => p.resolve(results[i]!));
        })
        .catch((err: unknown) => {
          for (const p of batch) p.reject(err);
        })
        .finally(() => {
          this.inFlight--;
          this.schedule();
        });
    }
  }
}
