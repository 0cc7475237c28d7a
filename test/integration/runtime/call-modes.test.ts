// The TCE call modes over a real gRPC socket: normal calls with timeout→deadline
// and extra→ctx.extra, _oneway, _async (callback and promise), typed errors,
// verified identity, health, reflection (grpcurl) and graceful shutdown.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { IDiagInfo, IDiagProxy } from '../../../proto/gen/ts/diag.tce.js';
import {
  DiagServant,
  PlatformError,
  RpcServer,
  createLogger,
  createMetrics,
  type CallContext,
} from '../../../services/runtime/src/index.js';
import { bin, repoRoot, run, waitFor } from '../../support/index.js';

const logged: string[] = [];
const logger = createLogger('test', 'error', (l) => logged.push(l));

/** A diag servant plus one method that fails the way a buggy servant would. */
class TestServant extends DiagServant {
  /** sleep() calls that reached the servant (tests wait for an in-flight call with it), and that returned. */
  sleeping = 0;
  slept = 0;

  override async sleep(ms: number, ctx: CallContext): Promise<void> {
    this.sleeping++;
    await super.sleep(ms, ctx);
    this.slept++;
  }

  override echo(text: string): string {
    if (text === 'not-found') throw new PlatformError('NOT_FOUND', 'no such thing: x');
    if (text === 'crash') throw new Error('secret internal detail');
    return text;
  }
}

async function startServer(key?: Buffer): Promise<{ server: RpcServer; port: number; servant: TestServant }> {
  const servant = new TestServant();
  const server = new RpcServer({
    logger,
    metrics: createMetrics('test'),
    identityKey: key,
    descriptorSet: path.join(repoRoot, 'proto', 'gen', 'descriptors.binpb'),
  });
  server.addServant(IDiagInfo, servant);
  const port = await server.listen('127.0.0.1:0');
  return { server, port, servant };
}

