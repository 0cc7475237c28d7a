// High availability: two broker replicas on one store. Exactly one holds the
// lease and is ready; the other answers /readyz 503 (so a Kubernetes Service
// sends it nothing). When the leader is killed (-9) the standby takes over,
// recovers the durable queues (messages and subscription positions), and
// clients given both addresses reconnect and carry on.
import assert from 'node:assert/strict';
import { MqClient } from '../../../services/mq/src/client/index.js';
import { freePort, startService, startStore, waitFor, type ServiceProcess, type Store } from '../../support/index.js';
import { Collector, PW, startBroker, type Broker } from './broker.js';

const QUEUES = [{ name: 'jobs', durable: true }];

async function ready(svc: ServiceProcess): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://127.0.0.1:${svc.opsPort}/readyz`);
  return { status: r.status, text: await r.text() };
}

describe('EasyMQ high availability', function () {
  let store: Store;
  let leader: Broker;
  let standby: ServiceProcess;
  let standbyPort: number;
  let mq: MqClient;

  before(async function () {
    store = await startStore();
    leader = await startBroker(store.url, QUEUES);
    standbyPort = await freePort();
    standby = await startService({
      name: 'mq',
      env: { ...leader.env, TCE_GRPC_PORT: String(standbyPort) },
      waitReady: false,
    });
    mq = new MqClient([leader.addr, `127.0.0.1:${standbyPort}`], { retryMs: 50, maxRetryMs: 500, retryForMs: 20_000 });
  });

  after(async function () {
    mq?.close();
    await standby?.stop();
    await leader?.svc.stop();
    await store?.stop();
  });

  it('has exactly one ready replica; the standby says who leads', async function () {
    assert.equal((await ready(leader.svc)).status, 200);
    // /healthz answers before the standby has looked at the lease: wait for its verdict.
    const s = await waitFor('the standby to report the leader', async () => {
      const r = await ready(standby);
      return /lease held by/.test(r.text) ? r : undefined;
    });
    assert.equal(s.status, 503);
    assert.match(s.text, new RegExp(`leader: standby \\(lease held by .+:${leader.port}\\)`));
  });

  it('fails over on kill -9: the standby takes over with the durable state, clients resume', async function () {
    const seen = new Set<string>();
    const c = new Collector(mq, { queue: 'jobs', password: PW }, (d) => {
      seen.add(d.payload.toString());
    });
    try {
      const before = Array.from({ length: 200 }, (_, i) => ({ payload: `before-${i}` }));
      await mq.publishBatch('jobs', PW, before);
      await waitFor('deliveries before the crash', () => seen.size === 200);
      // Leave a backlog for the new leader to recover.
      c.sub.setCredit(0);
      await mq.publishBatch(
        'jobs',
        PW,
        Array.from({ length: 300 }, (_, i) => ({ payload: `backlog-${i}` })),
      );
      await leader.svc.kill9();
      await waitFor('the standby to become ready', async () => (await ready(standby)).status === 200, {
        timeoutMs: 30_000,
      });
      // The client was given both addresses: it finds the new leader by itself.
      const after = await mq.publishBatch(
        'jobs',
        PW,
        Array.from({ length: 100 }, (_, i) => ({ payload: `after-${i}` })),
      );
      assert.equal(after.length, 100);
      c.sub.setCredit(1000);
      await waitFor(
        'every message, backlog included',
        () => {
          for (let i = 0; i < 300; i++) if (!seen.has(`backlog-${i}`)) return false;
          for (let i = 0; i < 100; i++) if (!seen.has(`after-${i}`)) return false;
          return true;
        },
        { timeoutMs: 30_000 },
      );
    } finally {
      c.close();
    }
  });
});
