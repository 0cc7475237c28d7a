// RPC over the bus: the ordinary generated proxy (IDiagProxy) and servant
// (DiagServant) talking through EasyMQ queues instead of a socket: normal calls,
// extra → ctx.extra, timeout → deadline, typed errors, _oneway, _async, and
// several servant replicas competing for calls.
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { IDiagInfo, IDiagProxy } from '../../../proto/gen/ts/diag.tce.js';
import { MqClient } from '../../../services/mq/src/client/index.js';
import { BusChannel } from '../../../services/mq/src/rpc/bus-channel.js';
import { serveOnQueue } from '../../../services/mq/src/rpc/bus-server.js';
import {
  DiagServant,
  silentLogger,
  type CallContext,
  type PlatformError,
} from '../../../services/runtime/src/index.js';
import { startStore, waitFor, type Store } from '../../support/index.js';
import { PW, startBroker, type Broker } from './broker.js';

class CountingServant extends DiagServant {
  calls = 0;
  constructor(readonly name: string) {
    super();
  }
  override echo(text: string): string {
    this.calls++;
    return `${this.name}:${text}`;
  }
}

describe('EasyMQ: RPC over the bus', function () {
  let store: Store;
  let broker: Broker;
  let mq: MqClient;
  let proxy: IDiagProxy;
  const servants = [new CountingServant('r1'), new CountingServant('r2')];
  const subs: { close(): void }[] = [];

  before(async function () {
    store = await startStore();
    broker = await startBroker(store.url, [{ name: 'rpc.diag' }, { name: 'replies.caller' }]);
    mq = new MqClient(broker.addr);
    for (const s of servants)
      subs.push(serveOnQueue(mq, IDiagInfo, s, { queue: 'rpc.diag', password: PW, logger: silentLogger }));
    const channel = new BusChannel(mq, {
      queue: 'rpc.diag',
      password: PW,
      replyQueue: 'replies.caller',
      replyPassword: PW,
    });
    proxy = new IDiagProxy(channel as unknown as grpc.Client);
  });

  after(async function () {
    proxy?.close();
    for (const s of subs) s.close();
    mq?.close();
    await broker?.svc.stop();
    await store?.stop();
  });

  it('makes normal calls with extra and the deadline visible to the servant', async function () {
    assert.match(await proxy.echo('hello'), /^r[12]:hello$/);
    const who = await proxy.whoami({ extra: { trace: 'abc' }, timeout: 5000 });
    assert.deepEqual(who.extra, { trace: 'abc' });
    assert.ok(who.deadline_ms > 0 && who.deadline_ms <= 5000, `deadline_ms=${who.deadline_ms}`);
    assert.equal(who.peer, 'mq:rpc.diag');
  });

  it('maps typed errors and deadlines', async function () {
    await assert.rejects(proxy.sleep(-5), {
      code: 'INVALID_ARGUMENT',
      message: 'ms must be an integer between 0 and 60000, got -5',
    });
    await assert.rejects(proxy.sleep(3000, { timeout: 200 }), (e: PlatformError) => e.code === 'DEADLINE_EXCEEDED');
  });

  it('supports _oneway and _async', async function () {
    const before = servants[0]!.pingCount() + servants[1]!.pingCount();
    proxy.ping_oneway();
    await waitFor('the oneway ping', () => servants[0]!.pingCount() + servants[1]!.pingCount() === before + 1);
    const r = await new Promise<string | undefined>((resolve) => proxy.echo_async('cb', (_e, v) => resolve(v)));
    assert.match(r!, /^r[12]:cb$/);
  });

  it('spreads calls over competing servant replicas', async function () {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => proxy.echo(String(i))));
    results.forEach((r, i) => assert.match(r, new RegExp(`^r[12]:${i}$`)));
    assert.ok(
      servants.every((s) => s.calls > 0),
      servants.map((s) => s.calls).join('/'),
    );
  });
});

export const _ctx = (c: CallContext): string => c.peer;