describe('RPC runtime: TCE call modes over gRPC', function () {
  const key = crypto.randomBytes(32);
  let server: RpcServer;
  let port: number;
  let servant: TestServant;
  let proxy: IDiagProxy;

  before(async function () {
    ({ server, port, servant } = await startServer(key));
    proxy = new IDiagProxy(`127.0.0.1:${port}`);
  });

  after(async function () {
    proxy?.close();
    await server?.shutdown(1000);
  });

  it('normal call returns the value', async function () {
    assert.equal(await proxy.echo('hello'), 'hello');
  });

  it('timeout defaults to 30 s and becomes the deadline the servant sees', async function () {
    const info = await proxy.whoami();
    // What is left of the deadline when the servant looks: the default, minus the trip there.
    assert.ok(info.deadline_ms > 25_000 && info.deadline_ms <= 30_000, `deadline_ms=${info.deadline_ms}`);
    const short = await proxy.whoami({ timeout: 2000 });
    assert.ok(short.deadline_ms > 0 && short.deadline_ms <= 2000, `deadline_ms=${short.deadline_ms}`);
  });

  it('deadline expiry gives DEADLINE_EXCEEDED', async function () {
    await assert.rejects(proxy.sleep(2000, { timeout: 100 }), (err: PlatformError) => {
      assert.ok(err instanceof PlatformError);
      assert.equal(err.code, 'DEADLINE_EXCEEDED');
      return true;
    });
  });

  it('extra round-trips into ctx.extra (any keys and values)', async function () {
    const extra = { 'trace-id': 'abc', 'Mixed Case Key': 'välue with ünïcode', empty: '' };
    const info = await proxy.whoami({ extra });
    assert.deepEqual(info.extra, extra);
  });

  it('oneway returns at once and the servant runs it', async function () {
    const before = servant.pingCount();
    const r: void = proxy.ping_oneway();
    assert.equal(r, undefined);
    await waitFor('the oneway ping to arrive', () => servant.pingCount() === before + 1);
  });

  it('oneway on a non-void method is refused at compile time', function () {
    // @ts-expect-error echo returns a string, so there is no echo_oneway
    assert.equal(typeof proxy.echo_oneway, 'undefined');
    // @ts-expect-error whoami returns a struct
    assert.equal(typeof proxy.whoami_oneway, 'undefined');
  });

  it('oneway errors are logged, not thrown', async function () {
    const lines: string[] = [];
    const p = new IDiagProxy(`127.0.0.1:${port}`, { logger: createLogger('t', 'warn', (l) => lines.push(l)) });
    try {
      p.sleep_oneway(-1);
      await waitFor('the failed oneway to be logged', () => lines.some((l) => /Oneway call failed/.test(l)));
      assert.match(lines[0]!, /INVALID_ARGUMENT/);
    } finally {
      p.close();
    }
  });

  it('async with a callback gets (err, result, proxy)', async function () {
    const got = await new Promise<{ err: unknown; result: unknown; p: unknown }>((resolve) => {
      proxy.echo_async('cb', (err, result, p) => resolve({ err, result, p }));
    });
    assert.equal(got.err, null);
    assert.equal(got.result, 'cb');
    assert.equal(got.p, proxy);
    const failed = await new Promise<PlatformError | null>((resolve) => {
      proxy.echo_async('not-found', (err) => resolve(err));
    });
    assert.equal(failed?.code, 'NOT_FOUND');
  });

  it('async without a callback returns a promise', async function () {
    assert.equal(await proxy.echo_async('promise'), 'promise');
  });

  it('maps platform errors to their status and hides internal details', async function () {
    await assert.rejects(proxy.echo('not-found'), { code: 'NOT_FOUND', message: 'no such thing: x' });
    await assert.rejects(proxy.echo('crash'), { code: 'INTERNAL', message: 'internal error' });
    assert.ok(
      logged.some((l) => /Servant method failed/.test(l) && /secret internal detail/.test(l)),
      'details are logged',
    );
    await assert.rejects(proxy.sleep(-5), {
      code: 'INVALID_ARGUMENT',
      message: 'ms must be an integer between 0 and 60000, got -5',
    });
  });

  it('passes a verified identity; a forged one is ignored', async function () {
    const signed = new IDiagProxy(`127.0.0.1:${port}`, {
      identity: { identity: { userId: 'u1', deviceId: 'd1' }, key },
    });
    const forged = new IDiagProxy(`127.0.0.1:${port}`, {
      identity: { identity: { userId: 'admin', deviceId: 'x' }, key: crypto.randomBytes(32) },
    });
    try {
      const a = await signed.whoami();
      assert.equal(a.user_id, 'u1');
      assert.equal(a.device_id, 'd1');
      const b = await forged.whoami();
      assert.equal(b.user_id, '');
      assert.equal((await proxy.whoami()).user_id, '');
    } finally {
      signed.close();
      forged.close();
    }
  });

  it('answers grpc.health.v1 for the server and the service', async function () {
    const def = protoLoader.loadSync(
      path.join(repoRoot, 'node_modules/grpc-health-check/proto/health/v1/health.proto'),
      {
        enums: String,
      },
    );
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      grpc: { health: { v1: { Health: new (a: string, c: grpc.ChannelCredentials) => grpc.Client } } };
    };
    const client = new pkg.grpc.health.v1.Health(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    ) as grpc.Client & {
      check(req: { service: string }, cb: (e: grpc.ServiceError | null, r: { status: string }) => void): void;
    };
    const check = (service: string) =>
      new Promise<string>((resolve, reject) =>
        client.check({ service }, (e, r) => (e ? reject(e) : resolve(r.status))),
      );
    try {
      assert.equal(await check(''), 'SERVING');
      assert.equal(await check('diag.IDiag'), 'SERVING');
      await assert.rejects(check('no.Such'), { code: grpc.status.NOT_FOUND });
    } finally {
      client.close();
    }
  });

  it('lets a stock client (grpcurl) list and call services through reflection', async function () {
    const grpcurl = bin('grpcurl');
    const list = await run(grpcurl, ['-plaintext', `127.0.0.1:${port}`, 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^diag\.IDiag$/m);
    assert.match(list.stdout, /^grpc\.health\.v1\.Health$/m);
    const call = await run(grpcurl, [
      '-plaintext',
      '-d',
      '{"text":"via grpcurl"}',
      `127.0.0.1:${port}`,
      'diag.IDiag/echo',
    ]);
    assert.equal(call.code, 0, call.stderr);
    assert.deepEqual(JSON.parse(call.stdout), { value: 'via grpcurl' });
    // whoami returns a struct with a map field: the descriptor's map entries must be valid.
    const who = await run(grpcurl, [
      '-plaintext',
      '-H',
      'tce-extra-bin: eyJrIjoidiJ9',
      `127.0.0.1:${port}`,
      'diag.IDiag/whoami',
    ]);
    assert.equal(who.code, 0, who.stderr);
    assert.deepEqual((JSON.parse(who.stdout) as { value: { extra: unknown } }).value.extra, { k: 'v' });
  });
});

describe('RPC runtime: graceful shutdown', function () {
  it('lets in-flight calls finish, then refuses new ones', async function () {
    const { server, port, servant } = await startServer();
    const proxy = new IDiagProxy(`127.0.0.1:${port}`);
    try {
      const inflight = proxy.sleep(300);
      await waitFor('the call to reach the servant', () => servant.sleeping > 0);
      await server.shutdown(5000);
      assert.equal(servant.slept, 1, 'shutdown waited for the in-flight call');
      await inflight; // completed, not cancelled
      await assert.rejects(proxy.echo('late', { timeout: 1000 }), (e: PlatformError) =>
        ['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(e.code),
      );
    } finally {
      proxy.close();
    }
  });

  it('forces shutdown after the grace period', async function () {
    const { server, port, servant } = await startServer();
    const proxy = new IDiagProxy(`127.0.0.1:${port}`);
    try {
      const inflight = proxy.sleep(10_000).then(
        () => 'completed',
        (e: PlatformError) => e.code,
      );
      await waitFor('the call to reach the servant', () => servant.sleeping > 0);
      const t0 = Date.now();
      await server.shutdown(200);
      assert.ok(Date.now() - t0 < 3000, 'forced within the grace period');
      assert.notEqual(await inflight, 'completed');
    } finally {
      proxy.close();
    }
  });
});

// Compile-time check that servants receive ctx typed as CallContext.
export const _ctxType: (ctx: CallContext) => string = (ctx) => ctx.peer;
