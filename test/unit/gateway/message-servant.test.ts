// IMessageServer.ack and resume on a connection whose session is still
// starting (no delivery feed yet) answer UNAVAILABLE instead of being lost;
// bad sequence numbers are INVALID_ARGUMENT.
import assert from 'node:assert/strict';
import type { CallContext } from '../../../services/runtime/src/call-context.js';
import { PlatformError } from '../../../services/runtime/src/errors.js';
import { MessageServant, type MessageServantDeps } from '../../../services/gateway/src/message-servant.js';

function ctxWith(feed?: { ack(seq: number): void; resume(seq: number): void }): CallContext {
  return { conn: { session: { userId: 'u1', deviceId: 'd1' }, feed } } as unknown as CallContext;
}

const code = (e: unknown): string => (e as PlatformError).code;

describe('message servant: ack and resume', function () {
  const servant = new MessageServant({} as MessageServantDeps);

  it('answers UNAVAILABLE while the session is starting', function () {
    for (const call of [() => servant.ack(3, ctxWith()), () => servant.resume(3, ctxWith())]) {
      assert.throws(call, (e) => {
        assert.deepEqual([code(e), (e as Error).message], ['UNAVAILABLE', 'the session is still starting; retry']);
        return true;
      });
    }
  });

  it('passes them to the feed once it exists', function () {
    const calls: string[] = [];
    const ctx = ctxWith({ ack: (s) => calls.push(`ack ${s}`), resume: (s) => calls.push(`resume ${s}`) });
    servant.ack(4, ctx);
    servant.resume(2, ctx);
    assert.deepEqual(calls, ['ack 4', 'resume 2']);
  });

  it('refuses negative and fractional sequence numbers', function () {
    const ctx = ctxWith({ ack: () => undefined, resume: () => undefined });
    for (const bad of [-1, 1.5, NaN]) {
      assert.throws(
        () => servant.ack(bad, ctx),
        (e) => code(e) === 'INVALID_ARGUMENT',
      );
      assert.throws(
        () => servant.resume(bad, ctx),
        (e) => code(e) === 'INVALID_ARGUMENT',
      );
    }
  });
});
