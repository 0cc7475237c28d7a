// The client's hand-written SubscribeEvent decoder agrees with the generated one
// (and with the broker's hand-written delivery encoder).
import assert from 'node:assert/strict';
import { Message, SubscribeEvent } from '../../../proto/gen/ts/mq.js';
import { decodeEvent } from '../../../services/mq/src/client/event-decoder.js';
import { Consumer } from '../../../services/mq/src/consumer.js';

describe('mq client event decoder', function () {
  it('decodes what ts-proto encodes: deliveries, headers, large seqs, notices, dropped', function () {
    const msg = Message.fromPartial({
      id: 'ï1',
      key: 'k',
      payload: Buffer.from('päyload'),
      headers: { a: '1', b: '' },
      timestamp: 1795000000000,
    });
    const buf = Buffer.from(
      SubscribeEvent.encode({
        subscribed: { consumer_id: 'c1', kind: 'queue', partitions: 1, max_credit: 10 },
        deliveries: [
          { partition: 3, seq: 2 ** 40 + 7, delivery_count: 2, msg },
          { partition: 0, seq: 1, delivery_count: 1, msg: Message.fromPartial({}) },
        ],
        assignment: { generation: 4, assigned: [1, 2], revoked: [3], owned: [1, 2] },
        dropped: 12,
      }).finish(),
    );
    const ev = decodeEvent(buf);
    assert.equal(ev.subscribed!.consumer_id, 'c1');
    assert.deepEqual(ev.assignment!.revoked, [3]);
    assert.equal(ev.dropped, 12);
    const [d1, d2] = ev.deliveries;
    assert.deepEqual(
      { p: d1!.partition, seq: d1!.seq, n: d1!.deliveryCount, ...d1!.msg, payload: d1!.msg.payload.toString() },
      {
        p: 3,
        seq: 2 ** 40 + 7,
        n: 2,
        id: 'ï1',
        key: 'k',
        payload: 'päyload',
        headers: { a: '1', b: '' },
        timestamp: 1795000000000,
      },
    );
    assert.equal(d2!.msg.payload.length, 0);
    assert.deepEqual(d2!.msg.headers, {});
  });

  it('decodes the broker’s own delivery frames', function () {
    const frames: Uint8Array[] = [];
    const c = new Consumer({
      id: 'x',
      queue: 'q',
      group: '',
      credit: 10,
      partitions: 8,
      metadata: {},
      sink: { write: (f) => (frames.push(f), true), onDrain: () => undefined, end: () => undefined },
    });
    const bytes = Message.encode(Message.fromPartial({ payload: Buffer.from('x'), timestamp: 5 })).finish();
    c.deliver(7, 2 ** 33, 3, bytes);
    c.deliver(0, 1, 1, bytes);
    c.addDropped(4);
    c.flush();
    const ev = decodeEvent(Buffer.from(frames[0]!));
    assert.deepEqual(
      ev.deliveries.map((d) => [d.partition, d.seq, d.deliveryCount, d.msg.payload.toString(), d.msg.timestamp]),
      [
        [7, 2 ** 33, 3, 'x', 5],
        [0, 1, 1, 'x', 5],
      ],
    );
    assert.equal(ev.dropped, 4);
  });
});
