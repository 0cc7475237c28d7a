// Waiting for a condition with a deadline: the only synchronisation tests use
// (never fixed sleeps). On timeout the error names what was awaited and the last
// failure seen, so a red test says why.

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

export class WaitTimeoutError extends Error {
  constructor(what: string, timeoutMs: number, lastError?: unknown) {
    const last = lastError instanceof Error ? lastError.message : lastError === undefined ? '' : String(lastError);
    super(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    this.name = 'WaitTimeoutError';
  }
}

/** Thrown from a check to stop waiting at once (e.g. the awaited process died). */
export class GiveUp extends Error {
  override name = 'GiveUp';
}

/**
 * Polls `check` until it returns a value other than undefined/null/false, or
 * throws WaitTimeoutError. null counts as "not yet" because a store lookup
 * answers null for "not there" (findOne): taking it for success once made a
 * test proceed before the state it waited for existed.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      if (err instanceof GiveUp) throw new Error(`Gave up waiting for ${what}: ${err.message}`, { cause: err });
      lastError = err;
    }
    if (Date.now() >= deadline) throw new WaitTimeoutError(what, timeoutMs, lastError);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
