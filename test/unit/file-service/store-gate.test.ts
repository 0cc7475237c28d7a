import assert from 'node:assert/strict';
import { StoreGate } from '../../../services/file-service/src/store-gate.js';

describe('file-service: StoreGate', function () {
  it('runs at most `limit` operations at once, the rest in arrival order', async function () {
    const gate = new StoreGate(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const releases: (() => void)[] = [];
    const runs = Array.from({ length: 5 }, (_, i) =>
      gate.run(async () => {
        active++;
        peak = Math.max(peak, active);
        order.push(i);
        await new Promise<void>((r) => releases.push(r));
        active--;
        return i;
      }),
    );
    const settled = Promise.all(runs);
    // Release whatever is running, one at a time, until all five have run.
    while (order.length < 5 || releases.length > 0) {
      await new Promise((r) => setImmediate(r));
      releases.shift()?.();
    }
    assert.deepEqual(await settled, [0, 1, 2, 3, 4]);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(peak, 2);
  });

  it('frees the slot when an operation fails', async function () {
    const gate = new StoreGate(1);
    await assert.rejects(
      gate.run(() => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(await gate.run(() => Promise.resolve(7)), 7);
  });
});
