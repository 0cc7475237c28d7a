// A unit acknowledges a GPS point to the bus only once the point is durable in
// its store: with the units' store stalled (SIGSTOP) the points reach the unit
// and stay in flight, unacknowledged; when the store resumes they are
// acknowledged and stored, none lost. The bus keeps its own store here, so
// publishing is unaffected.
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { GpsPoint } from '../../../proto/gen/ts/location.js';
import { MqClient } from '../../../services/mq/src/client/index.js';
import { freePort, startService, startStore, waitFor, type ServiceProcess, type Store } from '../../support/index.js';

const PW = 'gps-secret';
const ADMIN_PW = 'admin-secret';

describe('location unit: acked to mq only when durable', function () {
  this.timeout(180_000);
  let busStore: Store;
  let unitStore: Store;
  let mqProc: ServiceProcess;
  let unit: ServiceProcess;
  let mq: MqClient;
  let stalled = false;
  const now = Date.now();
  let n = 0;

  before(async function () {
    busStore = await startStore();
    unitStore = await startStore();
    const mqPort = await freePort();
    mqProc = await startService({
      name: 'mq',
      env: {
        TCE_MONGO_URL: busStore.url,
        TCE_GRPC_PORT: String(mqPort),
        TCE_MQ_ADMIN_PASSWORD: ADMIN_PW,
        TCE_MQ_PASSWORDS: JSON.stringify({ mq_gps: PW }),
        TCE_MQ_QUEUES: JSON.stringify([{ name: 'mq_gps', kind: 'partitioned', partitions: 4, durable: true }]),
      },
    });
    mq = new MqClient(`127.0.0.1:${mqPort}`);
    const port = await freePort();
    unit = await startService({
      name: 'location-unit',
      env: {
        TCE_MONGO_URL: unitStore.url,
        TCE_MQ_ADDR: `127.0.0.1:${mqPort}`,
        TCE_LOCATION_MQ_PASSWORD: PW,
        TCE_GRPC_PORT: String(port),
        TCE_ADVERTISE_ADDR: `127.0.0.1:${port}`,
        TCE_GPS_PARTITIONS: '4',
      },
      timeoutMs: 60_000,
    });
  });

  after(async function () {
    if (stalled) unitStore.process.signal('SIGCONT');
    mq?.close();
    await unit?.stop();
    await mqProc?.stop();
    await unitStore?.stop();
    await busStore?.stop();
  });

  const stats = () => mq.admin(ADMIN_PW).stats('mq_gps');
  async function publish(count: number): Promise<void> {
    const msgs = Array.from({ length: count }, () => {
      const u = `user-${n % 97}`;
      const p = { user_id: u, lon: 8 + (n % 50) / 100, lat: 47, time: now - 100_000 + ++n, speed: 0, direction: 0 };
      return { key: u, id: `${u}|${p.time}`, payload: GpsPoint.encode(p).finish() };
    });
    await mq.publishBatch('mq_gps', PW, msgs);
  }

  it('holds points unacknowledged while its store is stalled, acks and stores them when it resumes', async function () {
    await publish(300);
    await waitFor('the first points acked', async () => (await stats()).acked === 300, { timeoutMs: 60_000 });

    unitStore.process.signal('SIGSTOP');
    stalled = true;
    await publish(300);
    // They reach the unit (in flight) and, the store not answering, stay unacknowledged.
    await waitFor('the points delivered to the unit', async () => (await stats()).in_flight === 300, {
      timeoutMs: 60_000,
    });
    assert.equal((await stats()).acked, 300);

    unitStore.process.signal('SIGCONT');
    stalled = false;
    await waitFor('every point acked', async () => (await stats()).acked === 600, { timeoutMs: 90_000 });
    const s = await stats();
    assert.deepEqual([s.in_flight, s.dead_lettered], [0, 0]);
    const mongo = await new MongoClient(unitStore.url).connect();
    try {
      await waitFor(
        'every point stored',
        async () => (await mongo.db().collection('location_points').countDocuments({})) === 600,
        { timeoutMs: 90_000, intervalMs: 500 },
      );
    } finally {
      await mongo.close();
    }
  });
});
