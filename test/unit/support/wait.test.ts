// waitFor: what counts as "not yet", and what a timeout says.
import assert from 'node:assert/strict';
import { GiveUp, waitFor } from '../../support/wait.js';

describe('test support: waitFor', function () {
  it('keeps polling while the check answers undefined, null or false, and returns the first other value', async function () {
    const answers: unknown[] = [undefined, null, false, 0];
    let calls = 0;
    const v = await waitFor('a value', () => answers[calls++] as number | undefined, { intervalMs: 1 });
    assert.equal(v, 0);
    assert.equal(calls, 4);
  });

  it('names what it waited for and the last error on timeout', async function () {
    await assert.rejects(
      waitFor(
        'the thing',
        () => {
          throw new Error('still 404');
        },
        { timeoutMs: 30, intervalMs: 5 },
      ),
      { name: 'WaitTimeoutError', message: 'Timed out after 30 ms waiting for the thing (last error: still 404)' },
    );
  });

  it('stops at once on GiveUp', async function () {
    await assert.rejects(
      waitFor(
        'a process',
        () => {
          throw new GiveUp('it exited with code 1');
        },
        { timeoutMs: 60_000 },
      ),
      { message: 'Gave up waiting for a process: it exited with code 1' },
    );
  });
});
