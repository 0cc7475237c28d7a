// GPS through the gateway into the location units and queries forwarded back:
// reportGps (oneway) → mq_gps keyed by the user → a location unit → nearby,
// latest, within and track through the device connection (generic forwarding,
// raw bytes, the call's deadline passed on); the same with the `tce` CLI.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codec, FrameKind, IFACES } from '../../../sdk/src/index.js';
import { freePort, startService, waitFor, type ServiceProcess } from '../../support/index.js';
import { Device, newUser, startPlatform, tceAs, tokenFor, type Platform } from './platform.js';
import { RawClient } from './raw-client.js';

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

  it('forwards within and track; the CLI reports and finds positions', async function () {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-cli-gps-'));
    const url = p.gateways[0]!.url;
    const tce = tceAs(
      () => home,
      () => url,
    );
    try {
      const suffix = crypto.randomBytes(2).toString('hex');
      const ids: Record<string, string> = {};
      for (const who of ['carl', 'dora']) {
        const r = await tce(who, ['register', `${who}${suffix}`, '--json']);
        assert.equal(r.code, 0, r.stderr);
        ids[who] = (JSON.parse(r.stdout) as { user_id: string }).user_id;
        assert.equal((await tce(who, ['login', `${who}${suffix}`])).code, 0);
      }
      const before = Date.now();
      const gps = await tce('carl', ['gps', '121.4737', '31.2304', '--speed', '2']);
      assert.deepEqual([gps.code, gps.stdout], [0, 'reported\n']);
      const found = await waitFor(
        'carl through `tce nearby`',
        async () => {
          const r = await tce('dora', ['nearby', '121.4740', '31.2306', '--radius', '500', '--json']);
          assert.equal(r.code, 0, r.stderr);
          const q = JSON.parse(r.stdout) as { hits: { user_id: string; distance_m: number }[]; partial: boolean };
          return q.hits.find((h) => h.user_id === ids.carl) && q;
        },
        { timeoutMs: 30_000, intervalMs: 300 },
      );
      assert.equal(found.partial, false);
      const bad = await tce('dora', ['nearby', '200', '0']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /^tce: INVALID_ARGUMENT: .*lon/);

      const seeker = await newUser(url, 'finder');
      devices.push(seeker.device);
      const within = await seeker.device.client.within(
        { min_lon: 121.4, min_lat: 31.2, max_lon: 121.5, max_lat: 31.3 },
        10,
      );
      assert.deepEqual(
        [within.partial, within.missing_partitions, within.hits.map((h) => h.user_id)],
        [false, [], [ids.carl]],
      );
      const track = await waitFor(
        'the point in carl’s track',
        async () => {
          const t = await seeker.device.client.track(ids.carl!, before - 1000, Date.now() + 1000, 10);
          return t.points.length > 0 && t;
        },
        { timeoutMs: 30_000, intervalMs: 300 },
      );
      assert.deepEqual(
        track.points.map((pt) => [pt.user_id, pt.lon, pt.lat, pt.speed]),
        [[ids.carl, 121.4737, 31.2304, 2]],
      );
      assert.equal(track.has_more, false);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it('passes the call’s deadline to the location service: a stalled unit answers DEADLINE_EXCEEDED in time', async function () {
    const c = await RawClient.open(p.gateways[0]!.url, {
      headers: { authorization: `Bearer ${tokenFor(p, 'hasty', 'h1')}` },
    });
    try {
      await c.call(IFACES.session, 'whoami', []);
      unit.process.signal('SIGSTOP');
      const t0 = Date.now();
      const f = await c.callRaw({
        iface: IFACES.locationQuery,
        method: 'nearby',
        payload: codec.encodeRequest(IFACES.locationQuery, 'nearby', [121.47, 31.23, 500, 10]),
        timeout_ms: 500,
      });
      const took = Date.now() - t0;
      assert.deepEqual([f.kind, f.error_code], [FrameKind.ERROR, 'DEADLINE_EXCEEDED']);
      assert.ok(took >= 400 && took < 5000, `answered after ${took} ms`);
    } finally {
      unit.process.signal('SIGCONT');
      c.close();
    }
    // The unit serves again.
    const again = await newUser(p.gateways[0]!.url, 'patient');
    devices.push(again.device);
    assert.equal((await again.device.client.nearby(121.47, 31.23, 500, 10)).partial, false);
  });

  // Last: it takes the location service away.
  it('answers UNAVAILABLE when the location service is down, and the gateway stays alive', async function () {
    await unit.kill9();
    const d = await newUser(p.gateways[0]!.url, 'unlucky');
    devices.push(d.device);
    await assert.rejects(d.device.client.nearby(121.47, 31.23, 500, 10), (e: { code: string; message: string }) => {
      assert.equal(e.code, 'UNAVAILABLE', e.message);
      return true;
    });
    assert.ok(p.gateways[0]!.proc.process.running, 'gateway process exited');
    assert.equal((await d.device.client.presence([d.userId]))[0]!.online, true);
  });
});
