// The client's hand-written publish frames (messages encoded straight into one
// buffer as they are published) decode with the generated PublishRequest codec
// and with the broker's own frame parser.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Message, PublishReply, PublishRequest } from '../../../proto/gen/ts/mq.js';
import { PlatformError } from '../../../services/runtime/src/errors.js';
import { FrameBuilder, type OutgoingMessage } from '../../../services/mq/src/client/publisher.js';
import type { PublishOutcome } from '../../../services/mq/src/queue.js';
import { encodePublishReply, parsePublishFrame } from '../../../services/mq/src/stream-service.js';

const NOW = 1795000000000;

function expected(m: OutgoingMessage): Message {
  return {
    id: m.id ?? '',
    key: m.key ?? '',
    payload: Buffer.from(m.payload),
    headers: m.headers ?? {},
    timestamp: m.timestamp ?? 0,
  };
}

describe('mq client publish frames', function () {
  it('encodes seq and messages as PublishRequest: ids, keys, headers, timestamps, empty payloads', function () {
    const msgs: OutgoingMessage[] = [
      { payload: Buffer.from('plain') },
      { payload: new Uint8Array(0), id: 'ï-1', key: 'user-7' },
      { payload: Buffer.alloc(300, 7), headers: { a: '1', b: '' }, timestamp: 42 },
      { payload: Buffer.from('t'), timestamp: NOW },
      { payload: Buffer.from('neg'), timestamp: -5 },
    ];
    const b = new FrameBuilder();
    for (const m of msgs) b.add(m);
    const frame = b.seal(2 ** 33 + 5);
    const r = PublishRequest.decode(frame);
    assert.equal(r.seq, 2 ** 33 + 5);
    assert.equal(r.open, undefined);
    assert.deepEqual(r.msgs, msgs.map(expected));
    // The broker reads the same frame without decoding the messages.
    const parsed = parsePublishFrame(frame, NOW);
    assert.equal(parsed.seq, 2 ** 33 + 5);
    assert.deepEqual(
      parsed.msgs.map((m) => [m.id, m.key]),
      msgs.map((m) => [m.id ?? '', m.key ?? '']),
    );
    assert.deepEqual(Message.decode(parsed.msgs[0]!.bytes).timestamp, NOW); // added by the broker
    assert.deepEqual(Message.decode(parsed.msgs[3]!.bytes).timestamp, NOW);
  });

  it('grows past its first buffer and agrees with the generated encoder for any message', function () {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            payload: fc.uint8Array({ maxLength: 3000 }),
            id: fc.option(fc.string(), { nil: undefined }),
            key: fc.option(fc.string(), { nil: undefined }),
            timestamp: fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
          }),
          { maxLength: 40 },
        ),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        (msgs, seq) => {
          const b = new FrameBuilder();
          for (const m of msgs) b.add(m);
          const frame = b.seal(seq);
          assert.deepEqual(
            Buffer.from(frame),
            Buffer.from(PublishRequest.encode({ open: undefined, seq, msgs: msgs.map(expected) }).finish()),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it("encodes the broker's publish replies as the generated codec does", function () {
    const ok = (partition: number, offset: number, duplicate = false, id = ''): PublishOutcome => ({
      ok: { id, partition, offset, duplicate },
    });
    const cases: [number, PublishOutcome[]][] = [
      [1, [ok(0, 1), ok(3, 2 ** 40 + 1), ok(0, 7, true), ok(0, 0)]],
      [0, []],
      [2 ** 35, [ok(1, 5, false, 'id-1'), { err: new PlatformError('RESOURCE_EXHAUSTED', 'too big') }, ok(0, 6)]],
    ];
    for (const [seq, outcomes] of cases) {
      const results = outcomes.map((o) => ('ok' in o ? o.ok : { id: '', partition: 0, offset: 0, duplicate: false }));
      const errors = outcomes.flatMap((o, index) =>
        'ok' in o ? [] : [{ index, code: o.err.code, detail: o.err.message }],
      );
      const want = Buffer.from(PublishReply.encode({ seq, results, errors }).finish());
      assert.deepEqual(encodePublishReply(seq, outcomes), want);
    }
  });
});
