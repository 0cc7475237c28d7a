// A location unit is not ready (/readyz 503, naming the partitions) while it
// rebuilds its partitions from the store, and ready once they are loaded:
// Kubernetes sends it no queries before it can answer them (docs/location.md).
import assert from 'node:assert/strict';
import { Binary, MongoClient } from 'mongodb';
import { ILocationUnitProxy } from '../../../proto/gen/ts/location.tce.js';
import { LATEST, type LatestDoc } from '../../../services/location-unit/src/location-store.js';
import { partitionOf } from '../../../services/location-unit/src/partition-of.js';
import { encodeTrack } from '../../../services/location-unit/src/segment-codec.js';
import { freePort, startService, startStore, waitFor, type ServiceProcess, type Store } from '../../support/index.js';

const PARTITIONS = 16;
const USERS = 50_000;

describe('location unit readiness while loading partitions', function () {
  this.timeout(180_000);
  let store: Store;
  let unit: ServiceProcess | undefined;

  before(async function () {
    store = await startStore();
    const mongo = await new MongoClient(store.url).connect();
    try {
      // Enough users that rebuilding them takes a while (seconds, not milliseconds).
      const now = Date.now();
      const track = new Binary(encodeTrack([]));
      for (let i = 0; i < USERS; i += 10_000) {
        const docs: LatestDoc[] = [];
        for (let j = i; j < i + 10_000; j++) {
          const u = `user-${j}`;
          const lon = 8 + (j % 1000) / 2000;
          const lat = 47 + Math.floor(j / 1000) / 400;
          docs.push({ _id: `${u}|1`, u, p: partitionOf(u, PARTITIONS), t: now, lon, lat, spd: 0, dir: 0, track });
        }
        await mongo.db().collection<LatestDoc>(LATEST).insertMany(docs, { ordered: false });
      }
    } finally {
      await mongo.close();
    }
  });

  after(async function () {
    await unit?.stop();
    await store?.stop();
  });

  it('answers /readyz 503 naming the partitions while loading, then 200, and then knows every user', async function () {
    const port = await freePort();
    const opsPort = await freePort();
    const seen: string[] = [];
    let polling = true;
    // Polls from before the process listens until it is ready.
    const poll = (async () => {
      while (polling) {
        try {
          const res = await fetch(`http://127.0.0.1:${opsPort}/readyz`);
          seen.push(`${res.status} ${(await res.text()).trim()}`);
          if (res.status === 200) return;
        } catch {
          /* not listening yet */
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      unit = await startService({
        name: 'location-unit',
        env: {
          TCE_MONGO_URL: store.url,
          TCE_OPS_PORT: String(opsPort),
          TCE_GRPC_PORT: String(port),
          TCE_ADVERTISE_ADDR: `127.0.0.1:${port}`,
          TCE_LOCATION_PEERS: `127.0.0.1:${port}`,
          TCE_LOCATION_PARTITIONS: `0-${PARTITIONS - 1}`,
          TCE_GPS_PARTITIONS: String(PARTITIONS),
          TCE_LOCATION_STALE_AFTER: '1h',
        },
        waitReady: false,
        timeoutMs: 60_000,
      });
      await waitFor('the unit to be ready', () => seen.at(-1)?.startsWith('200'), { timeoutMs: 120_000 });
    } finally {
      polling = false;
      await poll;
    }
    const loading = seen.filter((s) => /^503 not ready\npartitions: loading partitions \d/.test(s));
    assert.ok(loading.length > 0, `no 503 while loading among: ${[...new Set(seen)].join(' | ')}`);
    // Never ready before every partition was loaded: once 200, all users answer.
    const p = new ILocationUnitProxy(`127.0.0.1:${port}`);
    try {
      const all = await p.within({ min_lon: -180, min_lat: -90, max_lon: 180, max_lat: 90 }, 1);
      assert.equal(all.partial, false);
      const some = await p.latest(['user-0', `user-${USERS - 1}`]);
      assert.deepEqual(
        some.hits.map((h) => h.user_id),
        ['user-0', `user-${USERS - 1}`],
      );
    } finally {
      p.close();
    }
  });
});
