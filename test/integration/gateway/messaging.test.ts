// Messaging through real gateways (two replicas), real auth, real EasyMQ and
// the real store: devices on different gateways chat both ways, offline
// devices catch up in order exactly once, retries are stored once, every
// device of a user has its own cursor, and the connection forwards calls to
// auth with the caller's verified identity.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { GpsPoint } from '../../../proto/gen/ts/location.js';
import { MqClient } from '../../../services/mq/src/client/index.js';
import { MongoClient } from 'mongodb';
import type { Message, SendResult } from '../../../proto/gen/ts/messaging.js';
import { CloseCode, FrameKind, IFACES, TceError, codec, type Receipt, type WireFrame } from '../../../sdk/src/index.js';
import { waitFor } from '../../support/index.js';
import { Device, newUser, twoGatewaySuite, type Platform } from './platform.js';
import { RawClient, refusal } from './raw-client.js';

const text = (t: string) => [{ type: 'text' as const, text: t }];

describe('gateway: messaging across replicas', function () {
  this.timeout(180_000);
  const suite = twoGatewaySuite();
  const track = suite.track;
  let p: Platform;
  let g1: string;
  let g2: string;

  before(function () {
    p = suite.platform();
    [g1, g2] = suite.urls();
  });

  it('two devices on two gateways exchange messages both ways, with delivery receipts', async function () {
    const a = track(await newUser(g1, 'alice'));
    const b = track(await newUser(g2, 'bob'));
    assert.equal(a.device.client.session!.gateway_id, 'gw-1');
    assert.equal(b.device.client.session!.gateway_id, 'gw-2');
    const receipts: Receipt[] = [];
    a.device.client.on('receipt', (r) => receipts.push(r));
    const sent = [];
    for (let i = 0; i < 10; i++) sent.push(await a.device.client.send(b.userId, text(`a→b ${i}`)));
    for (let i = 0; i < 10; i++) await b.device.client.send(a.userId, text(`b→a ${i}`));
    await b.device.waitFor(10);
    await a.device.waitFor(10);
    assert.deepEqual(
      b.device.texts(),
      Array.from({ length: 10 }, (_, i) => `a→b ${i}`),
    );
    assert.deepEqual(
      a.device.texts(),
      Array.from({ length: 10 }, (_, i) => `b→a ${i}`),
    );
    assert.deepEqual(
      b.device.seen.map((m) => m.seq),
      sent.map((s) => s.seq),
    );
    assert.ok(b.device.seen.every((m) => m.from_user === a.userId && m.to_user === b.userId));
    await waitFor('delivery receipts for all 10', () => new Set(receipts.map((r) => r.msg_id)).size === 10);
    assert.ok(receipts.every((r) => r.by_user === b.userId && r.state === 'delivered'));
  });

  it('sends each push only to the replica holding the recipient: a third replica gets no notice', async function () {
    const third = await p.startGateway('gw-3');
    const inNotices = async (opsPort: number): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
      return [...text.matchAll(/^tce_gateway_notices_total\{[^}]*direction="in"[^}]*\} (\d+)/gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
    };
    try {
      const a = track(await newUser(g1, 'amy'));
      const b = track(await newUser(g2, 'ben'));
      for (let i = 0; i < 5; i++) await a.device.client.send(b.userId, text(`to ben ${i}`));
      for (let i = 0; i < 5; i++) await b.device.client.send(a.userId, text(`to amy ${i}`));
      await b.device.waitFor(5);
      await a.device.waitFor(5);
      const receiving = p.gateways.find((g) => g.id === 'gw-2')!;
      assert.ok((await inNotices(receiving.proc.opsPort)) > 0, 'the recipient’s replica got its pushes as notices');
      assert.equal(await inNotices(third.proc.opsPort), 0);
    } finally {
      await third.proc.stop();
      p.gateways.splice(p.gateways.indexOf(third), 1);
    }
  });

  it('an offline device gets everything in order, exactly once, when it comes back', async function () {
    const a = track(await newUser(g1, 'amy'));
    const b = track(await newUser(g2, 'ben', 'ben-phone'));
    b.device.close();
    const n = 30;
    for (let i = 0; i < n; i++) await a.device.client.send(b.userId, text(`m${i}`));
    // Back, through the other gateway.
    const back = track({
      device: new Device({
        url: g1,
        deviceId: 'ben-phone',
        deviceType: 'test',
        accessToken: b.device.client.token!.access_token,
        refreshToken: b.device.client.token!.refresh_token,
      }),
    });
    await back.device.client.connect();
    await back.device.waitFor(n);
    assert.deepEqual(
      back.device.texts(),
      Array.from({ length: n }, (_, i) => `m${i}`),
    );
    const seqs = back.device.seen.map((m) => m.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
    );
    // The app remembers how far it got (the CLI keeps it in its session file); a
    // new instance resuming from there gets only what is new.
    back.device.close();
    const again = track({
      device: new Device({
        url: g2,
        deviceId: 'ben-phone',
        deviceType: 'test',
        accessToken: b.device.client.token!.access_token,
        lastSeq: back.device.client.lastSeq,
      }),
    });
    await again.device.client.connect();
    await a.device.client.send(b.userId, text('after'));
    await again.device.waitFor(1);
    assert.deepEqual(again.device.texts(), ['after']);
    const page = await again.device.client.history(a.userId, 0, 100);
    assert.equal(page.messages.length, n + 1);
    // The same history in pages of 7, newest first, joined by next_before_seq.
    const paged: string[] = [];
    for (let before = 0, i = 0; ; i++) {
      assert.ok(i < 10, 'paging ends');
      const p7 = await again.device.client.history(a.userId, before, 7);
      assert.ok(p7.messages.length <= 7);
      paged.push(...p7.messages.map((m) => m.msg_id));
      if (!p7.has_more) break;
      before = p7.next_before_seq;
    }
    assert.deepEqual(
      paged,
      page.messages.map((m) => m.msg_id),
    );
  });

  it('pushes a batch-capable device (push_batch=1) what it missed in onMessages calls; one return acks each call', async function () {
    const a = track(await newUser(g1, 'pia'));
    const b = track(await newUser(g2, 'pete', 'pete-phone'));
    const token = b.device.client.token!.access_token;
    b.device.close();
    const sent: SendResult[] = [];
    for (let i = 0; i < 10; i++) sent.push(await a.device.client.send(b.userId, text(`batch ${i}`)));
    const headers = { authorization: `Bearer ${token}` };
    const isPush = (f: WireFrame) => f.kind === FrameKind.CALL && f.iface === IFACES.terminal;
    const raw = await RawClient.open(`${g1}?push_batch=1`, { headers });
    try {
      const calls = () => raw.frames.filter(isPush);
      const pushed = () =>
        calls().flatMap((f) => (codec.decodeRequest(IFACES.terminal, 'onMessages', f.payload).msgs ?? []) as Message[]);
      await waitFor('all ten pushed', () => pushed().length === 10);
      assert.ok(
        calls().every((f) => f.method === 'onMessages'),
        calls()
          .map((f) => f.method)
          .join(),
      );
      assert.ok(calls().length < 10, `several messages per call: ${calls().length} calls`);
      assert.deepEqual(
        pushed().map((m) => m.seq),
        sent.map((r) => r.seq),
      );
      assert.deepEqual(
        pushed().map((m) => JSON.parse(m.mime_text)[0].text),
        sent.map((_, i) => `batch ${i}`),
      );
    } finally {
      raw.close();
    }
    // The returns acked every message: the cursor the gateway records covers the last one…
    const mongo = new MongoClient(p.store.url);
    try {
      await mongo.connect();
      const cursors = mongo.db().collection<{ _id: string; acked: number }>('gw_cursors');
      await waitFor('the cursor at the last message', async () => {
        const c = await cursors.findOne({ _id: `${b.userId}\npete-phone` });
        return c?.acked === sent.at(-1)!.seq;
      });
    } finally {
      await mongo.close();
    }
    // …so a device without push_batch gets only what is new, one onMessage per message.
    const plain = await RawClient.open(`${g2}?push_batch=0`, { headers });
    try {
      const after = await a.device.client.send(b.userId, text('single'));
      const f = await waitFor('the new message', () => plain.frames.find(isPush));
      assert.equal(f.method, 'onMessage');
      const msg = codec.decodeRequest(IFACES.terminal, 'onMessage', f.payload).msg as Message;
      assert.deepEqual([msg.seq, JSON.parse(msg.mime_text)[0].text], [after.seq, 'single']);
    } finally {
      plain.close();
    }
  });

  it('refuses a push_batch other than 0 or 1 at the upgrade with 400', async function () {
    const bad = await refusal(`${g1}?push_batch=yes`);
    assert.deepEqual([bad.status, bad.body], [400, 'push_batch must be 0 or 1, not "yes"']);
    const empty = await refusal(`${g1}?push_batch=`);
    assert.deepEqual([empty.status, empty.body], [400, 'push_batch must be 0 or 1, not ""']);
  });

  it('gives every device of a user its own cursor', async function () {
    const a = track(await newUser(g1, 'ann'));
    const phone = track(await newUser(g2, 'bea', 'bea-phone'));
    for (let i = 0; i < 5; i++) await a.device.client.send(phone.userId, text(`x${i}`));
    await phone.device.waitFor(5);
    // The laptop logs in later on the other gateway and still gets all five.
    const laptop = track({ device: new Device({ url: g1, deviceId: 'bea-laptop', deviceType: 'test' }) });
    await laptop.device.client.login(phone.username, phone.password);
    await laptop.device.waitFor(5);
    assert.deepEqual(laptop.device.texts(), phone.device.texts());
    await a.device.client.send(phone.userId, text('both'));
    await phone.device.waitFor(6);
    await laptop.device.waitFor(6);
  });

  it('stores a retried send once and answers it with the same id', async function () {
    const a = track(await newUser(g1, 'art'));
    const b = track(await newUser(g2, 'bo'));
    const first = await a.device.client.send(b.userId, text('once'), { clientMsgId: 'c-1' });
    const retry = await a.device.client.call<{ msg_id: string; seq: number; duplicate: boolean }>(
      IFACES.messages,
      'send',
      [b.userId, JSON.stringify(text('once')), 'c-1'],
      { extra: { retry: '1' } },
    );
    assert.equal(first.duplicate, false);
    assert.deepEqual([retry.msg_id, retry.seq, retry.duplicate], [first.msg_id, first.seq, true]);
    // A retry not declared as one, and three racing copies: still one message for the app.
    const undeclared = await a.device.client.send(b.userId, text('once'), { clientMsgId: 'c-1' });
    assert.equal(undeclared.msg_id, first.msg_id);
    const racing = await Promise.all(
      [1, 2, 3].map(() => a.device.client.send(b.userId, text('race'), { clientMsgId: 'c-2' })),
    );
    assert.equal(new Set(racing.map((r) => r.msg_id)).size, 1);
    await a.device.client.send(b.userId, text('end'), { clientMsgId: 'c-3' });
    await waitFor('the last message', () => b.device.texts().includes('end'));
    assert.deepEqual(b.device.texts(), ['once', 'race', 'end']);
    const hist = await b.device.client.history(a.userId, 0, 50);
    assert.deepEqual(hist.messages.map((m) => JSON.parse(m.mime_text)[0].text).reverse(), ['once', 'race', 'end']);
    // The same client_msg_id for another recipient is refused.
    await assert.rejects(a.device.client.send(a.userId, text('x'), { clientMsgId: 'c-1' }), (e: TceError) => {
      assert.equal(e.code, 'ALREADY_EXISTS');
      return true;
    });
  });

  it('accepts the compact MimeText form and delivers the canonical named form', async function () {
    const a = track(await newUser(g1, 'ava'));
    const b = track(await newUser(g2, 'bill'));
    await a.device.client.send(
      b.userId,
      '[{"0":1,"1":"bold","6":1},{"0":5,"1":"smile"},{"0":2,"1":"f1","4":"/files/f1"}]',
    );
    await b.device.waitFor(1);
    assert.equal(
      b.device.seen[0]!.mime_text,
      '[{"type":"text","text":"bold","bold":true},{"type":"emoticon","id":"smile"},{"type":"image","id":"f1","uri":"/files/f1"}]',
    );
  });

  it('refuses unknown recipients (NOT_FOUND) and oversized bodies (INVALID_ARGUMENT)', async function () {
    const a = track(await newUser(g1, 'abe'));
    await assert.rejects(a.device.client.send('u_doesnotexist', text('hello?')), (e: TceError) => {
      assert.deepEqual([e.code, e.message], ['NOT_FOUND', 'no such user: u_doesnotexist']);
      return true;
    });
    await assert.rejects(a.device.client.send(a.userId, text('€'.repeat(8000))), (e: TceError) => {
      assert.deepEqual([e.code, e.message], ['INVALID_ARGUMENT', 'mime_text: larger than 16384 bytes']);
      return true;
    });
  });

  it('reports presence across gateways', async function () {
    const a = track(await newUser(g1, 'al'));
    const b = track(await newUser(g2, 'bu'));
    const events: { user_id: string; online: boolean }[] = [];
    a.device.client.on('presence', (ev) => events.push(ev));
    // Asking about bob also subscribes to his changes (onPresence), across gateways.
    const [on] = await a.device.client.presence([b.userId]);
    assert.equal(on!.online, true);
    b.device.close();
    await waitFor('bob to read as offline', async () => {
      const [p1] = await a.device.client.presence([b.userId]);
      return !p1!.online && p1!.last_seen > 0;
    });
    await waitFor('an offline event for bob', () => events.some((e) => e.user_id === b.userId && !e.online));
    const back = track({ device: new Device({ url: g2, deviceId: 'bu-tab', deviceType: 'test' }) });
    await back.device.client.login(b.username, b.password);
    await waitFor('an online event for bob', () => events.some((e) => e.user_id === b.userId && e.online));
  });

  it('forwards auth calls with the caller identity; logout closes the connection', async function () {
    const a = track(await newUser(g1, 'axel'));
    const me = await a.device.client.call<{ user_id: string; username: string }>(IFACES.auth, 'getUser', [a.userId]);
    assert.deepEqual([me.user_id, me.username], [a.userId, a.username]);
    const sessions = await a.device.client.call<{ current: boolean; device_id: string }[]>(
      IFACES.auth,
      'listSessions',
      [],
    );
    assert.ok(
      sessions.some((s) => s.current && s.device_id === 'axel-phone'),
      JSON.stringify(sessions),
    );
    const closed = new Promise<{ code: number }>((r) => a.device.client.on('disconnected', r));
    await a.device.client.logout();
    assert.equal((await closed).code, CloseCode.TOKEN_REVOKED);
  });

  it('displaces a device that connects again through another gateway', async function () {
    const b = track(await newUser(g1, 'bert', 'bert-tab'));
    const again = track({ device: new Device({ url: g2, deviceId: 'bert-tab', deviceType: 'test' }) });
    await again.device.client.login(b.username, b.password);
    await waitFor(
      'the first connection to be displaced',
      () => b.device.closes.some((c) => c.code === CloseCode.DISPLACED),
      {
        timeoutMs: 15_000,
      },
    );
    assert.equal(b.device.client.state, 'closed');
    assert.equal(again.device.client.state, 'open');
  });

  it('publishes GPS reports to mq_gps keyed by the user, as location.GpsPoint', async function () {
    const a = track(await newUser(g2, 'gus'));
    const mq = new MqClient(`127.0.0.1:${p.mq!.env.TCE_GRPC_PORT}`);
    const seen: GpsPoint[] = [];
    const keys: string[] = [];
    const pw = JSON.parse(p.gateways[0]!.env.TCE_MQ_PASSWORDS!).mq_gps as string;
    const sub = mq.subscribe(
      { queue: 'mq_gps', password: pw, group: `test-${crypto.randomBytes(3).toString('hex')}` },
      (d) => {
        seen.push(GpsPoint.decode(d.payload));
        keys.push(d.key);
      },
    );
    try {
      await a.device.client.reportGpsConfirmed({ lon: 116.39, lat: 39.9, speed: 1.5, direction: 90 });
      a.device.client.reportGps({ lon: 116.4, lat: 39.91 });
      await waitFor('two GPS points from the queue', () => seen.filter((s) => s.user_id === a.userId).length >= 2, {
        timeoutMs: 20_000,
      });
      const mine = seen.filter((s) => s.user_id === a.userId);
      assert.deepEqual(
        mine.map((s) => [s.lon, s.lat]),
        [
          [116.39, 39.9],
          [116.4, 39.91],
        ],
      );
      assert.ok(keys.includes(a.userId));
      await assert.rejects(a.device.client.reportGpsConfirmed({ lon: 200, lat: 0 }), (e: TceError) => {
        assert.deepEqual([e.code, e.message], ['INVALID_ARGUMENT', 'lon must be between -180 and 180, got 200']);
        return true;
      });
    } finally {
      sub.close();
      mq.close();
    }
  });
});
