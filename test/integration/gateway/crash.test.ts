// Gateway crashes (kill -9) while messages are in flight: devices reconnect to
// the other replica and resume; nothing accepted is lost and the app sees no
// duplicate. A crashed replica's presence stops counting within the liveness
// bound and is swept.
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import type { Presence } from '../../../proto/gen/ts/messaging.js';
import { PRESENCE_COLLECTION, type PresenceDoc } from '../../../services/gateway/src/presence-store.js';
import { waitFor } from '../../support/index.js';
import { newUser, twoGatewaySuite, type Device, type Platform } from './platform.js';

const text = (t: string) => [{ type: 'text' as const, text: t }];

describe('gateway: crashes', function () {
  this.timeout(240_000);
  const suite = twoGatewaySuite();
  let p: Platform;
  const track = (...ds: Device[]): void => ds.forEach((device) => suite.track({ device }));

  before(function () {
    p = suite.platform();
  });

  it('kill -9 of either gateway mid-conversation: nothing lost, no duplicate shown', async function () {
    const [g1, g2] = p.gateways as [(typeof p.gateways)[0], (typeof p.gateways)[0]];
    const a = await newUser([g1.url, g2.url], 'sender');
    const b = await newUser([g2.url, g1.url], 'receiver');
    track(a.device, b.device);
    const n = 60;
    const results: string[] = [];
    const sending = (async () => {
      for (let i = 0; i < n; i++) results.push((await a.device.client.send(b.userId, text(`m${i}`))).msg_id);
    })();

    // Phase 1: the receiver's gateway dies; the receiver moves to gw-1.
    await b.device.waitFor(15, 60_000);
    await g2.proc.kill9();
    const restarted = await p.startGateway('gw-2', { TCE_WS_PORT: String(g2.port) });
    // Phase 2: the sender's gateway (now also the receiver's) dies; both move to gw-2.
    await b.device.waitFor(35, 60_000);
    await g1.proc.kill9();
    await sending;
    await a.device.client.send(b.userId, text('end'));
    await waitFor('the last message', () => b.device.texts().includes('end'), { timeoutMs: 60_000 });

    assert.deepEqual(b.device.texts(), [...Array.from({ length: n }, (_, i) => `m${i}`), 'end']);
    assert.equal(new Set(b.device.seen.map((m) => m.msg_id)).size, n + 1);
    assert.deepEqual(
      b.device.seen.slice(0, n).map((m) => m.msg_id),
      results,
    );
    assert.ok(b.device.closes.length >= 2, `the receiver was disconnected twice: ${JSON.stringify(b.device.closes)}`);
    // History lists each accepted message once (a crash between storing a message and
    // recording its idempotency key is repaired by the marked retry, or leaves a second
    // copy under the same id, which a page lists once).
    const page = await b.device.client.history(a.userId, 0, 100);
    assert.deepEqual(page.messages.map((m) => m.msg_id).reverse(), [...results, b.device.seen[n]!.msg_id]);
    assert.equal(restarted.proc.process.running, true);
  });

  it('a crashed gateway’s devices read as offline within the liveness bound, and its entries are swept', async function () {
    const live = p.gateways.find((g) => g.proc.process.running)!;
    const other = await p.startGateway('gw-3');
    const watcher = await newUser(live.url, 'watcher');
    const lonely = await newUser(other.url, 'lonely');
    track(watcher.device, lonely.device);
    const events: Presence[] = [];
    watcher.device.client.on('presence', (ev: Presence) => events.push(ev));
    // Asking also subscribes the watcher to the user's online/offline events.
    const [before] = await watcher.device.client.presence([lonely.userId]);
    assert.equal(before!.online, true);
    await other.proc.kill9();
    await waitFor(
      'the crashed gateway’s device to read as offline',
      async () => !(await watcher.device.client.presence([lonely.userId]))[0]!.online,
      { timeoutMs: 15_000 },
    );
    const mongo = new MongoClient(p.store.url);
    try {
      await waitFor(
        'the sweeper to remove the crashed gateway’s presence entries',
        async () => {
          const doc = await mongo.db().collection<PresenceDoc>(PRESENCE_COLLECTION).findOne({ _id: lonely.userId });
          return Object.values(doc?.devices ?? {}).every((e) => e.g !== 'gw-3');
        },
        { timeoutMs: 20_000 },
      );
    } finally {
      await mongo.close();
    }
    // The sweep that removed them told the watcher (TTL 4 s and a 1 s sweep here).
    await waitFor('the watcher’s offline event', () => events.some((e) => e.user_id === lonely.userId && !e.online));
  });
});
