// Two RPC peers wired back to back: calls out, calls in, errors, timeouts,
// oneway, and what happens to pending calls when the connection goes.
import assert from 'node:assert/strict';
import { codec, decodeFrame, encodeFrame, FrameKind, RpcPeer, TceError, backoffDelay } from '../../../sdk/src/index.js';
import { waitFor } from '../../support/index.js';

function pair(
  serverServants: Map<string, object>,
  clientServants = new Map<string, object>(),
): { a: RpcPeer; b: RpcPeer } {
  const peers: { a?: RpcPeer; b?: RpcPeer } = {};
  const a = new RpcPeer({ send: (d) => queueMicrotask(() => peers.b!.receive(d)) }, codec, clientServants);
  const b = new RpcPeer({ send: (d) => queueMicrotask(() => peers.a!.receive(d)) }, codec, serverServants);
  Object.assign(peers, { a, b });
  return { a, b };
}

describe('SDK RPC peer', function () {
  const diag = {
    echo: (t: string) => t,
    whoami: () => ({ user_id: 'u', device_id: 'd', extra: {}, deadline_ms: 1, peer: 'p' }),
    sleep: () => new Promise(() => undefined),
    ping: () => undefined,
    pingCount: () => {
      throw new TceError('FAILED_PRECONDITION', 'not counting');
    },
  };

  it('calls and gets values back', async function () {
    const { a } = pair(new Map([['diag.IDiag', diag]]));
    assert.equal(await a.call('diag.IDiag', 'echo', ['hi']), 'hi');
    assert.deepEqual(await a.call('diag.IDiag', 'whoami', []), {
      user_id: 'u',
      device_id: 'd',
      extra: {},
      deadline_ms: 1,
      peer: 'p',
    });
  });

  it('reports servant errors with their code, unknown methods as UNIMPLEMENTED', async function () {
    const { a } = pair(new Map([['diag.IDiag', diag]]));
    await assert.rejects(
      a.call('diag.IDiag', 'pingCount', []),
      (e: TceError) => e.code === 'FAILED_PRECONDITION' && e.message === 'not counting',
    );
    await assert.rejects(a.call('messaging.IMessageServer', 'ack', [1]), (e: TceError) => e.code === 'UNIMPLEMENTED');
  });

  it("answers the platform's calls the app has no handler for with UNIMPLEMENTED, naming what is missing", async function () {
    // The device side (b) implements ITerminal with onMessage only.
    const { a } = pair(new Map([['messaging.ITerminal', { onMessage: () => undefined }]]));
    const refused = (message: string) => (e: TceError) => {
      assert.deepEqual([e.code, e.message], ['UNIMPLEMENTED', message]);
      return true;
    };
    await assert.rejects(
      a.call('location.ILocationQuery', 'latest', [[]]),
      refused('this device does not implement location.ILocationQuery'),
    );
    await assert.rejects(
      a.call('messaging.ITerminal', 'onKicked', ['x']),
      refused('messaging.ITerminal.onKicked is not implemented'),
    );
    await a.call('messaging.ITerminal', 'onMessage', [{ msg_id: 'm', seq: 1 }]);
    // A method the IDL does not have (sent by name, as a newer platform might).
    const answers: Uint8Array[] = [];
    const device = new RpcPeer(
      { send: (d) => void answers.push(d) },
      codec,
      new Map([['messaging.ITerminal', { onMessage: () => undefined }]]),
    );
    device.receive(encodeFrame({ id: 7, kind: FrameKind.CALL, iface: 'messaging.ITerminal', method: 'onTeleport' }));
    await waitFor('the answer', () => answers.length === 1);
    const f = decodeFrame(answers[0]!);
    assert.deepEqual(
      [f.id, f.kind, f.error_code, f.error_message],
      [7, FrameKind.ERROR, 'UNIMPLEMENTED', 'messaging.ITerminal has no method onTeleport'],
    );
  });

  it('times out, and fails pending calls when closed', async function () {
    const { a } = pair(new Map([['diag.IDiag', diag]]));
    await assert.rejects(
      a.call('diag.IDiag', 'sleep', [10], { timeout: 30 }),
      (e: TceError) => e.code === 'DEADLINE_EXCEEDED',
    );
    const pending = a.call('diag.IDiag', 'sleep', [10]);
    a.close('gone');
    await assert.rejects(pending, (e: TceError) => e.code === 'UNAVAILABLE' && e.message === 'gone');
    await assert.rejects(a.call('diag.IDiag', 'echo', ['x']), (e: TceError) => e.code === 'UNAVAILABLE');
  });

  it('serves oneway calls without answering', async function () {
    let got = '';
    const { a } = pair(new Map([['messaging.ITerminal', { onKicked: (r: string) => void (got = r) }]]));
    a.oneway('messaging.ITerminal', 'onKicked', ['bye']);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(got, 'bye');
    assert.equal(a.pending, 0);
  });
});

describe('SDK reconnect backoff', function () {
  it('grows exponentially up to the cap, with full jitter', function () {
    const o = { initialMs: 100, maxMs: 1000 };
    assert.equal(backoffDelay(0, { ...o, random: () => 0.999 }), 99);
    assert.equal(backoffDelay(3, { ...o, random: () => 0.999 }), 799);
    assert.equal(backoffDelay(10, { ...o, random: () => 0.999 }), 999);
    assert.equal(backoffDelay(10, { ...o, random: () => 0 }), 50, 'never below the floor');
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(5, o)));
    assert.ok(spread.size > 10, 'jittered');
  });
});
