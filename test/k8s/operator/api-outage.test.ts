// The API server goes away and comes back: the operator reaches it through a
// TCP relay the test cuts. During an outage shorter than the renew deadline the
// operator keeps its leadership, backs off, and afterwards catches up on what
// changed meanwhile (its watches resume or relist). A longer outage makes the
// leader step down and exit, so that it never acts on a Lease it may have lost.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, kubeconfigYaml, repoRoot, startCluster, waitFor, type Cluster } from '../../support/index.js';
import { kubectlFor, startOperator, type OperatorProcess } from './helpers.js';

/** A TCP relay to the API server that can be cut (all connections dropped, new ones refused) and restored. */
class Relay {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  constructor(
    readonly port: number,
    private readonly target: number,
  ) {}

  async open(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    // Re-listening on the same port after a cut: a clash must fail the test, not crash mocha.
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', resolve);
    });
  }

  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

describe('operator and an unavailable API server', function () {
  let cluster: Cluster;
  let relay: Relay;
  let op: OperatorProcess;
  let kubectl: ReturnType<typeof kubectlFor>;

  before(async function () {
    cluster = await startCluster();
    kubectl = kubectlFor(cluster.kubeconfig);
    const r = await kubectl(['apply', '--server-side', '-f', path.join(repoRoot, 'crds', 'platforms.tce.dev.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    await kubectl(['wait', '--for=condition=Established', 'crd/platforms.tce.dev', '--timeout=30s']);
    relay = new Relay(await freePort(), Number(new URL(cluster.server).port));
    await relay.open();
    const kubeconfig = path.join(cluster.dir, 'relay.kubeconfig');
    fs.writeFileSync(kubeconfig, kubeconfigYaml(`https://127.0.0.1:${relay.port}`, cluster.token));
    op = await startOperator({
      kubeconfig,
      identity: 'outage',
      env: {
        TCE_LEASE_NAMESPACE: 'default',
        // The short outage spans two kubectl runs and the operator's retries: on a
        // busy box that can take several seconds, so the renew deadline leaves room.
        TCE_LEASE_DURATION: '20s',
        TCE_RENEW_DEADLINE: '15s',
        TCE_LEASE_RETRY_PERIOD: '500ms',
      },
      logFile: path.join(cluster.dir, 'logs', 'operator.log'),
    });
    await waitFor('the operator to lead', async () => (await op.sum('tce_operator_leader')) === 1, {
      timeoutMs: 20_000,
    });
  });

  after(async function () {
    await op?.stop();
    await relay?.cut().catch(() => undefined);
    await cluster?.stop();
  });

  const apply = async (name: string): Promise<void> => {
    const r = await kubectl(
      ['apply', '-f', '-'],
      `{"apiVersion":"tce.dev/v1alpha1","kind":"Platform","metadata":{"name":"${name}"},"spec":{}}`,
    );
    assert.equal(r.code, 0, r.stderr);
  };
  const hasChildren = async (name: string): Promise<boolean> =>
    (await kubectl(['get', `deployment/${name}-gateway`, `ingress/${name}`])).code === 0;

  it('rides out a short outage and catches up on what changed meanwhile', async function () {
    await apply('before');
    await waitFor('children of the first Platform', () => hasChildren('before'), { timeoutMs: 20_000 });
    // Requests that never got an answer (connection refused or dropped) count with code 0.
    const unanswered = (): Promise<number> => op.sum('tce_operator_api_requests_total', (l) => l.code === '0');
    const before = await unanswered();
    await relay.cut();
    // Changes while the operator cannot see them: a new Platform, a deleted child.
    await apply('during');
    assert.equal((await kubectl(['delete', 'service', 'before-mq'])).code, 0);
    // The outage lasts until the operator has met it more than once (and retried).
    await waitFor('the operator to retry against the outage', async () => (await unanswered()) >= before + 2, {
      timeoutMs: 20_000,
    });
    assert.equal(op.process.running, true);
    await relay.open();
    await waitFor('the new Platform’s children', () => hasChildren('during'), { timeoutMs: 45_000, intervalMs: 250 });
    await waitFor(
      'the deleted Service to be recreated',
      async () => (await kubectl(['get', 'service', 'before-mq'])).code === 0,
      {
        timeoutMs: 45_000,
      },
    );
    assert.equal(await op.sum('tce_operator_leader'), 1);
  });

  it('steps down and exits when the outage outlasts the renew deadline', async function () {
    await relay.cut();
    await waitFor('the operator to exit', () => !op.process.running, { timeoutMs: 45_000 });
    const exit = await op.process.exited;
    assert.equal(exit.code, 1);
    assert.match(op.process.output(), /Exiting.*lost leadership/);
  });
});
