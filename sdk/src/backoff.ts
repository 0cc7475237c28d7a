// Reconnect delays: exponential with "full jitter" (a uniformly random delay
// up to the exponential bound), so a fleet of devices that lost the same
// gateway does not come back in lock-step.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Random source in [0, 1) (tests pass a fixed one). */
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 30_000 };

/** Delay before reconnect attempt `attempt` (0-based). */
export function backoffDelay(attempt: number, o: BackoffOptions = DEFAULT_BACKOFF): number {
  const cap = Math.min(o.maxMs, o.initialMs * 2 ** Math.min(attempt, 30));
  const r = (o.random ?? Math.random)();
  // Never below a small floor: a zero delay would hammer a gateway that refuses at once.
  return Math.max(Math.min(o.initialMs, 50), Math.floor(r * cap));
}
