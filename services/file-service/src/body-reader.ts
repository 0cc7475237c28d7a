// Pulls a request body one piece at a time, with backpressure (the socket is
// paused while the caller writes to the store) and a progress deadline: if the
// client delivers less than MIN_PROGRESS_BYTES within `windowMs` of *waiting
// for the client* — time spent waiting on the store does not count — the read
// fails with 408. That catches both a silent client and a slow drip that an
// idle timer alone would let through, without ever blaming a slow store on the
// client.
import type { IncomingMessage } from 'node:http';
import { bodyTimeout } from './http-error.js';

export const MIN_PROGRESS_BYTES = 1024;

/** The client went away mid-body: there is nobody left to answer. */
export class ClientGone extends Error {
  override name = 'ClientGone';
}

export class BodyReader {
  /** Bytes handed out so far. */
  bytes = 0;
  private readonly queue: Buffer[] = [];
  private ended = false;
  private failure: Error | undefined;
  private waiter: { resolve: (b: Buffer | null) => void; reject: (e: Error) => void } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private waitStart = 0;
  private waitedMs = 0;
  private windowBytes = 0;

  constructor(
    private readonly req: IncomingMessage,
    private readonly windowMs: number,
  ) {
    req.pause();
    req.on('data', (b: Buffer) => {
      req.pause();
      this.queue.push(b);
      this.progress(b.length);
      this.wake();
    });
    req.on('end', () => {
      this.ended = true;
      this.wake();
    });
    req.on('error', () => this.fail(new ClientGone('client aborted the request')));
    req.on('close', () => {
      if (!this.ended) this.fail(new ClientGone('client closed the connection mid-body'));
    });
  }

  /** True once the whole body has been received. */
  get complete(): boolean {
    return this.ended && this.queue.length === 0;
  }

  get timedOut(): boolean {
    return this.failure !== undefined && !(this.failure instanceof ClientGone);
  }

  /** The next piece of the body, or null at its end. Throws 408 or ClientGone. */
  next(): Promise<Buffer | null> {
    const b = this.queue.shift();
    if (b) {
      this.bytes += b.length;
      return Promise.resolve(b);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.waitStart = Date.now();
      this.timer = setTimeout(() => this.fail(bodyTimeout()), Math.max(0, this.windowMs - this.waitedMs));
      this.req.resume();
    });
  }

  private progress(n: number): void {
    if (this.waiter) {
      const now = Date.now();
      this.waitedMs += now - this.waitStart;
      this.waitStart = now;
    }
    this.windowBytes += n;
    if (this.windowBytes >= MIN_PROGRESS_BYTES) {
      this.windowBytes = 0;
      this.waitedMs = 0;
    }
  }

  private fail(err: Error): void {
    if (this.failure || this.ended) return;
    this.failure = err;
    this.req.pause();
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    if (!w || (this.queue.length === 0 && !this.failure && !this.ended)) return;
    this.waiter = undefined;
    clearTimeout(this.timer);
    const b = this.queue.shift();
    if (b) {
      this.bytes += b.length;
      w.resolve(b);
    } else if (this.failure) w.reject(this.failure);
    else w.resolve(null);
  }
}
