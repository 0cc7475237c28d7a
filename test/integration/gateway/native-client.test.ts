// docs/protocol.md says it "is enough to write a native client". This suite
// checks the claim: native-client.ts was written from that page and the
// .proto files alone (ws + protobufjs, nothing from the SDK or the generated
// TypeScript), and here it talks to the real platform (gateway, auth, EasyMQ,
// store as processes): register and log in over the connection, send with a
// client_msg_id, receive the ITerminal.onMessage push and return it as the
// ack, retry a send, reconnect after the last acked seq (one call per message
// and push_batch=1), resume, the compact MimeText form, and the documented
// errors for an unknown method.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { waitFor } from '../../support/index.js';
import {
  CallError,
  Kind,
  NativeClient,
  Schema,
  summary,
  type ConnectOptions,
  type Message,
  type SendResult,
  type SessionInfo,
  type TerminalHandlers,
  type Token,
} from './native-client.js';
import { startPlatform, type Platform } from './platform.js';

const AUTH = 'auth.IAuthServer';
const MSG = 'messaging.IMessageServer';
const SESSION = 'messaging.ISession';
const DIAG = 'diag.IDiag';

/** One person using the native client, and what their app handled. */
interface Person {
  username: string;
  password: string;
  deviceId: string;
  userId: string;
  token: Token;
  client: NativeClient;
  /** Messages handed to the app, in order: each once (redeliveries dropped). */
  handled: Message[];
  /** Redeliveries the app dropped: `seq` at or below the last one it handled. */
  dropped: Message[];
  receipts: { msg_id: string; by_user: string; state: string }[];
  /** The highest inbox `seq` the app handled (and acked): its own cursor. */
  lastSeq: number;
}

/** The app's ITerminal: at-least-once delivery made exactly-once, as the doc asks. */
function handlersFor(who: Person): TerminalHandlers {
  return {
    onMessage: (m) => {
      if (m.seq <= who.lastSeq) who.dropped.push(m);
      else {
        who.handled.push(m);
        who.lastSeq = m.seq;
      }
    },
    onReceipt: (r) => void who.receipts.push(r),
  };
}

const text = (t: string): string => JSON.stringify([{ type: 'text', text: t }]);
const textOf = (m: Message): string => (JSON.parse(m.mime_text) as { text: string }[])[0]!.text;

