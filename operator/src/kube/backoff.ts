// Exponential backoff with jitter: after failures, wait base·2^n (capped), with
// ±20% jitter so many watchers or keys do not retry in lockstep.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** 0..1, default 0.2. */
  jitter?: number;
}

/** Delay before retry number `failures` (1 = first retry). */
export function backoffDelay(failures: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, failures - 1));
  const j = opts.jitter ?? 0.2;
  return Math.round(exp * (1 - j + 2 * j * random()));
}

/** Resolves after `ms`, or early (without error) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
