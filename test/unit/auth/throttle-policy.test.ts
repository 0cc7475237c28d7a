// Throttle decisions (pure): free failures, growing delays, the cap, the
// window, and the promise that an attacker who retries the instant each
// delay ends never gets more than 100 failures per hour on one account.
import assert from 'node:assert/strict';
import {
  HOUR,
  MAX_FAILURES_PER_HOUR,
  accountPolicy,
  addressPolicy,
  decide,
  delayAfter,
  formatWait,
  recentFailures,
  refusalMessage,
  withFailure,
} from '../../../services/auth/src/throttle-policy.js';

const T0 = 1_700_000_000_000;
const account = accountPolicy({ freeFailures: 5, baseDelayMs: 1000, maxDelayMs: 15 * 60_000 });

describe('auth: throttle policy', function () {
  it('delays nothing for the free failures, then doubles up to the maximum', function () {
    const delays = Array.from({ length: 18 }, (_, n) => delayAfter(n, account));
    assert.deepEqual(delays.slice(0, 5), [0, 0, 0, 0, 0]);
    assert.deepEqual(delays.slice(5, 12), [1000, 2000, 4000, 8000, 16_000, 32_000, 64_000]);
    assert.equal(delays[15], 15 * 60_000, 'capped');
    assert.equal(delayAfter(10_000, account), 15 * 60_000, 'no overflow');
  });

  const cases: [string, number[], number, ReturnType<typeof decide>][] = [
    ['no failures', [], T0, { allowed: true }],
    ['four failures just now', [T0, T0, T0, T0], T0, { allowed: true }],
    [
      'five failures: wait 1 s after the last',
      [T0 - 9, T0 - 8, T0 - 7, T0 - 6, T0 - 5],
      T0,
      { allowed: false, retryAfterMs: 995 },
    ],
    ['five failures, 1 s later', [T0, T0, T0, T0, T0], T0 + 1000, { allowed: true }],
    ['seven failures: wait 4 s', Array<number>(7).fill(T0), T0 + 3000, { allowed: false, retryAfterMs: 1000 }],
    ['failures older than the window do not count', Array<number>(50).fill(T0 - HOUR - 1), T0, { allowed: true }],
    ['failures in the future (clock skew) are ignored beyond a window', [T0 + 2 * HOUR], T0, { allowed: true }],
  ];

  for (const [what, failures, now, want] of cases) {
    it(`decides: ${what}`, function () {
      assert.deepEqual(decide(failures, now, account), want);
    });
  }

  it('enforces the hard cap until the oldest counted failure leaves the window', function () {
    const p = { ...account, maxDelayMs: 0 }; // no delays: only the cap can refuse
    const failures = Array.from({ length: MAX_FAILURES_PER_HOUR }, (_, i) => T0 + i * 1000);
    const now = T0 + MAX_FAILURES_PER_HOUR * 1000;
    assert.deepEqual(decide(failures, now, p), { allowed: false, retryAfterMs: T0 + HOUR - now });
    assert.deepEqual(decide(failures, T0 + HOUR + 1, p), { allowed: true });
  });

  function maxFailuresInAnyHour(p: typeof account, hours: number): number {
    // The most aggressive attacker: tries at the first allowed millisecond, always fails.
    let failures: number[] = [];
    const all: number[] = [];
    let t = T0;
    while (t < T0 + hours * HOUR) {
      const d = decide(failures, t, p);
      if (d.allowed) {
        failures = withFailure(failures, t, p);
        all.push(t);
      } else t += d.retryAfterMs;
    }
    let worst = 0;
    for (let i = 0, j = 0; i < all.length; i++) {
      while (all[i]! - all[j]! >= HOUR) j++;
      worst = Math.max(worst, i - j + 1);
    }
    return worst;
  }

  it('caps an always-failing attacker far below 100 failures per hour with the defaults', function () {
    const worst = maxFailuresInAnyHour(account, 6);
    assert.ok(worst <= MAX_FAILURES_PER_HOUR, `worst hour had ${worst}`);
    assert.ok(worst <= 20, `defaults allow about 18 guesses per hour, got ${worst}`);
  });

  it('never exceeds 100 failures per hour even with the most lenient settings', function () {
    const lenient = accountPolicy({ freeFailures: 50, baseDelayMs: 100, maxDelayMs: 1000 });
    assert.equal(maxFailuresInAnyHour(lenient, 3), MAX_FAILURES_PER_HOUR);
  });

  it('per address allows four times the free failures and a higher cap', function () {
    const addr = addressPolicy(account);
    assert.equal(addr.subject, 'address');
    assert.equal(addr.freeFailures, 20);
    assert.equal(addr.maxFailures, 1000);
    assert.deepEqual(decide(Array<number>(19).fill(T0), T0, addr), { allowed: true });
    assert.equal(decide(Array<number>(20).fill(T0), T0, addr).allowed, false);
  });

  it('keeps failure lists pruned and bounded', function () {
    const f = withFailure([T0 - HOUR - 5, T0 - 10], T0, account);
    assert.deepEqual(f, [T0 - 10, T0]);
    assert.equal(withFailure(Array<number>(200).fill(T0), T0, account).length, MAX_FAILURES_PER_HOUR);
    assert.deepEqual(recentFailures([5, 3, 4], 10, account), [3, 4, 5]);
  });

  it('words refusals clearly', function () {
    assert.equal(formatWait(1), '1 s');
    assert.equal(formatWait(61_000), '61 s');
    assert.equal(formatWait(15 * 60_000), '15 min');
    assert.equal(refusalMessage(account, 8000), 'too many failed logins for this account; try again in 8 s');
    assert.equal(
      refusalMessage(addressPolicy(account), 600_000),
      'too many failed logins from this network address; try again in 10 min',
    );
  });
});
