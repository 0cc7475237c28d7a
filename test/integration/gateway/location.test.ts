// GPS through the gateway into the location units and queries forwarded back:
// reportGps (oneway) → mq_gps keyed by the user → a location unit → nearby and
// latest through the device connection (generic forwarding, raw bytes).
import assert from 'node:assert/strict';
import { freePort, startService, waitFor, type ServiceProcess } from '../../support/index.js';
import { Device, newUser, startPlatform, type Platform } from './platform.js';

describe('gateway: GPS and location queries', function () {
  this.timeout(180_000);
  let p: Platform;
  let unit: ServiceProcess;
  const devices: Device[] = [];

  before(async function () {
    p = await startPlatform({ gateways: 0 });
    const port = await freePort();
    const gpsPassword = JSON.parse(p.mq!.env.TCE_MQ_PASSWORDS!).mq_gps as string;
    unit = await startService({
      name: 'location-unit',
      env: {
        TCE_MONGO_URL: p.store.url,
        TCE_GRPC_PORT: String(port),
        TCE_MQ_ADDR: `127.0.0.1:${p.mq!.env.TCE_GRPC_PORT}`,
        TCE_GPS_PARTITIONS: '4',
        TCE_LOCATION_MQ_PASSWORD: gpsPassword,
        TCE_ADVERTISE_ADDR: `127.0.0.1:${port}`,
        TCE_INTERNAL_KEY: p.internalKey,
      },
      timeoutMs: 60_000,
    });
    await p.startGateway('gw-loc', { TCE_LOCATION_ADDR: `127.0.0.1:${port}` });
  });

  afterEach(function () {
    for (const d of devices.splice(0)) d.close();
  });

  after(async function () {
    await unit?.stop();
    await p?.stop();
  });

  it('finds a device that reported its position, with the distance', async function () {
    const url = p.gateways[0]!.url;
    const a = await newUser(url, 'walker');
    const b = await newUser(url, 'seeker');
    devices.push(a.device, b.device);
    a.device.client.reportGps({ lon: 116.3975, lat: 39.9087, speed: 1.2, direction: 45 });
    const hit = await waitFor(
      'the position to be queryable',
      async () => {
        const r = await b.device.client.nearby(116.3972, 39.9085, 500, 10);
        return r.hits.find((h) => h.user_id === a.userId);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    assert.ok(hit.distance_m > 0 && hit.distance_m < 100, `distance ${hit.distance_m}`);
    const latest = await b.device.client.latest([a.userId]);
    assert.deepEqual(
      latest.hits.map((h) => [h.user_id, h.lon, h.lat]),
      [[a.userId, 116.3975, 39.9087]],
    );
    // The unit's own validation errors come back through the gateway unchanged.
    await assert.rejects(
      b.device.client.nearby(0, 95, 100, 10),
      (e: { code: string }) => e.code === 'INVALID_ARGUMENT',
    );
  });
});
