// The hash pool: at most `concurrency` tasks at once, a bounded queue that
// answers UNAVAILABLE when full, and queued work skipped when its caller left.
import assert from 'node:assert/strict';
import { HashPool } from '../../../services/auth/src/hash-pool.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('auth: hash pool', function () {
  it('runs at most `concurrency` tasks and queues the rest in order', async function () {
    const pool = new HashPool({ concurrency: 2, maxQueue: 10 });
    const gates = Array.from({ length: 4 }, deferred);
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      pool.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await Promise.resolve();
    assert.deepEqual(started, [0, 1]);
    assert.equal(pool.active, 2);
    assert.equal(pool.waiting, 2);
    gates[1]!.resolve();
    assert.equal(await runs[1], 1);
    assert.deepEqual(started, [0, 1, 2]);
    gates[0]!.resolve();
    gates[2]!.resolve();
    gates[3]!.resolve();
    assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3]);
    assert.equal(pool.active, 0);
  });

  it('answers UNAVAILABLE at once when the queue is full', async function () {
    const pool = new HashPool({ concurrency: 1, maxQueue: 1 });
    const gate = deferred();
    const a = pool.run(() => gate.promise);
    const b = pool.run(async () => 'b');
    await assert.rejects(
      pool.run(async () => 'c'),
      {
        code: 'UNAVAILABLE',
        message: 'too many password checks in progress; retry in a few seconds',
      },
    );
    gate.resolve();
    await a;
    assert.equal(await b, 'b');
  });

  it('skips queued work whose caller gave up, and frees the slot for the next', async function () {
    const pool = new HashPool({ concurrency: 1, maxQueue: 5 });
    const gate = deferred();
    let cancelled = false;
    let ranCancelled = false;
    const a = pool.run(() => gate.promise);
    const b = pool.run(
      async () => {
        ranCancelled = true;
      },
      () => cancelled,
    );
    const c = pool.run(async () => 'c');
    cancelled = true;
    gate.resolve();
    await a;
    await assert.rejects(b, { code: 'CANCELLED' });
    assert.equal(await c, 'c');
    assert.equal(ranCancelled, false);
    await assert.rejects(
      pool.run(
        async () => 'x',
        () => true,
      ),
      { code: 'CANCELLED' },
    );
    assert.equal(pool.active, 0);
  });

  it('frees the slot when a task fails', async function () {
    const pool = new HashPool({ concurrency: 1, maxQueue: 1 });
    await assert.rejects(
      pool.run(() => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(await pool.run(async () => 'ok'), 'ok');
  });
});
