// The work queue: dedupe, one run per key at a time, reruns after events that
// arrived mid-run, backoff on failure, requeue-after.
import assert from 'node:assert/strict';
import { WorkQueue, type HandlerResult } from '../../../operator/src/controller/work-queue.js';
import { waitFor } from '../../support/wait.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('operator work queue', function () {
  it('runs a key queued several times once', async function () {
    const runs: string[] = [];
    const q = new WorkQueue({ workers: 2, handle: async (k) => (runs.push(k), {}) });
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    q.start();
    await waitFor('runs', () => runs.length === 2);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(runs.sort(), ['a', 'b']);
    await q.stop();
  });

  it('never runs one key twice at once, and reruns it when it was added meanwhile', async function () {
    let running = 0;
    let max = 0;
    let runs = 0;
    const gate = deferred();
    const q = new WorkQueue({
      workers: 4,
      handle: async () => {
        running++;
        max = Math.max(max, running);
        runs++;
        if (runs === 1) await gate.promise;
        running--;
        return {};
      },
    });
    q.start();
    q.add('k');
    await waitFor('first run', () => runs === 1);
    q.add('k');
    q.add('k');
    gate.resolve();
    await waitFor('the rerun', () => runs === 2);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(runs, 2);
    assert.equal(max, 1);
    await q.stop();
  });

  it('retries a failing key with growing delays, and resets after success', async function () {
    const at: number[] = [];
    const q = new WorkQueue({
      workers: 1,
      backoff: { baseMs: 20, maxMs: 1000, jitter: 0 },
      handle: async (): Promise<HandlerResult> => {
        at.push(Date.now());
        if (at.length < 4) throw new Error('transient');
        return {};
      },
    });
    q.start();
    q.add('k');
    await waitFor('the fourth attempt', () => at.length === 4, { timeoutMs: 2000 });
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    assert.ok(gaps[0]! >= 15 && gaps[1]! >= 35 && gaps[2]! >= 75, `gaps ${gaps.join(',')}`);
    await q.stop();
  });

  it('retries conflicts quickly without counting them as failures', async function () {
    let n = 0;
    const errors: number[] = [];
    const q = new WorkQueue({
      workers: 1,
      backoff: { baseMs: 10_000, maxMs: 10_000 },
      isQuickRetry: (err) => (err as Error).message === 'conflict',
      onError: (_k, _e, delay) => errors.push(delay),
      handle: async () => {
        if (++n < 3) throw new Error('conflict');
        return {};
      },
    });
    q.start();
    q.add('k');
    await waitFor('success after conflicts', () => n === 3, { timeoutMs: 2000 });
    assert.deepEqual(errors, [100, 100]);
    await q.stop();
  });

  it('requeues after the delay a handler asks for', async function () {
    let n = 0;
    const q = new WorkQueue({ workers: 1, handle: async () => (++n === 1 ? { requeueAfterMs: 30 } : {}) });
    q.start();
    q.add('k');
    await waitFor('the requeued run', () => n === 2, { timeoutMs: 1000 });
    await q.stop();
  });

  it('stop() waits for running handlers', async function () {
    const gate = deferred();
    let done = false;
    const q = new WorkQueue({
      workers: 1,
      handle: async () => {
        await gate.promise;
        done = true;
        return {};
      },
    });
    q.start();
    q.add('k');
    await new Promise((r) => setTimeout(r, 5));
    const stopped = q.stop();
    gate.resolve();
    await stopped;
    assert.equal(done, true);
  });
});
