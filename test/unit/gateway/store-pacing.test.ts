// Store pacing: the semaphore's limit and its urgent lane, and the coalescing
// writer (one write per key in flight, newer values replace queued ones).
import assert from 'node:assert/strict';
import { CoalescingWriter, Semaphore } from '../../../services/gateway/src/store-pacing.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('store pacing', function () {
  it('runs at most `limit` at once and lets urgent work go first', async function () {
    const s = new Semaphore(1);
    const order: string[] = [];
    let release!: () => void;
    const first = s.run(() => new Promise<void>((r) => (release = r)));
    const normal = s.run(async () => void order.push('bookkeeping'));
    const urgent = s.run(async () => void order.push('send'), true);
    await tick();
    assert.deepEqual(order, []);
    release();
    await Promise.all([first, normal, urgent]);
    assert.deepEqual(order, ['send', 'bookkeeping']);
  });

  it('coalesces queued writes per key and reports when the newest is written', async function () {
    const errors: unknown[] = [];
    const w = new CoalescingWriter(1, (e) => errors.push(e));
    const written: string[] = [];
    let release!: () => void;
    const blocker = w.submit('other', () => new Promise<void>((r) => (release = r)));
    const a = w.submit('cursor', async () => void written.push('v1'));
    const b = w.submit('cursor', async () => void written.push('v2'));
    const c = w.submit('cursor', async () => void written.push('v3'));
    assert.equal(w.backlog, 1);
    release();
    await Promise.all([blocker, a, b, c]);
    assert.deepEqual(written, ['v3'], 'only the newest queued value is written');
    await w.submit('bad', () => Promise.reject(new Error('store down')));
    assert.equal(errors.length, 1, 'failures are reported, not thrown');
    await w.drained();
  });
});
