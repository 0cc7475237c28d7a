// Bad input, written out with the exact status and message each one gets:
// unknown queue, oversize message, malformed stream frames, frames out of
// protocol, acks for unknown deliveries, credit abuse, wrong group usage, bad
// declarations. After all of it the broker is alive and what it had accepted
// is still delivered.
import assert from 'node:assert/strict';
import { IMqAdminProxy, IMqPublisherProxy } from '../../../proto/gen/ts/mq.tce.js';
import { PublishOpen, PublishReply, PublishRequest, QueueSpec, SubscribeOpen } from '../../../proto/gen/ts/mq.js';
import { MqClient } from '../../../services/mq/src/client/index.js';
import { startStore, waitFor, type Store } from '../../support/index.js';
import { ADMIN, Collector, PW, RawStream, startBroker, statusName, type Broker } from './broker.js';

const MAX = 4096;
const msg = (payload: Buffer | string) => ({
  id: '',
  key: '',
  payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
  headers: {},
  timestamp: 0,
});
const open = (o: Partial<SubscribeOpen>) => SubscribeOpen.fromPartial({ queue: 'inbox', password: PW, ...o });

describe('EasyMQ bad input', function () {
  let store: Store;
  let broker: Broker;
  let mq: MqClient;
  let pub: IMqPublisherProxy;
  let admin: IMqAdminProxy;
  const streams: RawStream[] = [];

  const raw = (method: 'Subscribe' | 'Publish'): RawStream => {
    const s = new RawStream(broker.addr, method);
    streams.push(s);
    return s;
  };
  const expectStatus = async (s: RawStream, code: string, details: string | RegExp): Promise<void> => {
    const st = await s.status;
    assert.equal(statusName(st.code), code, st.details);
    if (typeof details === 'string') assert.equal(st.details, details);
    else assert.match(st.details, details);
  };

  before(async function () {
    store = await startStore();
    broker = await startBroker(
      store.url,
      [
        { name: 'inbox', durable: true },
        { name: 'parts', kind: 'partitioned', partitions: 4 },
        { name: 'small', max_message_bytes: 100 },
      ],
      { TCE_MQ_MAX_MESSAGE_BYTES: String(MAX) },
    );
    mq = new MqClient(broker.addr, { retryForMs: 0 });
    pub = new IMqPublisherProxy(broker.addr);
    admin = new IMqAdminProxy(broker.addr);
    // Accepted before the abuse starts: must survive it.
    await pub.publishBatch('inbox', PW, [msg('kept-1'), msg('kept-2')]);
  });

  after(async function () {
    for (const s of streams) s.close();
    mq?.close();
    pub?.close();
    admin?.close();
    await broker?.svc.stop();
    await store?.stop();
  });

  it('unknown queue → NOT_FOUND (publish, stream, subscribe, admin)', async function () {
    await assert.rejects(pub.publish('nope', PW, msg('x')), { code: 'NOT_FOUND', message: "no such queue: 'nope'" });
    const s = raw('Subscribe');
    s.sub({ open: open({ queue: 'nope' }) });
    await expectStatus(s, 'NOT_FOUND', "no such queue: 'nope'");
    const p = raw('Publish');
    p.send(
      PublishRequest.encode({
        open: PublishOpen.fromPartial({ queue: 'nope', password: PW }),
        seq: 0,
        msgs: [],
      }).finish(),
    );
    await expectStatus(p, 'NOT_FOUND', "no such queue: 'nope'");
    await assert.rejects(admin.stats(ADMIN, 'nope'), { code: 'NOT_FOUND', message: "no such queue: 'nope'" });
  });

  it('oversize message → RESOURCE_EXHAUSTED, per queue and globally; nothing of the batch stored', async function () {
    await assert.rejects(pub.publish('inbox', PW, msg(Buffer.alloc(MAX + 1))), {
      code: 'RESOURCE_EXHAUSTED',
      message: `message 0 of ${MAX + 11} bytes exceeds the maximum of ${MAX} bytes of queue 'inbox'`,
    });
    await assert.rejects(pub.publishBatch('small', PW, [msg('ok'), msg(Buffer.alloc(200))]), {
      code: 'RESOURCE_EXHAUSTED',
      message: "message 1 of 210 bytes exceeds the maximum of 100 bytes of queue 'small'",
    });
    assert.equal((await admin.stats(ADMIN, 'small')).published, 0);
    // On the stream the oversize message fails alone; its neighbours are stored.
    const results = await Promise.allSettled([
      mq.publish('small', PW, { payload: 'a' }),
      mq.publish('small', PW, { payload: Buffer.alloc(150) }),
      mq.publish('small', PW, { payload: 'b' }),
    ]);
    assert.equal(results[0].status, 'fulfilled');
    assert.equal(results[2].status, 'fulfilled');
    assert.equal(results[1].status, 'rejected');
    assert.match(
      String((results[1] as PromiseRejectedResult).reason),
      /exceeds the maximum of 100 bytes of queue 'small'/,
    );
  });

  it('creating a queue allowing more than TCE_MQ_MAX_MESSAGE_BYTES → INVALID_ARGUMENT', async function () {
    await assert.rejects(admin.create(ADMIN, QueueSpec.fromPartial({ name: 'big', max_message_bytes: MAX * 2 }), PW), {
      code: 'INVALID_ARGUMENT',
      message: `max_message_bytes must be between 1 and ${MAX} (TCE_MQ_MAX_MESSAGE_BYTES), got ${MAX * 2}`,
    });
    await assert.rejects(admin.create(ADMIN, QueueSpec.fromPartial({ name: 'bad name!' }), PW), {
      code: 'INVALID_ARGUMENT',
      message: "invalid queue name 'bad name!': 1-128 characters of A-Z a-z 0-9 _ . -, not starting with . or -",
    });
    await assert.rejects(admin.create(ADMIN, QueueSpec.fromPartial({ name: 'k', kind: 'exchange' }), PW), {
      code: 'INVALID_ARGUMENT',
      message: "kind must be queue, topic or partitioned, got 'exchange'",
    });
    await assert.rejects(admin.create(ADMIN, QueueSpec.fromPartial({ name: 'inbox' }), PW), {
      code: 'ALREADY_EXISTS',
      message: "queue 'inbox' already exists",
    });
    await assert.rejects(admin.create(ADMIN, QueueSpec.fromPartial({ name: 'nopw' }), ''), {
      code: 'INVALID_ARGUMENT',
      message: "queue 'nopw' needs a password",
    });
  });

  it('malformed frames → INVALID_ARGUMENT', async function () {
    const s = raw('Subscribe');
    s.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    await expectStatus(s, 'INVALID_ARGUMENT', /^malformed SubscribeRequest frame: /);
    const p = raw('Publish');
    p.send(Buffer.from([0x0a, 0x20, 0x01]));
    await expectStatus(p, 'INVALID_ARGUMENT', /^malformed PublishRequest frame: /);
    // A message field that is not an mq.Message.
    const p2 = raw('Publish');
    p2.send(
      PublishRequest.encode({
        open: PublishOpen.fromPartial({ queue: 'inbox', password: PW }),
        seq: 0,
        msgs: [],
      }).finish(),
    );
    p2.send(Buffer.from([0x1a, 0x03, 0x0a, 0x05, 0x41]));
    await expectStatus(p2, 'INVALID_ARGUMENT', /^malformed message: /);
  });

  it('frames out of protocol → INVALID_ARGUMENT', async function () {
    const s = raw('Subscribe');
    s.sub({ acks: [{ partition: 0, first: 1, last: 1 }] });
    await expectStatus(s, 'INVALID_ARGUMENT', 'the first frame must carry open');
    const s2 = raw('Subscribe');
    s2.sub({ open: open({}) });
    s2.sub({ open: open({}) });
    await expectStatus(s2, 'INVALID_ARGUMENT', 'open may only be sent once, in the first frame');
    const p = raw('Publish');
    p.send(PublishRequest.encode({ open: undefined, seq: 1, msgs: [] }).finish());
    await expectStatus(p, 'INVALID_ARGUMENT', 'the first frame must carry open');
  });

  it('acks for unknown deliveries → NOT_FOUND; bad ranges and partitions → INVALID_ARGUMENT', async function () {
    const s = raw('Subscribe');
    s.sub({ open: open({ credit: 1 }) });
    await waitFor('a delivery', () => s.events().some((e) => e.deliveries.length > 0));
    const seq = s.events().flatMap((e) => e.deliveries)[0]!.seq;
    s.sub({ acks: [{ partition: 0, first: seq + 100, last: seq + 100 }] });
    await expectStatus(
      s,
      'NOT_FOUND',
      `unknown delivery: partition 0 seq ${seq + 100} was never delivered on this subscription`,
    );
    const s2 = raw('Subscribe');
    s2.sub({ open: open({}) });
    s2.sub({ acks: [{ partition: 0, first: 5, last: 3 }] });
    await expectStatus(s2, 'INVALID_ARGUMENT', 'invalid range [5, 3] in partition 0');
    const s3 = raw('Subscribe');
    s3.sub({ open: open({ queue: 'parts', group: 'g' }) });
    s3.sub({ nacks: [{ partition: 7, first: 1, last: 1 }] });
    await expectStatus(s3, 'INVALID_ARGUMENT', "partition 7 out of range: queue 'parts' has 4 partition(s)");
  });

  it('credit abuse → RESOURCE_EXHAUSTED / INVALID_ARGUMENT', async function () {
    const s = raw('Subscribe');
    s.sub({ open: open({ credit: 1_000_000 }) });
    await expectStatus(s, 'RESOURCE_EXHAUSTED', 'credit 1000000 exceeds the maximum of 10000 unacked deliveries');
    const s2 = raw('Subscribe');
    s2.sub({ open: open({}) });
    s2.sub({ flow: { credit: 50_000 } });
    await expectStatus(s2, 'RESOURCE_EXHAUSTED', 'credit 50000 exceeds the maximum of 10000 unacked deliveries');
    const s3 = raw('Subscribe');
    s3.sub({ open: open({ credit: -5 }) });
    await expectStatus(s3, 'INVALID_ARGUMENT', 'credit must be 0 or more, got -5');
  });

  it('group misuse → INVALID_ARGUMENT', async function () {
    const s = raw('Subscribe');
    s.sub({ open: open({ group: 'g' }) });
    await expectStatus(s, 'INVALID_ARGUMENT', "queue 'inbox' is a plain queue: group must be empty");
    const s2 = raw('Subscribe');
    s2.sub({ open: open({ queue: 'parts' }) });
    await expectStatus(s2, 'INVALID_ARGUMENT', "queue 'parts' is partitioned: subscribers must name a consumer group");
    await assert.rejects(mq.describeGroup('parts', PW, 'none'), {
      code: 'NOT_FOUND',
      message: "queue 'parts' has no group or subscription 'none'",
    });
  });

  it('survives all of it: healthy, and what it accepted is still delivered', async function () {
    const res = await fetch(`http://127.0.0.1:${broker.svc.opsPort}/healthz`);
    assert.equal(res.status, 200);
    assert.ok(broker.svc.process.running);
    const c = new Collector(mq, { queue: 'inbox', password: PW });
    try {
      await c.until(2);
      assert.deepEqual(c.payloads().slice(0, 2), ['kept-1', 'kept-2']);
    } finally {
      c.close();
    }
    // A reply frame for a publish stream still works after the abuse.
    const p = raw('Publish');
    p.send(
      PublishRequest.encode({
        open: PublishOpen.fromPartial({ queue: 'inbox', password: PW }),
        seq: 7,
        msgs: [msg('z')],
      }).finish(),
    );
    await waitFor('the publish reply', () => p.frames.length > 0);
    const reply = PublishReply.decode(p.frames[0]!);
    assert.equal(reply.seq, 7);
    assert.deepEqual(reply.errors, []);
  });
});
