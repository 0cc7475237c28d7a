// Brute-force throttling decisions (pure; throttle-store.ts keeps the state).
// Each key (an account, a client address) has the times of its failed logins
// in the last hour. The first `freeFailures` cost nothing; after that each
// attempt must wait `baseDelayMs · 2^(failures − freeFailures)` (capped at
// `maxDelayMs`) after the latest failure — a soft lockout that lifts by
// itself. `maxFailures` per window is a hard cap on top. With the account
// defaults (5 free, 1 s doubling to 15 min) an attacker who retries the moment
// each delay ends gets ~18 guesses per hour per account, well under the cap of 100.

export interface ThrottlePolicy {
  /** What is throttled, for the refusal message. */
  subject: 'account' | 'address';
  windowMs: number;
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxFailures: number;
}

export type Decision = { allowed: true } | { allowed: false; retryAfterMs: number };

export const HOUR = 3_600_000;
/** The bound: never more than this many failures per hour per account. */
export const MAX_FAILURES_PER_HOUR = 100;

export function accountPolicy(o: { freeFailures: number; baseDelayMs: number; maxDelayMs: number }): ThrottlePolicy {
  return { subject: 'account', windowMs: HOUR, maxFailures: MAX_FAILURES_PER_HOUR, ...o };
}

/**
 * Per address: four times the account's free failures (many users share a NAT
 * or a carrier-grade address), same delays, and a cap that still stops one
 * address from spraying one password over thousands of accounts.
 */
export function addressPolicy(account: ThrottlePolicy): ThrottlePolicy {
  return { ...account, subject: 'address', freeFailures: account.freeFailures * 4, maxFailures: 1000 };
}

/** Failures still inside the window, oldest first. */
export function recentFailures(failures: readonly number[], now: number, p: ThrottlePolicy): number[] {
  return failures.filter((t) => t > now - p.windowMs && t <= now + p.windowMs).sort((a, b) => a - b);
}

/** The wait required after the n-th failure (0 while n is within the free failures). */
export function delayAfter(n: number, p: ThrottlePolicy): number {
  if (n < p.freeFailures) return 0;
  const exp = n - p.freeFailures;
  // 2^exp overflows to Infinity for large exp; min() keeps the cap.
  return Math.min(p.baseDelayMs * 2 ** Math.min(exp, 52), p.maxDelayMs);
}

/** May an attempt start now? */
export function decide(failures: readonly number[], now: number, p: ThrottlePolicy): Decision {
  const f = recentFailures(failures, now, p);
  const n = f.length;
  if (n >= p.maxFailures) {
    // Allowed again when enough old failures have left the window.
    return { allowed: false, retryAfterMs: Math.max(1, f[n - p.maxFailures]! + p.windowMs - now) };
  }
  if (n > 0) {
    const until = f[n - 1]! + delayAfter(n, p);
    if (now < until) return { allowed: false, retryAfterMs: until - now };
  }
  return { allowed: true };
}

/** The failure list after one more failure at `now` (pruned and bounded, so documents stay small). */
export function withFailure(failures: readonly number[], now: number, p: ThrottlePolicy): number[] {
  const f = recentFailures(failures, now, p);
  f.push(now);
  return f.slice(-p.maxFailures);
}

export function formatWait(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 120) return `${s} s`;
  return `${Math.ceil(s / 60)} min`;
}

export function refusalMessage(p: ThrottlePolicy, retryAfterMs: number): string {
  const who = p.subject === 'account' ? 'for this account' : 'from this network address';
  return `too many failed logins ${who}; try again in ${formatWait(retryAfterMs)}`;
}
