// Authentication: every queue has a password (stored hashed), checked on
// publish (unary and stream), subscribe and describeGroup; the admin API has its
// own credential, and is disabled without one.
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { IMqAdminProxy, IMqPublisherProxy } from '../../../proto/gen/ts/mq.tce.js';
import { PublishOpen, PublishRequest } from '../../../proto/gen/ts/mq.js';
import { MqClient } from '../../../services/mq/src/client/index.js';
import { startStore, waitFor, type Store } from '../../support/index.js';
import { ADMIN, Collector, PW, RawStream, startBroker, statusName, type Broker } from './broker.js';

const msg = { id: '', key: '', payload: Buffer.from('x'), headers: {}, timestamp: 0 };

describe('EasyMQ authentication', function () {
  let store: Store;
  let broker: Broker;
  let mq: MqClient;
  let pub: IMqPublisherProxy;
  let admin: IMqAdminProxy;

  before(async function () {
    store = await startStore();
    broker = await startBroker(store.url, [
      { name: 'secure' },
      { name: 'grouped', kind: 'partitioned', partitions: 2 },
    ]);
    mq = new MqClient(broker.addr, { retryForMs: 0 });
    pub = new IMqPublisherProxy(broker.addr);
    admin = new IMqAdminProxy(broker.addr);
  });

  after(async function () {
    mq?.close();
    pub?.close();
    admin?.close();
    await broker?.svc.stop();
    await store?.stop();
  });

  it('refuses a publish with a wrong or missing password', async function () {
    await assert.rejects(pub.publish('secure', 'nope', msg), {
      code: 'UNAUTHENTICATED',
      message: "wrong password for queue 'secure'",
    });
    await assert.rejects(pub.publish('secure', '', msg), {
      code: 'UNAUTHENTICATED',
      message: "queue 'secure' requires a password",
    });
    await assert.rejects(mq.publish('secure', 'nope', { payload: 'x' }), {
      code: 'UNAUTHENTICATED',
      message: "wrong password for queue 'secure'",
    });
    assert.equal((await pub.publish('secure', PW, msg)).offset, 1);
  });

  it('refuses a publish stream opened with a wrong password', async function () {
    const s = new RawStream(broker.addr, 'Publish');
    try {
      s.send(
        PublishRequest.encode({
          open: PublishOpen.fromPartial({ queue: 'secure', password: 'bad' }),
          seq: 0,
          msgs: [],
        }).finish(),
      );
      const st = await s.status;
      assert.equal(statusName(st.code), 'UNAUTHENTICATED');
      assert.equal(st.details, "wrong password for queue 'secure'");
    } finally {
      s.close();
    }
  });

  it('refuses a subscription with a wrong password and stops retrying', async function () {
    const c = new Collector(mq, { queue: 'secure', password: 'bad' });
    try {
      await waitFor('the subscription to fail', () => c.errors.length > 0);
      assert.deepEqual(c.errors, [{ code: 'UNAUTHENTICATED', message: "wrong password for queue 'secure'" }]);
    } finally {
      c.close();
    }
  });

  it('refuses describeGroup with a wrong password', async function () {
    await assert.rejects(mq.describeGroup('grouped', 'bad', 'g'), {
      code: 'UNAUTHENTICATED',
      message: "wrong password for queue 'grouped'",
    });
  });

  it('guards the admin API with its own credential', async function () {
    await assert.rejects(admin.list('wrong'), { code: 'UNAUTHENTICATED', message: 'wrong admin password' });
    await assert.rejects(admin.list(''), { code: 'UNAUTHENTICATED', message: 'admin password required' });
    // The queue password is not an admin credential.
    await assert.rejects(admin.purge(PW, 'secure'), { code: 'UNAUTHENTICATED', message: 'wrong admin password' });
    assert.ok((await admin.list(ADMIN)).some((q) => q.name === 'secure'));
  });

  it('keeps only scrypt hashes of queue passwords in the store', async function () {
    const client = new MongoClient(store.url);
    try {
      const docs = await client.db().collection('mq_queues').find({}).toArray();
      assert.ok(docs.length >= 2);
      for (const d of docs) {
        assert.match(String(d.hash), /^scrypt\$16384\$8\$1\$/);
        assert.ok(!JSON.stringify(d).includes(PW));
      }
    } finally {
      await client.close();
    }
  });

  it('disables the admin API when no admin credential is configured', async function () {
    // Its own database: in the first broker's, it would only stand by (the leader lease is taken).
    const b2 = await startBroker(store.url.replace(/\/[^/]+$/, '/mq_noadmin'), [], { TCE_MQ_ADMIN_PASSWORD: '' });
    const p = new IMqAdminProxy(b2.addr);
    try {
      await assert.rejects(p.list('anything'), {
        code: 'UNAUTHENTICATED',
        message: 'the admin API is disabled: TCE_MQ_ADMIN_PASSWORD is not set on the broker',
      });
    } finally {
      p.close();
      await b2.svc.stop();
    }
  });
});
