// Per-connection rate limit: a token bucket kept as two numbers on the
// connection (no object, no timer), refilled lazily when a frame arrives.

export interface Bucket {
  tokens: number;
  /** ms timestamp of the last refill. */
  at: number;
}

/**
 * Takes one token; returns false when the bucket is empty (the caller closes
 * the connection). `rate` tokens per second, at most `burst` stored.
 */
export function take(b: Bucket, now: number, rate: number, burst: number): boolean {
  const elapsed = now - b.at;
  if (elapsed > 0) {
    b.tokens = Math.min(burst, b.tokens + (elapsed * rate) / 1000);
    b.at = now;
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}
