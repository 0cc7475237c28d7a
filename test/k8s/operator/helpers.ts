// Helpers for the operator's tests against the real control plane: kubectl and
// helm as the SRE would run them, the operator as a local process (optionally
// impersonating the chart's ServiceAccount), its /metrics, and pod readiness
// simulated through the pod status subresource (no kubelet exists here).
import fs from 'node:fs';
import path from 'node:path';
import {
  apiRequest,
  bin,
  freePort,
  GiveUp,
  repoRoot,
  run,
  startProcess,
  waitFor,
  type Cluster,
  type ExecResult,
  type ManagedProcess,
} from '../../support/index.js';

export const CHART = path.join(repoRoot, 'charts', 'tce-platform');

export function kubectlFor(kubeconfig: string) {
  return (args: string[], input?: string): Promise<ExecResult> =>
    run(bin('kubectl'), ['--request-timeout=20s', ...args], { env: { KUBECONFIG: kubeconfig }, input });
}

export function helmFor(kubeconfig: string) {
  return (args: string[]): Promise<ExecResult> =>
    run(bin('helm'), args, {
      env: { KUBECONFIG: kubeconfig, HELM_CACHE_HOME: path.join(path.dirname(kubeconfig), 'helm-cache') },
    });
}

/** A kubeconfig that authenticates as admin and impersonates `user` (e.g. a ServiceAccount). */
export function impersonatingKubeconfig(cluster: Cluster, user: string, file: string): string {
  fs.writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: tce-local
  cluster:
    server: ${cluster.server}
    insecure-skip-tls-verify: true
users:
- name: impersonated
  user:
    token: ${cluster.token}
    as: ${user}
contexts:
- name: tce-local
  context:
    cluster: tce-local
    user: impersonated
current-context: tce-local
`,
    { mode: 0o600 },
  );
  return file;
}

export interface OperatorProcess {
  process: ManagedProcess;
  opsPort: number;
  identity: string;
  metrics(): Promise<Map<string, number>>;
  /** Sum of a metric over the series whose labels match `filter`. */
  sum(name: string, filter?: (labels: Record<string, string>) => boolean): Promise<number>;
  stop(): Promise<void>;
}

export async function startOperator(opts: {
  kubeconfig: string;
  identity: string;
  env?: Record<string, string>;
  logFile?: string;
}): Promise<OperatorProcess> {
  const opsPort = await freePort();
  const proc = startProcess({
    name: `operator-${opts.identity}`,
    command: path.join(repoRoot, 'node_modules', '.bin', 'tsx'),
    args: [path.join(repoRoot, 'operator', 'src', 'main.ts')],
    cwd: repoRoot,
    env: {
      ...opts.env,
      KUBECONFIG: opts.kubeconfig,
      TCE_OPS_PORT: String(opsPort),
      TCE_BIND_HOST: '127.0.0.1',
      TCE_POD_NAME: opts.identity,
    },
    logFile: opts.logFile,
  });
  const metrics = async (): Promise<Map<string, number>> => {
    const res = await fetch(`http://127.0.0.1:${opsPort}/metrics`);
    const out = new Map<string, number>();
    for (const line of (await res.text()).split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const i = line.lastIndexOf(' ');
      out.set(line.slice(0, i), Number(line.slice(i + 1)));
    }
    return out;
  };
  const op: OperatorProcess = {
    process: proc,
    opsPort,
    identity: opts.identity,
    metrics,
    async sum(name, filter = () => true) {
      let total = 0;
      for (const [series, v] of await metrics()) {
        const m = /^([^{]+)(?:\{(.*)\})?$/.exec(series);
        if (!m || m[1] !== name) continue;
        const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
        if (filter(labels)) total += v;
      }
      return total;
    },
    stop: () => proc.stop(),
  };
  await waitFor(
    `operator ${opts.identity} to serve /healthz`,
    async () => {
      if (!proc.running) throw new GiveUp(`operator exited:\n${proc.output()}`);
      const res = await fetch(`http://127.0.0.1:${opsPort}/healthz`);
      return res.ok;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  return op;
}

/** Writes by the operator to anything but its leader Lease (renewals are its only writes at rest). */
export function platformWrites(op: OperatorProcess): Promise<number> {
  return op.sum('tce_operator_api_writes_total', (l) => l.resource !== 'leases');
}

export async function getJson<T = Record<string, unknown>>(
  kubectl: ReturnType<typeof kubectlFor>,
  args: string[],
): Promise<T | undefined> {
  const r = await kubectl(['get', ...args, '-o', 'json']);
  if (r.code !== 0) return undefined;
  return JSON.parse(r.stdout) as T;
}

/**
 * Marks every pod matching `selector` Running and Ready, as a kubelet would:
 * the ReplicaSet and Deployment controllers then report them ready.
 */
export async function markPodsReady(cluster: Cluster, namespace: string, selector: string): Promise<number> {
  const list = (await cluster.request(
    'GET',
    `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`,
  )) as { body: { items: { metadata: { name: string } }[] } };
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (const pod of list.body.items) {
    const res = await apiRequest(
      cluster.server,
      cluster.token,
      'PATCH',
      `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}/status`,
      JSON.stringify({
        status: {
          phase: 'Running',
          conditions: [
            { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
            { type: 'Initialized', status: 'True', lastTransitionTime: now },
            { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
            { type: 'Ready', status: 'True', lastTransitionTime: now },
          ],
        },
      }),
      'application/merge-patch+json',
    );
    // 404: the pod was deleted meanwhile (a scale-down or rollout); nothing to mark.
    if (res.status !== 200 && res.status !== 404)
      throw new Error(`patching pod ${pod.metadata.name} status: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return list.body.items.length;
}
