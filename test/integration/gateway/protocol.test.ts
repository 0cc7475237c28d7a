// The device protocol against a real gateway process: every bad input and
// policy has its documented outcome (docs/protocol.md), and the process
// survives all of them.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { MongoClient } from 'mongodb';
import { codec, CloseCode, FrameKind, IFACES } from '../../../sdk/src/index.js';
import { revoke } from '../../../services/tokens/src/index.js';
import { waitFor } from '../../support/index.js';
import { startPlatform, tokenFor, type Gateway, type Platform } from './platform.js';
import { RawClient, decodeValue, refusal } from './raw-client.js';

describe('gateway: device protocol', function () {
  this.timeout(120_000);
  let p: Platform;
  let gw: Gateway;
  let strict: Gateway;
  let retaining: Gateway;
  let limited: Gateway;
  let mongo: MongoClient;
  const open: RawClient[] = [];
  const connect = async (url: string, opts: { token?: string; origin?: string } = {}): Promise<RawClient> => {
    const c = await RawClient.open(url, {
      headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      origin: opts.origin,
    });
    open.push(c);
    return c;
  };

  before(async function () {
    p = await startPlatform({
      gateways: 0,
      auth: false,
      mq: false,
      gatewayEnv: { TCE_ALLOWED_ORIGINS: 'https://app.example.com', TCE_REVOCATION_POLL: '200ms' },
    });
    gw = await p.startGateway('proto-1');
    limited = await p.startGateway('proto-limited', {
      TCE_GATEWAY_RATE_LIMIT: '20',
      TCE_GATEWAY_RATE_BURST: '20',
      TCE_GATEWAY_PING_INTERVAL: '300ms',
      TCE_GATEWAY_IDLE_TIMEOUT: '1500ms',
    });
    strict = await p.startGateway('proto-strict', {
      TCE_GATEWAY_LOGIN_TIMEOUT: '1s',
      TCE_GATEWAY_PUSH_TIMEOUT: '1s',
      TCE_GATEWAY_MAX_SEND_QUEUE: '4096',
      TCE_GATEWAY_MAX_FRAME: '16384',
    });
    retaining = await p.startGateway('proto-retain', {
      TCE_GATEWAY_INBOX_RETENTION: '5s',
      TCE_GATEWAY_SWEEP_INTERVAL: '300ms',
    });
    mongo = new MongoClient(p.store.url);
    await mongo.connect();
  });

  afterEach(function () {
    for (const c of open.splice(0)) c.close();
  });

  after(async function () {
    await mongo?.close();
    await p?.stop();
  });

  async function assertAlive(g: Gateway): Promise<void> {
    assert.ok(g.proc.process.running, 'gateway process exited');
    const res = await fetch(`http://127.0.0.1:${g.proc.opsPort}/healthz`);
    assert.equal(res.status, 200);
    // With a token: `strict` closes unauthenticated connections after 1 s.
    const c = await connect(g.url, { token: tokenFor(p, 'alive', 'a1') });
    const f = await c.call(IFACES.diag, 'echo', ['still here']);
    assert.equal(decodeValue(IFACES.diag, 'echo', f), 'still here');
  }

  describe('at the upgrade', function () {
    it('refuses a foreign browser Origin with 403', async function () {
      const r = await refusal(gw.url, { origin: 'https://evil.example.net' });
      assert.equal(r.status, 403);
      assert.equal(r.body, 'origin not allowed: https://evil.example.net');
      await assertAlive(gw);
    });

    it('accepts a listed Origin, the same origin, and clients without Origin', async function () {
      await connect(gw.url, { origin: 'https://app.example.com' });
      await connect(gw.url, { origin: `http://127.0.0.1:${gw.port}` });
      await connect(gw.url);
    });

    it('refuses other paths with 404 and a bad token with 401 naming the reason', async function () {
      assert.equal((await refusal(gw.url.replace('/ws', '/other'))).status, 404);
      const bad = await refusal(gw.url, { headers: { authorization: 'Bearer not.a.token' } });
      assert.deepEqual([bad.status, bad.body], [401, 'malformed access token header']);
      const good = tokenFor(p, 'u', 'd');
      const tampered = `${good.slice(0, -2)}${good.endsWith('AA') ? 'BB' : 'AA'}`;
      const forged = await refusal(gw.url, { headers: { authorization: `Bearer ${tampered}` } });
      assert.deepEqual([forged.status, forged.body], [401, 'access token signature is invalid']);
      const expired = await refusal(gw.url, {
        headers: { authorization: `Bearer ${tokenFor(p, 'u', 'd', -120_000)}` },
      });
      assert.equal(expired.status, 401);
      assert.equal(expired.body, 'access token expired');
    });

    it('refuses connections above TCE_GATEWAY_MAX_CONNECTIONS with 503, and takes new ones when one leaves', async function () {
      const small = await p.startGateway('proto-small', { TCE_GATEWAY_MAX_CONNECTIONS: '2' });
      try {
        const a = await connect(small.url, { token: tokenFor(p, 'cap1', 'c1') });
        await connect(small.url, { token: tokenFor(p, 'cap2', 'c1') });
        const r = await refusal(small.url);
        assert.deepEqual([r.status, r.body], [503, 'gateway at capacity; try another replica']);
        a.close();
        await waitFor('a free place again', async () => {
          try {
            const c = await connect(small.url, { token: tokenFor(p, 'cap3', 'c1') });
            await c.call(IFACES.session, 'whoami', []);
            return true;
          } catch {
            return false;
          }
        });
      } finally {
        await small.proc.stop();
      }
    });

    it('answers a plain GET on /ws with 426', async function () {
      const res = await fetch(gw.url.replace('ws://', 'http://'));
      assert.equal(res.status, 426);
    });
  });

  describe('frames', function () {
    it('closes a text frame with 1003', async function () {
      const c = await connect(gw.url);
      c.send('{"hello":"json"}');
      assert.deepEqual(await c.waitClosed(), {
        code: CloseCode.UNSUPPORTED_DATA,
        reason: 'text frames are not supported; send binary Frame messages',
      });
      await assertAlive(gw);
    });

    it('closes an undecodable frame with 1002', async function () {
      const c = await connect(gw.url);
      c.send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]));
      const closed = await c.waitClosed();
      assert.equal(closed.code, CloseCode.PROTOCOL_ERROR);
      assert.match(closed.reason, /^malformed frame: /);
      await assertAlive(gw);
    });

    it('closes a frame of an unknown kind with 1002', async function () {
      const c = await connect(gw.url);
      c.send(codec.encodeStruct('messaging', 'Frame', { id: 1, kind: 9 }));
      assert.deepEqual(await c.waitClosed(), {
        code: CloseCode.PROTOCOL_ERROR,
        reason: 'malformed frame: unknown frame kind 9',
      });
    });

    it('closes an oversize frame with 1009', async function () {
      const c = await connect(strict.url);
      c.send(new Uint8Array(20_000));
      const closed = await c.waitClosed();
      assert.equal(closed.code, CloseCode.TOO_BIG);
      await assertAlive(strict);
    });

    it('answers application pings with pongs', async function () {
      const c = await connect(gw.url);
      c.send(codec.encodeStruct('messaging', 'Frame', { id: 77, kind: FrameKind.PING }));
      const f = await c.reply(77);
      assert.equal(f.kind, FrameKind.PONG);
    });
  });

  describe('calls', function () {
    it('answers unknown interfaces and methods with UNIMPLEMENTED', async function () {
      const c = await connect(gw.url, { token: tokenFor(p, 'carol', 'c1') });
      const cases: [Parameters<RawClient['callRaw']>[0], string][] = [
        [{ iface: 'foo.IBar', method: 'x' }, 'unknown interface foo.IBar'],
        [{ iface: IFACES.messages, method: 'nope' }, 'messaging.IMessageServer has no method nope'],
        [{ iface: IFACES.messages, method: 'constructor' }, 'messaging.IMessageServer has no method constructor'],
        [{ iface_index: 999, method_index: 1 }, 'unknown interface index 999'],
        [{ iface_index: 2, method_index: 99 }, 'messaging.IMessageServer has no method with index 99'],
        [
          { iface: IFACES.terminal, method: 'onMessage' },
          'messaging.ITerminal is implemented by devices, not by the platform',
        ],
      ];
      for (const [frame, message] of cases) {
        const f = await c.callRaw(frame);
        assert.equal(f.kind, FrameKind.ERROR);
        assert.deepEqual([f.error_code, f.error_message], ['UNIMPLEMENTED', message]);
      }
      const missing = await c.callRaw({ method: 'send' });
      assert.deepEqual(
        [missing.error_code, missing.error_message],
        ['INVALID_ARGUMENT', 'a call needs iface or iface_index'],
      );
      await assertAlive(gw);
    });

    it('refuses calls before login with UNAUTHENTICATED, serves public ones', async function () {
      const c = await connect(gw.url);
      const f = await c.call(IFACES.messages, 'send', ['bob', '[{"type":"text","text":"hi"}]', 'c1']);
      assert.equal(f.kind, FrameKind.ERROR);
      assert.equal(f.error_code, 'UNAUTHENTICATED');
      assert.equal(
        f.error_message,
        'login required: call auth.IAuthServer.userAuth or messaging.ISession.authenticate first',
      );
      assert.equal(decodeValue(IFACES.diag, 'echo', await c.call(IFACES.diag, 'echo', ['public'])), 'public');
      // The connection stays open and can log in afterwards.
      const s = decodeValue(
        IFACES.session,
        'authenticate',
        await c.call(IFACES.session, 'authenticate', [tokenFor(p, 'dave', 'd1')]),
      ) as {
        user_id: string;
        device_id: string;
        gateway_id: string;
      };
      assert.deepEqual([s.user_id, s.device_id, s.gateway_id], ['dave', 'd1', 'proto-1']);
      await assertAlive(gw);
    });

    it('refuses a bad token over the connection and another user on a bound connection', async function () {
      const c = await connect(gw.url, { token: tokenFor(p, 'erin', 'e1') });
      const bad = await c.call(IFACES.session, 'authenticate', ['x.y.z']);
      assert.deepEqual([bad.error_code, bad.error_message], ['UNAUTHENTICATED', 'malformed access token header']);
      const other = await c.call(IFACES.session, 'authenticate', [tokenFor(p, 'frank', 'f1')]);
      assert.equal(other.error_code, 'FAILED_PRECONDITION');
      const renewed = await c.call(IFACES.session, 'authenticate', [tokenFor(p, 'erin', 'e1')]);
      assert.equal(renewed.kind, FrameKind.RETURN);
    });

    it('addresses interfaces and methods by their IDL index', async function () {
      const c = await connect(gw.url, { token: tokenFor(p, 'gina', 'g1') });
      const f = await c.call(IFACES.session, 'whoami', [], {}, 'index');
      assert.equal((decodeValue(IFACES.session, 'whoami', f) as { user_id: string }).user_id, 'gina');
    });

    it('validates payloads: bad MimeText and recipients are INVALID_ARGUMENT with the reason', async function () {
      const c = await connect(gw.url, { token: tokenFor(p, 'hank', 'h1') });
      const cases: [unknown[], string][] = [
        [['ivy', '[{"type":"text","text":5}]', ''], 'mime_text[0].text: expected a string, got 5'],
        [['ivy', 'not json', ''], 'mime_text: not valid JSON'],
        [['', '[{"type":"text","text":"x"}]', ''], 'to: expected a user id (1-128 printable ASCII characters)'],
        [['ivy', '[{"type":"text","text":"x"}]', 'bad id!'], 'client_msg_id: expected 1-64 of A-Z a-z 0-9 . _ : -'],
      ];
      for (const [args, message] of cases) {
        const f = await c.call(IFACES.messages, 'send', args);
        assert.equal(f.error_code, 'INVALID_ARGUMENT');
        assert.ok(f.error_message.startsWith(message), `${f.error_message} should start with ${message}`);
      }
      const garbage = await c.callRaw({
        iface: IFACES.messages,
        method: 'history',
        payload: new Uint8Array([0x0a, 0xff]),
      });
      assert.deepEqual(
        [garbage.error_code, garbage.error_message],
        ['INVALID_ARGUMENT', 'payload is not a valid history request'],
      );
    });

    it('passes the call deadline: a call slower than its timeout gets DEADLINE_EXCEEDED', async function () {
      const c = await connect(gw.url, { token: tokenFor(p, 'jack', 'j1') });
      const id = 4242;
      c.send(
        codec.encodeStruct('messaging', 'Frame', {
          id,
          kind: FrameKind.CALL,
          iface: IFACES.diag,
          method: 'sleep',
          payload: codec.encodeRequest(IFACES.diag, 'sleep', [2000]),
          timeout_ms: 200,
        }),
      );
      const f = await c.reply(id);
      assert.deepEqual(
        [f.error_code, f.error_message],
        ['DEADLINE_EXCEEDED', 'diag.IDiag/sleep did not finish before its deadline'],
      );
      const who = decodeValue(IFACES.diag, 'whoami', await c.call(IFACES.diag, 'whoami', [], { k: 'v' })) as {
        user_id: string;
        extra: Record<string, string>;
      };
      assert.equal(who.user_id, 'jack');
      assert.deepEqual(who.extra, { k: 'v' });
    });
  });

  describe('calls in flight', function () {
    it('runs 64 calls of a connection at once: the next call answers RESOURCE_EXHAUSTED, a oneway is dropped and counted', async function () {
      const c = await connect(gw.url, { token: tokenFor(p, 'kate', 'k1') });
      await c.call(IFACES.diag, 'whoami', []);
      const dropped = async (): Promise<number> => {
        const text = await (await fetch(`http://127.0.0.1:${gw.proc.opsPort}/metrics`)).text();
        return Number(/^tce_gateway_oneway_dropped_total(?:\{[^}]*\})? (\d+)$/m.exec(text)?.[1] ?? NaN);
      };
      const before = await dropped();
      // Long enough that the 64 are still running when the two extra frames arrive
      // (all 66 go out in one burst and are read in order).
      const sleep = (id: number, kind: number): Uint8Array =>
        codec.encodeStruct('messaging', 'Frame', {
          id,
          kind,
          iface: IFACES.diag,
          method: 'sleep',
          payload: codec.encodeRequest(IFACES.diag, 'sleep', [3000]),
          timeout_ms: 60_000,
        });
      // Ids of their own, clear of the ones RawClient.call numbers from 1.
      for (let id = 1001; id <= 1064; id++) c.send(sleep(id, FrameKind.CALL));
      c.send(sleep(0, FrameKind.ONEWAY));
      c.send(sleep(1065, FrameKind.CALL));
      const refused = await c.reply(1065);
      assert.deepEqual(
        [refused.error_code, refused.error_message],
        ['RESOURCE_EXHAUSTED', 'more than 64 calls in flight on this connection'],
      );
      for (let id = 1001; id <= 1064; id++)
        assert.equal((await c.reply(id, 30_000)).kind, FrameKind.RETURN, `call ${id}`);
      assert.equal(await dropped(), before + 1);
      // The slots are free again (the dropped oneway never ran: nothing else is in flight).
      assert.equal((await c.call(IFACES.diag, 'whoami', [])).kind, FrameKind.RETURN);
    });
  });

  describe('connection policies', function () {
    it('closes a connection above its rate limit with 1008', async function () {
      const c = await connect(limited.url);
      for (let i = 0; i < 60; i++)
        c.send(codec.encodeStruct('messaging', 'Frame', { id: i + 1, kind: FrameKind.PING }));
      assert.deepEqual(await c.waitClosed(), {
        code: CloseCode.POLICY_VIOLATION,
        reason: 'rate limit exceeded (20 frames/s)',
      });
      await assertAlive(limited);
    });

    it('pings a silent device and drops it when it does not answer (idle timeout)', async function () {
      // A raw TCP WebSocket client that never answers pings (ws clients always do).
      const sock = net.connect(limited.port, '127.0.0.1');
      const key = crypto.randomBytes(16).toString('base64');
      const token = tokenFor(p, 'olga', 'o1');
      sock.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
      let data = Buffer.alloc(0);
      let ended = false;
      sock.on('data', (d: Buffer) => (data = Buffer.concat([data, d])));
      sock.on('close', () => (ended = true));
      sock.on('error', () => undefined);
      await waitFor('the connection to be dropped for silence', () => ended, { timeoutMs: 15_000 });
      const text = data.toString('latin1');
      assert.ok(text.startsWith('HTTP/1.1 101'), text.slice(0, 40));
      const frames = data.subarray(data.indexOf('\r\n\r\n') + 4);
      assert.ok(frames.includes(0x89), 'the gateway sent a WebSocket ping (opcode 0x9)');
      await assertAlive(limited);
    });

    it('closes its connections with 1001 when the gateway stops', async function () {
      const leaving = await p.startGateway('proto-leaving');
      const c = await connect(leaving.url, { token: tokenFor(p, 'stay', 's1') });
      await c.call(IFACES.session, 'whoami', []);
      try {
        await leaving.proc.stop();
        assert.deepEqual(await c.waitClosed(), { code: 1001, reason: 'gateway shutting down' });
      } finally {
        await leaving.proc.stop();
      }
    });

    it('closes a connection that does not log in in time with 4005', async function () {
      const c = await connect(strict.url);
      assert.deepEqual(await c.waitClosed(), { code: CloseCode.LOGIN_TIMEOUT, reason: 'not authenticated in time' });
    });

    it('displaces the older connection of the same device (onKicked, then 4001)', async function () {
      const first = await connect(gw.url, { token: tokenFor(p, 'kate', 'k1') });
      await first.call(IFACES.session, 'whoami', []);
      const second = await connect(gw.url, { token: tokenFor(p, 'kate', 'k1') });
      await second.call(IFACES.session, 'whoami', []);
      assert.deepEqual(await first.waitClosed(), {
        code: CloseCode.DISPLACED,
        reason: 'replaced by a newer connection of the same device',
      });
      const kicked = first.frames.find((f) => f.method === 'onKicked');
      assert.ok(kicked, 'onKicked was called before the close');
      assert.equal(
        codec.decodeRequest(IFACES.terminal, 'onKicked', kicked.payload).reason,
        'replaced by a newer connection of the same device',
      );
      assert.equal(second.closed, undefined);
      // Another device of the same user is not affected.
      const laptop = await connect(gw.url, { token: tokenFor(p, 'kate', 'k2') });
      await laptop.call(IFACES.session, 'whoami', []);
      assert.equal(second.closed, undefined);
    });

    it('starts a displacing connection after the acks of the one it displaced: nothing comes twice', async function () {
      const nina = await connect(gw.url, { token: tokenFor(p, 'nina', 'n1') });
      const send = async (text: string): Promise<void> => {
        const f = await nina.call(IFACES.messages, 'send', ['noah', JSON.stringify([{ type: 'text', text }]), '']);
        assert.equal(f.kind, FrameKind.RETURN, f.error_message);
      };
      let prev = await connect(gw.url, { token: tokenFor(p, 'noah', 'phone') });
      await prev.call(IFACES.session, 'whoami', []);
      for (const text of ['one', 'two', 'three']) await send(text);
      await waitFor('three pushes answered', () => prev.pushedTexts().length === 3);
      // Each round the phone connects again while its connection is open (a network switch):
      // the pushes it answered were acked, but their cursor is written only every few seconds
      // or when the feed stops — which the displacement does just before the new one reads it.
      for (let round = 1; round <= 3; round++) {
        const c = await connect(gw.url, { token: tokenFor(p, 'noah', 'phone') });
        const info = codec.decodeResponse(
          IFACES.session,
          'whoami',
          (await c.call(IFACES.session, 'whoami', [])).payload,
        ) as { acked_seq: number };
        assert.equal((await prev.waitClosed()).code, CloseCode.DISPLACED);
        assert.equal(Number(info.acked_seq), 2 + round, `round ${round}: where the displaced connection had acked`);
        await send(`after ${round}`);
        await waitFor(`round ${round}: the new message`, () => c.pushedTexts().includes(`after ${round}`));
        assert.deepEqual(c.pushedTexts(), [`after ${round}`], `round ${round}: nothing acked before came again`);
        prev = c;
      }
    });

    it('closes a connection whose token is revoked mid-session with 4002', async function () {
      const c = await connect(gw.url, { token: tokenFor(p, 'liam', 'l1', 600_000, 'sess-liam') });
      await c.call(IFACES.session, 'whoami', []);
      const other = await connect(gw.url, { token: tokenFor(p, 'liam', 'l2', 600_000, 'sess-liam-2') });
      await other.call(IFACES.session, 'whoami', []);
      await revoke(mongo.db(), { session: 'sess-liam' }, 600_000);
      assert.deepEqual(await c.waitClosed(), { code: CloseCode.TOKEN_REVOKED, reason: 'access token revoked' });
      // Only that session: the user's other session stays.
      assert.equal(other.closed, undefined);
      // And the revoked token no longer opens connections.
      const again = await refusal(gw.url, {
        headers: { authorization: `Bearer ${tokenFor(p, 'liam', 'l1', 600_000, 'sess-liam')}` },
      });
      assert.deepEqual([again.status, again.body], [401, 'access token revoked']);
      await assertAlive(gw);
    });

    it('closes a connection when its access token expires with 4003', async function () {
      // exp has whole seconds: 3 s leaves at least 2 s for the connect and whoami below.
      const c = await connect(gw.url, { token: tokenFor(p, 'mia', 'm1', 3000) });
      await c.call(IFACES.session, 'whoami', []);
      assert.deepEqual(await c.waitClosed(), {
        code: CloseCode.TOKEN_EXPIRED,
        reason: 'access token expired; renew it with ISession.authenticate or IAuthServer.refresh',
      });
    });

    it('closes with 4007 a device whose onMessage fails or never returns; the message comes again', async function () {
      const sam = await connect(strict.url, { token: tokenFor(p, 'sam', 's1') });
      const send = async (text: string): Promise<void> => {
        const f = await sam.call(IFACES.messages, 'send', ['rita', JSON.stringify([{ type: 'text', text }]), '']);
        assert.equal(f.kind, FrameKind.RETURN, f.error_message);
      };
      // 1. The device answers the push with an error.
      const failing = await connect(strict.url, { token: tokenFor(p, 'rita', 'r1') });
      failing.failCalls = { error_code: 'INTERNAL', error_message: 'the app crashed' };
      await failing.call(IFACES.session, 'whoami', []);
      await send('first');
      assert.deepEqual(await failing.waitClosed(), {
        code: 4007,
        reason: 'delivery failed: the app crashed',
      });
      // 2. Next time it does not answer at all (TCE_GATEWAY_PUSH_TIMEOUT 1 s here).
      const silent = await connect(strict.url, { token: tokenFor(p, 'rita', 'r1') });
      silent.autoAnswer = false;
      await silent.call(IFACES.session, 'whoami', []);
      await waitFor('the unacked message pushed again', () => silent.pushedTexts().includes('first'));
      const closed = await silent.waitClosed();
      assert.equal(closed.code, 4007);
      // 3. A device that returns the push gets it once more; that return is the ack.
      const good = await connect(strict.url, { token: tokenFor(p, 'rita', 'r1') });
      await good.call(IFACES.session, 'whoami', []);
      await waitFor('the message delivered', () => good.pushedTexts().includes('first'));
      await send('second');
      await waitFor('the next message', () => good.pushedTexts().includes('second'));
      assert.deepEqual(good.pushedTexts(), ['first', 'second']);
      await assertAlive(strict);
    });

    it('acks pushes with IMessageServer.ack and pushes again from resume(after_seq)', async function () {
      const ada = await connect(gw.url, { token: tokenFor(p, 'ada', 'a1') });
      for (let i = 1; i <= 5; i++) {
        const f = await ada.call(IFACES.messages, 'send', [
          'ike',
          JSON.stringify([{ type: 'text', text: `m${i}` }]),
          '',
        ]);
        assert.equal(f.kind, FrameKind.RETURN, f.error_message);
      }
      // A device that does not return its pushes but acks the first two explicitly.
      const first = await connect(gw.url, { token: tokenFor(p, 'ike', 'i1') });
      first.autoAnswer = false;
      await first.call(IFACES.session, 'whoami', []);
      await waitFor('five pushes', () => first.pushedTexts().length === 5);
      assert.equal((await first.call(IFACES.messages, 'ack', [2])).kind, FrameKind.RETURN);
      first.ws.close(1000);
      await first.waitClosed();
      // The next connection starts after the acked two.
      const next = await connect(gw.url, { token: tokenFor(p, 'ike', 'i1') });
      await next.call(IFACES.session, 'whoami', []);
      await waitFor('the three unacked pushes', () => next.pushedTexts().length === 3);
      assert.deepEqual(next.pushedTexts(), ['m3', 'm4', 'm5']);
      // resume(after_seq) pushes everything after it again.
      assert.equal((await next.call(IFACES.messages, 'resume', [3])).kind, FrameKind.RETURN);
      await waitFor('the pushes after 3 again', () => next.pushedTexts().length === 5);
      assert.deepEqual(next.pushedTexts(), ['m3', 'm4', 'm5', 'm4', 'm5']);
    });

    it('tells a device what retention deleted before it saw it (onReset), then pushes the rest', async function () {
      const tess = await connect(retaining.url, { token: tokenFor(p, 'tess', 't1') });
      const send = async (text: string): Promise<number> => {
        const f = await tess.call(IFACES.messages, 'send', ['olga', JSON.stringify([{ type: 'text', text }]), '']);
        return (decodeValue(IFACES.messages, 'send', f) as { seq: number }).seq;
      };
      assert.deepEqual([await send('old1'), await send('old2')], [1, 2]);
      // Olga is offline; retention (5 s here) deletes both and records how far it deleted.
      await waitFor(
        'retention to delete the old messages',
        async () =>
          ((
            await mongo
              .db()
              .collection('gw_inbox_counters')
              .findOne({ _id: 'olga' as never })
          )?.trimmed ?? 0) >= 2,
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      assert.equal(await send('new1'), 3);
      const olga = await connect(retaining.url, { token: tokenFor(p, 'olga', 'o1') });
      await olga.call(IFACES.session, 'whoami', []);
      await waitFor('the newer message', () => olga.pushedTexts().includes('new1'));
      const calls = olga.frames.filter((f) => f.kind === FrameKind.CALL);
      assert.deepEqual(
        calls.map((f) => f.method),
        ['onReset', 'onMessage'],
      );
      assert.equal(Number(codec.decodeRequest(calls[0]!.iface, 'onReset', calls[0]!.payload).first_available_seq), 3);
      assert.deepEqual(olga.pushedTexts(), ['new1']);
    });

    it('disconnects a device that stops reading once its send queue passes the bound (4004)', async function () {
      const c = await connect(strict.url, { token: tokenFor(p, 'nora', 'n1') });
      await c.call(IFACES.session, 'whoami', []);
      // Stop reading; keep asking for answers that pile up at the gateway.
      (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      // A message for the device while it does not read: its push is queued, then dropped with the connection.
      const olaf = await connect(strict.url, { token: tokenFor(p, 'olaf', 'o1') });
      const sent = await olaf.call(IFACES.messages, 'send', [
        'nora',
        JSON.stringify([{ type: 'text', text: 'kept' }]),
        '',
      ]);
      assert.equal(sent.kind, FrameKind.RETURN, sent.error_message);
      const big = 'x'.repeat(15_000);
      for (let i = 0; i < 20; i++) {
        c.send(
          codec.encodeStruct('messaging', 'Frame', {
            id: 1000 + i,
            kind: FrameKind.CALL,
            iface: IFACES.diag,
            method: 'echo',
            payload: codec.encodeRequest(IFACES.diag, 'echo', [big]),
          }),
        );
      }
      // The kernel buffers absorb some; keep the pressure on until the gateway gives up.
      await waitFor(
        'the slow consumer to be disconnected',
        async () => {
          const metrics = await (await fetch(`http://127.0.0.1:${strict.proc.opsPort}/metrics`)).text();
          if (/tce_gateway_connections_closed_total\{[^}]*code="4004"[^}]*\} [1-9]/.test(metrics)) return true;
          for (let i = 0; i < 10 && c.ws.readyState === c.ws.OPEN; i++) {
            c.send(
              codec.encodeStruct('messaging', 'Frame', {
                id: 2000 + i,
                kind: FrameKind.CALL,
                iface: IFACES.diag,
                method: 'echo',
                payload: codec.encodeRequest(IFACES.diag, 'echo', [big]),
              }),
            );
          }
          return false;
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      // The message stayed in the inbox: the device's next connection gets it.
      const back = await connect(strict.url, { token: tokenFor(p, 'nora', 'n1') });
      await back.call(IFACES.session, 'whoami', []);
      await waitFor('the message kept for the slow device', () => back.pushedTexts().includes('kept'));
      await assertAlive(strict);
    });
  });

  // Last: it takes the store away from every gateway of this suite.
  describe('without its store', function () {
    it('closes a new session with 1011, reads as not ready, and stays alive', async function () {
      await p.store.process.kill9();
      const c = await connect(gw.url, { token: tokenFor(p, 'late', 'l1') });
      assert.deepEqual(await c.waitClosed(30_000), { code: 1011, reason: 'could not start the session' });
      // The same with ISession.authenticate on an open connection: no half-started session is left
      // behind (its feeds would never push, and a retried authenticate would only renew it).
      const d = await connect(gw.url);
      void d.call(IFACES.session, 'authenticate', [tokenFor(p, 'later', 'l2')]).catch(() => undefined);
      assert.deepEqual(await d.waitClosed(30_000), { code: 1011, reason: 'could not start the session' });
      await waitFor(
        '/readyz to name the store',
        async () => {
          const res = await fetch(`http://127.0.0.1:${gw.proc.opsPort}/readyz`);
          return res.status === 503 && (await res.text()).includes('store: store does not answer');
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      assert.ok(gw.proc.process.running, 'gateway process exited');
      assert.equal((await fetch(`http://127.0.0.1:${gw.proc.opsPort}/healthz`)).status, 200);
    });
  });
});