/** Expects an `error` frame with this code and message. */
async function rejects(p: Promise<unknown>, code: string, message: string | RegExp): Promise<void> {
  const err = await p.then(
    (v) => assert.fail(`expected ${code}, got an answer: ${JSON.stringify(v)}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof CallError, `expected an error frame, got ${String(err)}`);
  assert.equal(err.code, code);
  if (typeof message === 'string') assert.equal(err.message, `${code}: ${message}`);
  else assert.match(err.message, message);
}

/**
 * What came on the wire after a reconnect: the gateway starts after the
 * device's cursor by itself. When the cursor held every ack (the first push
 * is the first message sent while away), that is exactly those messages, each
 * once, in order; otherwise the first pushes are unrecorded acks coming again.
 */
function assertCaughtUp(c: NativeClient, lastAcked: number, sent: SendResult[]): void {
  const seqs = c.pushed().map((m) => m.seq);
  const frames = JSON.stringify(c.received.map(summary));
  if (seqs[0] === sent[0]!.seq) {
    assert.deepEqual(
      seqs,
      sent.map((s) => s.seq),
      frames,
    );
  } else {
    assert.ok(seqs[0]! <= lastAcked, frames);
  }
}

describe('gateway: a native client written from docs/protocol.md', function () {
  this.timeout(180_000);
  let p: Platform | undefined;
  let url: string;
  let schema: Schema;
  const clients: NativeClient[] = [];
  let alice: Person;
  let bob: Person;

  const connect = async (opts: ConnectOptions = {}): Promise<NativeClient> => {
    const c = await NativeClient.connect(url, schema, opts);
    clients.push(c);
    return c;
  };

  /** Registers a fresh user and logs in on a new connection, as the doc describes. */
  const person = async (name: string): Promise<Person> => {
    const who: Person = {
      username: `${name}${crypto.randomBytes(3).toString('hex')}`,
      password: `pw-${crypto.randomBytes(8).toString('hex')}-Zq9`,
      deviceId: `${name}-native-${crypto.randomBytes(3).toString('hex')}`,
      userId: '',
      token: undefined as unknown as Token,
      client: undefined as unknown as NativeClient,
      handled: [],
      dropped: [],
      receipts: [],
      lastSeq: 0,
    };
    const c = (who.client = await connect({ handlers: handlersFor(who) }));

    // Before login: platform calls answer UNAUTHENTICATED and the connection stays open.
    await rejects(c.call(SESSION, 'whoami'), 'UNAUTHENTICATED', /^UNAUTHENTICATED: login required: /);
    assert.equal(await c.call(DIAG, 'echo', { text: 'still open' }), 'still open');

    who.userId = await c.call<string>(AUTH, 'registerUser', {
      info: { username: who.username, password: who.password },
    });
    assert.match(who.userId, /^u_[A-Za-z0-9_-]{16}$/);
    // Registering does not log in.
    await rejects(c.call(SESSION, 'whoami'), 'UNAUTHENTICATED', /^UNAUTHENTICATED: login required: /);

    who.token = await c.call<Token>(
      AUTH,
      'userAuth',
      { user: who.username, passwd: who.password, device_type: 'native-test' },
      { extra: { 'device-id': who.deviceId } },
    );
    assert.equal(who.token.user_id, who.userId);
    assert.equal(who.token.username, who.username);
    assert.equal(who.token.device_id, who.deviceId);
    assert.ok(who.token.access_token && who.token.refresh_token);
    assert.ok(who.token.access_expires_at > Date.now());
    return who;
  };

  /** Bob goes offline; alice sends him `n` messages; the answers, in order. */
  const sendWhileAway = async (label: string, n: number): Promise<SendResult[]> => {
    await bob.client.close();
    const sent: SendResult[] = [];
    for (let i = 1; i <= n; i++) {
      sent.push(
        await alice.client.call<SendResult>(MSG, 'send', {
          to_: bob.userId,
          mime_text: text(`${label} ${i}`),
          client_msg_id: `nc-${label}-${i}`,
        }),
      );
    }
    return sent;
  };

  /**
   * Bob's device comes back with his access token, at the upgrade or with
   * ISession.authenticate on the open connection, and calls
   * `resume(last seq handled)` only when the gateway's cursor is behind what
   * the app had before this connection (acks lost with the old one).
   */
  const reconnectBob = async (how: 'upgrade' | 'authenticate', opts: ConnectOptions = {}): Promise<SessionInfo> => {
    const had = bob.lastSeq;
    let info: SessionInfo;
    if (how === 'upgrade') {
      bob.client = await connect({ accessToken: bob.token.access_token, handlers: handlersFor(bob), ...opts });
      // The session starts in the background; whoami answers once it has.
      info = await bob.client.call<SessionInfo>(SESSION, 'whoami');
    } else {
      bob.client = await connect({ handlers: handlersFor(bob), ...opts });
      info = await bob.client.call<SessionInfo>(SESSION, 'authenticate', { access_token: bob.token.access_token });
      // Nothing is pushed before this answer, so acked_seq is where the pushes
      // start. By wire order: pushes read in the same chunk as the answer are
      // already in `received` when this line runs.
      const frames = bob.client.received;
      const answer = frames.findIndex((f) => f.kind === Kind.RETURN);
      assert.deepEqual(
        frames
          .slice(0, answer)
          .filter((f) => f.kind === Kind.CALL)
          .map(summary),
        [],
        'the gateway pushed before answering authenticate',
      );
    }
    // With a token at connect pushes may come, and be acked, before whoami
    // answers: `acked_seq` is the cursor when the answer was made, never past what bob acked.
    assert.ok(info.acked_seq <= bob.lastSeq, `cursor ${info.acked_seq} is past what bob acked (${bob.lastSeq})`);
    assert.equal(info.user_id, bob.userId);
    assert.equal(info.device_id, bob.deviceId);
    if (info.acked_seq < had) await bob.client.call(MSG, 'resume', { after_seq: had });
    return info;
  };

  before(async function () {
    schema = await Schema.load();
    p = await startPlatform({ gateways: 1 });
    url = p.gateways[0]!.url;
  });

  after(async function () {
    try {
      for (const c of clients.splice(0)) await c.close();
    } finally {
      await p?.stop();
    }
  });

  it('registers two users and logs each in over its own connection', async function () {
    alice = await person('alice');
    bob = await person('bob');
    const info = await bob.client.call<SessionInfo>(SESSION, 'whoami');
    assert.equal(info.user_id, bob.userId);
    assert.equal(info.device_id, bob.deviceId);
    assert.equal(info.username, bob.username);
    assert.equal(info.gateway_id, 'gw-1');
    assert.equal(info.acked_seq, 0);
    // The same call naming interface and method by their indexes (ISession 20, whoami 2).
    assert.deepEqual(await bob.client.call<SessionInfo>(SESSION, 'whoami', {}, { byIndex: true }), info);
    // An application ping is answered by a pong with the same id.
    const pong = await bob.client.ping();
    assert.equal(pong.kind, Kind.PONG);
  });

  let first: SendResult;
  it('alice sends bob a message with a client_msg_id; bob gets the onMessage push and acks it', async function () {
    first = await alice.client.call<SendResult>(MSG, 'send', {
      to_: bob.userId,
      mime_text: text('hello bob'),
      client_msg_id: 'nc-hello-1',
    });
    assert.ok(first.msg_id);
    assert.ok(first.seq > 0);
    assert.ok(first.sent_at > 0);
    assert.equal(first.duplicate, false);

    await waitFor('bob to handle the message', () => bob.handled.length >= 1);
    const m = bob.handled[0]!;
    assert.equal(m.msg_id, first.msg_id);
    assert.equal(m.seq, first.seq);
    assert.equal(m.from_user, alice.userId);
    assert.equal(m.to_user, bob.userId);
    assert.equal(m.client_msg_id, 'nc-hello-1');
    assert.equal(m.group_id, '');
    assert.deepEqual(JSON.parse(m.mime_text), [{ type: 'text', text: 'hello bob' }]);

    // It came as a call (kind 1, an id of the gateway's own) on bob's ITerminal.onMessage.
    const [push] = bob.client.terminalCalls('onMessage');
    assert.ok(push && push.id > 0 && push.timeout_ms > 0);

    // Bob's return is the ack, and it is observable: alice (online) gets a `delivered` receipt.
    const r = await waitFor('alice to get the delivery receipt', () =>
      alice.receipts.find((x) => x.msg_id === first.msg_id),
    );
    assert.equal(r.by_user, bob.userId);
    assert.equal(r.state, 'delivered');
  });

  it('a retried send with the same client_msg_id answers with the first copy, stored once', async function () {
    const again = await alice.client.call<SendResult>(
      MSG,
      'send',
      { to_: bob.userId, mime_text: text('hello bob'), client_msg_id: 'nc-hello-1' },
      { extra: { retry: '1' } },
    );
    assert.equal(again.msg_id, first.msg_id);
    assert.equal(again.seq, first.seq);
    assert.equal(again.duplicate, true);
    await rejects(
      alice.client.call(MSG, 'send', { to_: bob.userId, mime_text: text('x'), client_msg_id: 'has space' }),
      'INVALID_ARGUMENT',
      'client_msg_id: expected 1-64 of A-Z a-z 0-9 . _ : -',
    );
  });

  it('accepts the compact numeric MimeText form and pushes the canonical named form', async function () {
    const sent = await alice.client.call<SendResult>(MSG, 'send', {
      to_: bob.userId,
      mime_text: JSON.stringify([{ '0': 1, '1': 'compact hi', '6': 1 }]),
      client_msg_id: 'nc-compact-1',
    });
    assert.ok(sent.seq > first.seq);
    const m = await waitFor('bob to handle the compact message', () =>
      bob.handled.find((x) => x.msg_id === sent.msg_id),
    );
    assert.deepEqual(JSON.parse(m.mime_text), [{ type: 'text', text: 'compact hi', bold: true }]);
    // The retried send was never pushed again: two messages, each pushed once, in seq order.
    assert.deepEqual(
      bob.client.pushed().map((x) => x.msg_id),
      [first.msg_id, sent.msg_id],
    );
    assert.deepEqual(bob.dropped, []);
  });

  it('bob reconnects after his last acked seq and receives exactly the messages after it, in order', async function () {
    const lastAcked = bob.lastSeq;
    const sent = await sendWhileAway('away', 3);
    const from = bob.handled.length;
    await reconnectBob('upgrade');

    await waitFor('bob to handle the 3 messages sent while away', () => bob.handled.length >= from + 3);
    const got = bob.handled.slice(from);
    assert.deepEqual(got.map(textOf), ['away 1', 'away 2', 'away 3']);
    assert.deepEqual(
      got.map((m) => m.seq),
      sent.map((s) => s.seq),
    );
    assert.deepEqual(
      got.map((m) => m.msg_id),
      sent.map((s) => s.msg_id),
    );
    assert.ok(got[0]!.seq > lastAcked);
    assertCaughtUp(bob.client, lastAcked, sent);
  });

  it('resume(after_seq) redelivers everything after after_seq on the connection; the app drops what it has', async function () {
    const handled = bob.handled.length;
    const dropped = bob.dropped.length;
    const before = bob.client.pushed().length;
    const expected = bob.handled.filter((m) => m.seq > first.seq).map((m) => m.seq);
    assert.equal(expected.length, 4);
    await bob.client.call(MSG, 'resume', { after_seq: first.seq });
    // The redelivery: from the first message after `after_seq`, everything, in order.
    const redelivered = (): number[] => {
      const seqs = bob.client
        .pushed()
        .slice(before)
        .map((m) => m.seq);
      return seqs.slice(Math.max(0, seqs.indexOf(expected[0]!)));
    };
    await waitFor('the redelivery', () => redelivered().length >= expected.length);
    assert.deepEqual(redelivered(), expected);
    await waitFor('bob to drop them all', () => bob.dropped.length >= dropped + expected.length);
    assert.equal(bob.handled.length, handled);
  });

  it('with push_batch=1, a catch-up comes in onMessages calls, in order, each message once', async function () {
    const lastAcked = bob.lastSeq;
    const sent = await sendWhileAway('batch', 3);
    const from = bob.handled.length;
    await reconnectBob('authenticate', { pushBatch: true });
    await waitFor('bob to handle the 3 messages', () => bob.handled.length >= from + 3);
    assert.deepEqual(bob.handled.slice(from).map(textOf), ['batch 1', 'batch 2', 'batch 3']);
    assert.deepEqual(
      bob.handled.slice(from).map((m) => m.seq),
      sent.map((s) => s.seq),
    );
    const batches = bob.client.terminalCalls('onMessages');
    assert.ok(batches.length >= 1, 'a catch-up of several ready messages comes as onMessages');
    assertCaughtUp(bob.client, lastAcked, sent);
  });

  it('answers an unknown method or interface, by name or by index, with the documented errors', async function () {
    const c = alice.client;
    await rejects(
      c.callFrame({ iface: MSG, method: 'nope' }),
      'UNIMPLEMENTED',
      'messaging.IMessageServer has no method nope',
    );
    await rejects(c.callFrame({ iface: 'foo.IBar', method: 'x' }), 'UNIMPLEMENTED', 'unknown interface foo.IBar');
    await rejects(
      c.callFrame({ iface_index: 2, method_index: 99 }),
      'UNIMPLEMENTED',
      'messaging.IMessageServer has no method with index 99',
    );
    await rejects(c.callFrame({ iface_index: 77, method_index: 1 }), 'UNIMPLEMENTED', 'unknown interface index 77');
    // The connection still serves.
    assert.equal(await c.call(DIAG, 'echo', { text: 'after' }), 'after');
    assert.equal(c.closeInfo, undefined);
    assert.deepEqual(c.problems, []);
    assert.deepEqual(bob.client.problems, []);
  });
});
