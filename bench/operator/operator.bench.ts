// `make bench-operator`: the operator against a real control plane (etcd +
// kube-apiserver + kube-controller-manager, started here), run as the same
// local process the tests use. Measures:
//   1. time from `kubectl apply` of a Platform to all its children present;
//   2. API requests per reconcile (from the operator's own request counter);
//   3. time for 100 Platforms to converge (children present, status written);
//   4. requests per minute at rest (and how many of them write).
// Knobs: OPERATOR_BENCH_PLATFORMS (100), OPERATOR_BENCH_IDLE_SECONDS (60),
// OPERATOR_BENCH_SINGLE (5 single-Platform samples).
import path from 'node:path';
import { startCluster, repoRoot, waitFor, type Cluster } from '../../test/support/index.js';
import { kubectlFor, startOperator, type OperatorProcess } from '../../test/k8s/operator/helpers.js';

const MANY = Number(process.env.OPERATOR_BENCH_PLATFORMS ?? 100);
const IDLE_SECONDS = Number(process.env.OPERATOR_BENCH_IDLE_SECONDS ?? 60);
const SINGLE = Number(process.env.OPERATOR_BENCH_SINGLE ?? 5);
/** 1 + 1 + 1 + 6 Services + 4 NetworkPolicies + 5 Deployments + 3 PDBs + 1 Ingress, for spec: {}. */
const CHILDREN_PER_PLATFORM = 22;
const CHILD_RESOURCES = [
  'serviceaccounts',
  'secrets',
  'configmaps',
  'services',
  'networkpolicies',
  'deployments',
  'poddisruptionbudgets',
  'ingresses',
];

interface Row {
  measure: string;
  value: string;
  note: string;
}

async function countChildren(cluster: Cluster, ns: string): Promise<number> {
  let n = 0;
  for (const r of CHILD_RESOURCES) {
    const group = ['deployments'].includes(r)
      ? '/apis/apps/v1'
      : ['networkpolicies', 'ingresses'].includes(r)
        ? '/apis/networking.k8s.io/v1'
        : r === 'poddisruptionbudgets'
          ? '/apis/policy/v1'
          : '/api/v1';
    const res = await cluster.request(
      'GET',
      `${group}/namespaces/${ns}/${r}?labelSelector=${encodeURIComponent('app.kubernetes.io/managed-by=tce-operator')}`,
    );
    n += (res.body as { items?: unknown[] }).items?.length ?? 0;
  }
  return n;
}

const platformYaml = (name: string): string =>
  `{"apiVersion":"tce.dev/v1alpha1","kind":"Platform","metadata":{"name":"${name}"},"spec":{}}`;

