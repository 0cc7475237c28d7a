// The work queue between watch events and reconciles, after client-go's: a key
// (namespace/name) is queued at most once; a key is handled by one worker at a
// time — an event that arrives meanwhile runs it again afterwards; failures
// retry with per-key exponential backoff; a key counts as handled only when its
// handler succeeded.
import { backoffDelay, type BackoffOptions } from '../kube/backoff.js';

export interface HandlerResult {
  /** Run this key again after this long (e.g. to re-check an external reference). */
  requeueAfterMs?: number;
}

export interface WorkQueueOptions {
  workers: number;
  handle(key: string): Promise<HandlerResult>;
  /** Failed handler → retry after backoff (default 500 ms doubling up to 5 min). */
  backoff?: BackoffOptions;
  /** A handler error for which to retry soon without counting a failure (e.g. a write conflict). */
  isQuickRetry?(err: unknown): boolean;
  onError?(key: string, err: unknown, retryInMs: number): void;
  onDepth?(depth: number): void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  /** Keys added while active: run again when the current run ends. */
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly idleWaiters: (() => void)[] = [];
  private running = 0;
  private stopped = true;

  constructor(private readonly opts: WorkQueueOptions) {}

  get depth(): number {
    return this.queue.length;
  }

  start(): void {
    this.stopped = false;
    this.pump();
  }

  /** Stops taking keys and resolves when the running handlers have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    if (this.running === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Queue `key`, now or after `delayMs` (the earliest requested time wins). */
  add(key: string, delayMs = 0): void {
    if (delayMs > 0) {
      const at = Date.now() + delayMs;
      const cur = this.timers.get(key);
      if (cur && cur.at <= at) return;
      if (cur) clearTimeout(cur.timer);
      const timer = setTimeout(() => {
        this.timers.delete(key);
        this.add(key);
      }, delayMs);
      timer.unref();
      this.timers.set(key, { at, timer });
      return;
    }
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.opts.onDepth?.(this.queue.length);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.running < this.opts.workers && this.queue.length > 0) {
      const key = this.queue.shift() as string;
      this.queued.delete(key);
      this.opts.onDepth?.(this.queue.length);
      this.active.add(key);
      this.running++;
      void this.runKey(key);
    }
  }

  private async runKey(key: string): Promise<void> {
    try {
      const result = await this.opts.handle(key);
      this.failures.delete(key);
      if (result.requeueAfterMs !== undefined) this.add(key, result.requeueAfterMs);
    } catch (err) {
      let delay: number;
      if (this.opts.isQuickRetry?.(err)) {
        delay = 100;
      } else {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        delay = backoffDelay(n, this.opts.backoff ?? { baseMs: 500, maxMs: 5 * 60_000 });
      }
      this.opts.onError?.(key, err, delay);
      if (!this.stopped) this.add(key, delay);
    } finally {
      this.active.delete(key);
      this.running--;
      if (this.dirty.delete(key) && !this.stopped) this.add(key);
      if (this.running === 0 && this.stopped) for (const w of this.idleWaiters.splice(0)) w();
      this.pump();
    }
  }
}
