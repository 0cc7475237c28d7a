// The gateway's pre-encoded CALL frames decode to exactly what the generic
// encoder's frames decode to, for any id and payload (property test).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CallFrameEncoder, decodeFrame, encodeFrame, FrameKind } from '../../../services/gateway/src/frame.js';

describe('gateway CallFrameEncoder', function () {
  it('encodes the same Frame as encodeFrame, for any id and payload', function () {
    const enc = new CallFrameEncoder('messaging.ITerminal', 'onMessage', 1, 30_000);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ maxLength: 300 }),
        (id, payload) => {
          const ours = decodeFrame(enc.encode(id, payload));
          const generic = decodeFrame(
            encodeFrame({
              id,
              kind: FrameKind.CALL,
              iface: 'messaging.ITerminal',
              method: 'onMessage',
              method_index: 1,
              payload: Buffer.from(payload),
              timeout_ms: 30_000,
            }),
          );
          assert.deepEqual({ ...ours, payload: [...ours.payload] }, { ...generic, payload: [...generic.payload] });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses ids a frame cannot carry', function () {
    const enc = new CallFrameEncoder('a.B', 'c', 0, 1000);
    assert.throws(() => enc.encode(-1, new Uint8Array()), /invalid call id -1/);
    assert.throws(() => enc.encode(2 ** 53, new Uint8Array()), /invalid call id/);
  });
});
