// Two operator replicas against one control plane: exactly one leads (holds
// the Lease and reconciles), the other stands by without writing; when the
// leader dies (kill -9) the standby takes over once the Lease expires; when a
// leader stops cleanly it releases the Lease and the successor starts at once.
import assert from 'node:assert/strict';
import path from 'node:path';
import { repoRoot, startCluster, waitFor, type Cluster } from '../../support/index.js';
import { getJson, kubectlFor, platformWrites, startOperator, type OperatorProcess } from './helpers.js';

const LEASE_ENV = {
  // Short timings so failover fits in a test; the proportions are client-go's defaults.
  TCE_LEASE_DURATION: '6s',
  TCE_RENEW_DEADLINE: '4s',
  TCE_LEASE_RETRY_PERIOD: '500ms',
  TCE_LEASE_NAMESPACE: 'default',
  TCE_LEASE_NAME: 'tce-operator',
};

describe('operator leader election', function () {
  let cluster: Cluster;
  let kubectl: ReturnType<typeof kubectlFor>;
  const ops: OperatorProcess[] = [];

  const start = async (identity: string): Promise<OperatorProcess> => {
    const op = await startOperator({
      kubeconfig: cluster.kubeconfig,
      identity,
      env: LEASE_ENV,
      logFile: path.join(cluster.dir, 'logs', `operator-${identity}.log`),
    });
    ops.push(op);
    return op;
  };
  const leader = (op: OperatorProcess): Promise<number> => op.sum('tce_operator_leader');
  /** Waits until `op` has read the Lease `n` more times (one read per retry period while standing by). */
  const waitForLeaseReads = async (op: OperatorProcess, n: number): Promise<void> => {
    const reads = () => op.sum('tce_operator_api_requests_total', (l) => l.verb === 'get' && l.resource === 'leases');
    const start = await reads();
    await waitFor(`${n} Lease reads`, async () => (await reads()) >= start + n, { timeoutMs: 20_000, intervalMs: 100 });
  };
  const holder = async (): Promise<string | undefined> =>
    (await getJson<{ spec: { holderIdentity?: string } }>(kubectl, ['lease', 'tce-operator', '-n', 'default']))?.spec
      .holderIdentity;
  const applyPlatform = async (name: string): Promise<void> => {
    const r = await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: tce.dev/v1alpha1\nkind: Platform\nmetadata:\n  name: ${name}\nspec: {}\n`,
    );
    assert.equal(r.code, 0, r.stderr);
  };
  const childrenOf = (name: string): Promise<boolean> =>
    waitFor(
      `the children of ${name}`,
      async () => (await kubectl(['get', 'deployment', `${name}-gateway`, `${name}-location-unit`])).code === 0,
      { timeoutMs: 20_000, intervalMs: 200 },
    );

  before(async function () {
    cluster = await startCluster();
    kubectl = kubectlFor(cluster.kubeconfig);
    const r = await kubectl(['apply', '--server-side', '-f', path.join(repoRoot, 'crds', 'platforms.tce.dev.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    await kubectl(['wait', '--for=condition=Established', 'crd/platforms.tce.dev', '--timeout=30s']);
  });

  after(async function () {
    for (const op of ops) await op.stop();
    await cluster?.stop();
  });

  it('elects one leader among two replicas; the standby does not write', async function () {
    const a = await start('a');
    await waitFor('a to lead', async () => (await leader(a)) === 1, { timeoutMs: 10_000 });
    const b = await start('b');
    await applyPlatform('one');
    await childrenOf('one');
    // b has had several retry periods to (wrongly) take over: it read the Lease each time.
    await waitForLeaseReads(b, 4);
    assert.equal(await holder(), 'a');
    assert.equal(await leader(b), 0);
    assert.equal(await platformWrites(b), 0, 'standby writes');
    assert.equal(await b.sum('tce_operator_reconciles_total'), 0, 'standby reconciles');
    assert.ok((await platformWrites(a)) > 0);
  });

  it('fails over to the standby when the leader dies', async function () {
    const [a, b] = ops as [OperatorProcess, OperatorProcess];
    const killedAt = Date.now();
    await a.process.kill9();
    await waitFor('b to lead', async () => (await leader(b)) === 1, { timeoutMs: 15_000, intervalMs: 100 });
    const took = Date.now() - killedAt;
    // Not before the 6 s Lease could have expired, as seen by b's own clock (a's last
    // renewal may lag its 500 ms period on a busy API server); not much after.
    assert.ok(took >= 3000 && took < 12_000, `failover took ${took} ms`);
    assert.equal(await holder(), 'b');
    const lease = await getJson<{ spec: { leaseTransitions: number } }>(kubectl, [
      'lease',
      'tce-operator',
      '-n',
      'default',
    ]);
    assert.equal(lease?.spec.leaseTransitions, 1);
    await applyPlatform('two');
    await childrenOf('two');
  });

  it('hands over at once when the leader stops cleanly (the Lease is released)', async function () {
    const b = ops[1]!;
    const c = await start('c');
    await waitForLeaseReads(c, 2);
    assert.equal(await leader(c), 0);
    const stoppedAt = Date.now();
    await b.stop();
    await waitFor('c to lead', async () => (await leader(c)) === 1, { timeoutMs: 10_000, intervalMs: 100 });
    const took = Date.now() - stoppedAt;
    assert.match(b.process.output(), /Released the leader Lease/);
    // Without the release, c could not lead before the 6 s Lease expired (≥ ~5 s after
    // the stop began: b renewed every 500 ms until then).
    assert.ok(took < 4500, `handover took ${took} ms (the Lease lasts 6 s)`);
    assert.equal(await holder(), 'c');
  });
});