/** Requests other than watches and the leader Lease: what reconciles cost. */
const reconcileRequests = (op: OperatorProcess): Promise<number> =>
  op.sum('tce_operator_api_requests_total', (l) => l.verb !== 'watch' && l.resource !== 'leases');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  process.stdout.write('Starting the control plane…\n');
  const cluster = await startCluster();
  const kubectl = kubectlFor(cluster.kubeconfig);
  let op: OperatorProcess | undefined;
  try {
    const crd = await kubectl(['apply', '--server-side', '-f', path.join(repoRoot, 'crds', 'platforms.tce.dev.yaml')]);
    if (crd.code !== 0) throw new Error(crd.stderr);
    await kubectl(['wait', '--for=condition=Established', 'crd/platforms.tce.dev', '--timeout=30s']);
    op = await startOperator({
      kubeconfig: cluster.kubeconfig,
      identity: 'bench',
      env: { TCE_LEASE_NAMESPACE: 'default', TCE_LOG_LEVEL: 'warn' },
      logFile: path.join(cluster.dir, 'logs', 'operator.log'),
    });
    await waitFor('the operator to lead', async () => (await op!.sum('tce_operator_leader')) === 1, {
      timeoutMs: 20_000,
    });

    // 1 + 2: single Platforms, one at a time, each in its own namespace.
    const latencies: number[] = [];
    const perCreate: number[] = [];
    for (let i = 0; i < SINGLE; i++) {
      const ns = `single-${i}`;
      await kubectl(['create', 'namespace', ns]);
      const req0 = await reconcileRequests(op);
      const t0 = performance.now();
      const r = await kubectl(['apply', '-n', ns, '-f', '-'], platformYaml('p'));
      if (r.code !== 0) throw new Error(r.stderr);
      await waitFor(`children of ${ns}/p`, async () => (await countChildren(cluster, ns)) === CHILDREN_PER_PLATFORM, {
        timeoutMs: 60_000,
        intervalMs: 10,
      });
      latencies.push(performance.now() - t0);
      // Let the follow-up reconciles (status, Deployment status changes) finish.
      await new Promise((res) => setTimeout(res, 1500));
      perCreate.push((await reconcileRequests(op)) - req0);
    }
    rows.push({
      measure: 'kubectl apply → all 22 children present',
      value: `${median(latencies).toFixed(0)} ms`,
      note: `median of ${SINGLE} (min ${Math.min(...latencies).toFixed(0)}, max ${Math.max(...latencies).toFixed(0)}); includes kubectl start-up`,
    });
    rows.push({
      measure: 'API requests to create one Platform',
      value: `${median(perCreate)}`,
      note: '22 applies, one Created event, status writes as the Deployments report progress',
    });

    // 2 (steady state): a full resync of every Platform, nothing to change.
    const rec0 = await op.sum('tce_operator_reconciles_total');
    const req0 = await reconcileRequests(op);
    // Touch each Platform's labels: a metadata change makes the operator reconcile it, finding nothing to do.
    for (let i = 0; i < SINGLE; i++)
      await kubectl(['label', 'platform', 'p', '-n', `single-${i}`, `bench=${Date.now()}`, '--overwrite']);
    await waitFor('the reconciles', async () => (await op!.sum('tce_operator_reconciles_total')) >= rec0 + SINGLE, {
      timeoutMs: 20_000,
    });
    await new Promise((res) => setTimeout(res, 500));
    const steadyReq = (await reconcileRequests(op)) - req0;
    const steadyRec = (await op.sum('tce_operator_reconciles_total')) - rec0;
    rows.push({
      measure: 'API requests per reconcile with nothing to change',
      value: (steadyReq / steadyRec).toFixed(2),
      note: `${steadyReq} requests / ${steadyRec} reconciles (reads come from the watch caches)`,
    });

    // 3: many Platforms at once.
    await kubectl(['create', 'namespace', 'many']);
    const recMany0 = await op.sum('tce_operator_reconciles_total');
    const reqMany0 = await reconcileRequests(op);
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: Array.from({ length: MANY }, (_, i) => JSON.parse(platformYaml(`p${i}`)) as unknown),
    };
    const t0 = performance.now();
    const r = await kubectl(['apply', '-n', 'many', '-f', '-'], JSON.stringify(list));
    if (r.code !== 0) throw new Error(r.stderr);
    await waitFor(
      `children of ${MANY} Platforms`,
      async () => (await countChildren(cluster, 'many')) === MANY * CHILDREN_PER_PLATFORM,
      { timeoutMs: 600_000, intervalMs: 100 },
    );
    const childrenAt = performance.now() - t0;
    await waitFor(
      `status of ${MANY} Platforms`,
      async () => {
        const res = await cluster.request('GET', '/apis/tce.dev/v1alpha1/namespaces/many/platforms');
        const items = (res.body as { items: { status?: { observedGeneration?: number } }[] }).items;
        return items.length === MANY && items.every((p) => p.status?.observedGeneration === 1);
      },
      { timeoutMs: 600_000, intervalMs: 200 },
    );
    const statusAt = performance.now() - t0;
    rows.push({
      measure: `${MANY} Platforms: all ${MANY * CHILDREN_PER_PLATFORM} children present`,
      value: `${(childrenAt / 1000).toFixed(1)} s`,
      note: `${(MANY / (childrenAt / 1000)).toFixed(1)} Platforms/s`,
    });
    rows.push({
      measure: `${MANY} Platforms: every status written`,
      value: `${(statusAt / 1000).toFixed(1)} s`,
      note: '',
    });
    // Let Deployment status churn (kube-controller-manager creating pods) settle before counting.
    let last = -1;
    await waitFor(
      'the reconciles to settle',
      async () => {
        const n = await op!.sum('tce_operator_reconciles_total');
        const settled = n === last;
        last = n;
        return settled;
      },
      { timeoutMs: 300_000, intervalMs: 3000 },
    );
    const manyReq = (await reconcileRequests(op)) - reqMany0;
    const manyRec = (await op.sum('tce_operator_reconciles_total')) - recMany0;
    rows.push({
      measure: `API requests per reconcile while ${MANY} converge`,
      value: (manyReq / manyRec).toFixed(2),
      note: `${manyReq} requests / ${manyRec} reconciles`,
    });

    // 4: at rest.
    const idleAll0 = await op.sum('tce_operator_api_requests_total', (l) => l.verb !== 'watch');
    const idleWrites0 = await op.sum('tce_operator_api_writes_total', (l) => l.resource !== 'leases');
    const idleLease0 = await op.sum('tce_operator_api_requests_total', (l) => l.resource === 'leases');
    await new Promise((res) => setTimeout(res, IDLE_SECONDS * 1000));
    const perMin = (n: number): string => ((n * 60) / IDLE_SECONDS).toFixed(1);
    const idleAll = (await op.sum('tce_operator_api_requests_total', (l) => l.verb !== 'watch')) - idleAll0;
    const idleLease = (await op.sum('tce_operator_api_requests_total', (l) => l.resource === 'leases')) - idleLease0;
    const idleWrites = (await op.sum('tce_operator_api_writes_total', (l) => l.resource !== 'leases')) - idleWrites0;
    rows.push({
      measure: `requests per minute at rest (${MANY + SINGLE} Platforms)`,
      value: perMin(idleAll),
      note: `${perMin(idleLease)} of them renew the leader Lease; writes to anything else: ${idleWrites}; watches not counted`,
    });
  } finally {
    await op?.stop();
    await cluster.stop();
  }
  const w = [Math.max(...rows.map((r) => r.measure.length)), Math.max(...rows.map((r) => r.value.length))];
  process.stdout.write(`\n${'measure'.padEnd(w[0]!)}  ${'value'.padStart(w[1]!)}  note\n`);
  process.stdout.write(`${'-'.repeat(w[0]!)}  ${'-'.repeat(w[1]!)}  ----\n`);
  for (const r of rows) process.stdout.write(`${r.measure.padEnd(w[0]!)}  ${r.value.padStart(w[1]!)}  ${r.note}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench-operator failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
