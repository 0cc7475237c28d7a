// Requests submitted while batches are in flight leave together; answers go
// back to their callers in order; a failed or malformed batch rejects exactly
// its own callers and the batcher goes on.
import assert from 'node:assert/strict';
import { CallBatcher } from '../../../services/runtime/src/call-batcher.js';

interface Gate {
  requests: number[];
  answer(results: unknown): void;
  fail(err: Error): void;
}

/** A batch function the test answers by hand. */
function gated(): { calls: Gate[]; fn: (qs: number[]) => Promise<string[]> } {
  const calls: Gate[] = [];
  return {
    calls,
    fn: (requests) =>
      new Promise<string[]>((resolve, reject) =>
        calls.push({ requests, answer: (r) => resolve(r as string[]), fail: reject }),
      ),
  };
}

/** Two turns of the event loop: the batcher sends at the end of the turn after an answer settles. */
const tick = async (): Promise<void> => {
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
};

describe('CallBatcher', function () {
  it('sends a lone request after one turn of the event loop, in a batch of one', async function () {
    const g = gated();
    const b = new CallBatcher(g.fn);
    const p = b.submit(7);
    assert.equal(g.calls.length, 0);
    await tick();
    assert.deepEqual(
      g.calls.map((c) => c.requests),
      [[7]],
    );
    g.calls[0]!.answer(['seven']);
    assert.equal(await p, 'seven');
  });

  it('sends the requests of one turn together', async function () {
    const g = gated();
    const b = new CallBatcher(g.fn);
    const ps = [1, 2, 3].map((n) => b.submit(n));
    await tick();
    assert.deepEqual(
      g.calls.map((c) => c.requests),
      [[1, 2, 3]],
    );
    g.calls[0]!.answer(['a', 'b', 'c']);
    assert.deepEqual(await Promise.all(ps), ['a', 'b', 'c']);
  });

  it('holds requests while `concurrency` batches are in flight, then sends them together, answers in order', async function () {
    const g = gated();
    const b = new CallBatcher(g.fn, { concurrency: 1 });
    const first = b.submit(1);
    await tick();
    const rest = [2, 3, 4].map((n) => b.submit(n));
    await tick();
    assert.equal(g.calls.length, 1);
    assert.equal(b.queued, 3);
    g.calls[0]!.answer(['one']);
    assert.equal(await first, 'one');
    await tick();
    assert.deepEqual(g.calls[1]!.requests, [2, 3, 4]);
    g.calls[1]!.answer(['two', 'three', 'four']);
    assert.deepEqual(await Promise.all(rest), ['two', 'three', 'four']);
  });

  it('keeps two batches in flight by default and caps a batch at maxBatch', async function () {
    const g = gated();
    const b = new CallBatcher(g.fn, { maxBatch: 2 });
    const ps = [1, 2, 3, 4, 5, 6, 7].map((n) => b.submit(n));
    await tick();
    assert.deepEqual(
      g.calls.map((c) => c.requests),
      [
        [1, 2],
        [3, 4],
      ],
    );
    g.calls[0]!.answer(['a', 'b']);
    await tick();
    assert.deepEqual(g.calls[2]!.requests, [5, 6]);
    g.calls[1]!.answer(['c', 'd']);
    await tick();
    assert.deepEqual(g.calls[3]!.requests, [7]);
    g.calls[2]!.answer(['e', 'f']);
    g.calls[3]!.answer(['g']);
    assert.deepEqual(await Promise.all(ps), ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  });

  it('rejects every caller of a failed batch with its error, and serves the next batch', async function () {
    const g = gated();
    const b = new CallBatcher(g.fn, { concurrency: 1 });
    const failed = [b.submit(1)];
    await tick();
    const next = b.submit(2);
    g.calls[0]!.fail(new Error('UNAVAILABLE: unit down'));
    await assert.rejects(failed[0]!, /UNAVAILABLE: unit down/);
    await tick();
    g.calls[1]!.answer(['two']);
    assert.equal(await next, 'two');
  });

  it('rejects a batch answered with the wrong number of results, naming both counts', async function () {
    const g = gated();
    const b = new CallBatcher(g.fn, { concurrency: 1 });
    const a = b.submit(1);
    await tick();
    const rest = [b.submit(2), b.submit(3)];
    g.calls[0]!.answer(['one']);
    await a;
    await tick();
    g.calls[1]!.answer(['only one']);
    for (const p of rest) await assert.rejects(p, { message: 'a batch of 2 requests got 1 answers' });
  });

  it('rejects callers when the batch function throws instead of returning a promise', async function () {
    const b = new CallBatcher<number, string>(() => {
      throw new Error('bad request shape');
    });
    await assert.rejects(b.submit(1), { message: 'bad request shape' });
    await assert.rejects(b.submit(2), { message: 'bad request shape' });
  });
});
