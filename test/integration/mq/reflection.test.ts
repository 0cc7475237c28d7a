// Stock clients see EasyMQ's hand-written stream service (ADR 0002) through
// reflection: grpcurl lists mq.MqStream next to the IDL interfaces and describes
// both bidi methods with the frame types the broker really speaks.
import assert from 'node:assert/strict';
import { bin, run, startStore, type Store } from '../../support/index.js';
import { startBroker, type Broker } from './broker.js';

describe('mq reflection (grpcurl)', function () {
  let store: Store;
  let broker: Broker;

  before(async function () {
    store = await startStore();
    broker = await startBroker(store.url, [{ name: 'q' }]);
  });

  after(async function () {
    await broker?.svc.stop();
    await store?.stop();
  });

  it('lists mq.MqStream with the TCE interfaces', async function () {
    const list = await run(bin('grpcurl'), ['-plaintext', broker.addr, 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^mq\.MqStream$/m);
    assert.match(list.stdout, /^mq\.IMqPublisher$/m);
    assert.match(list.stdout, /^mq\.IMqAdmin$/m);
    assert.match(list.stdout, /^diag\.IDiag$/m);
  });

  it('describes both streams as bidirectional with the frames from mq.idl', async function () {
    const d = await run(bin('grpcurl'), ['-plaintext', broker.addr, 'describe', 'mq.MqStream']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(
      d.stdout,
      /rpc Subscribe \( stream \.mq\.SubscribeRequest \) returns \( stream \.mq\.SubscribeEvent \)/,
    );
    assert.match(d.stdout, /rpc Publish \( stream \.mq\.PublishRequest \) returns \( stream \.mq\.PublishReply \)/);
    // The frame types resolve too (their file is a dependency of the stream's).
    const m = await run(bin('grpcurl'), ['-plaintext', broker.addr, 'describe', 'mq.PublishRequest']);
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, /repeated \.mq\.Message msgs = 3;/);
  });
});
