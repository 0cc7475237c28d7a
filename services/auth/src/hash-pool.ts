// Bounds concurrent password hashes. Each scrypt hash takes ~128 MiB and a
// core for a few hundred ms; unbounded, a login flood would exhaust memory and
// starve libuv's thread pool (which the store driver's DNS lookups share).
// Work beyond `concurrency` waits in a bounded queue; a full queue answers
// UNAVAILABLE at once (retry later), and work whose caller gave up is skipped.
import { PlatformError } from '../../runtime/src/errors.js';

export interface HashPoolOptions {
  concurrency: number;
  maxQueue: number;
}

interface Waiter {
  start: () => void;
  isCancelled: () => boolean;
  cancel: () => void;
}

export class HashPool {
  private running = 0;
  private readonly queue: Waiter[] = [];

  constructor(private readonly opts: HashPoolOptions) {}

  get active(): number {
    return this.running;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Runs `task` when a slot is free. `isCancelled` is checked before starting (caller left or deadline passed). */
  async run<T>(task: () => Promise<T>, isCancelled: () => boolean = () => false): Promise<T> {
    if (this.running >= this.opts.concurrency) {
      if (this.queue.length >= this.opts.maxQueue) {
        throw new PlatformError('UNAVAILABLE', 'too many password checks in progress; retry in a few seconds');
      }
      await new Promise<void>((resolve, reject) =>
        this.queue.push({
          start: resolve,
          isCancelled,
          cancel: () => reject(new PlatformError('CANCELLED', 'the call was cancelled while waiting')),
        }),
      );
    } else {
      if (isCancelled()) throw new PlatformError('CANCELLED', 'the call was cancelled while waiting');
      this.running++;
    }
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Hands the slot to the next waiter that still wants it (the slot count stays the same). */
  private release(): void {
    for (let w = this.queue.shift(); w; w = this.queue.shift()) {
      if (w.isCancelled()) {
        w.cancel();
        continue;
      }
      w.start();
      return;
    }
    this.running--;
  }
}
