// What an SRE does with the platform, against a real control plane: helm
// install the chart; the operator runs as a local process impersonating the
// chart's ServiceAccount (so the chart's RBAC is proven sufficient) with the
// settings from the chart's Deployment; then a Platform is applied, watched,
// edited, scaled, tampered with, and deleted.
import assert from 'node:assert/strict';
import path from 'node:path';
import { startCluster, waitFor, type Cluster } from '../../support/index.js';
import {
  CHART,
  getJson,
  helmFor,
  impersonatingKubeconfig,
  kubectlFor,
  markPodsReady,
  platformWrites,
  startOperator,
  type OperatorProcess,
} from './helpers.js';

const SYSTEM_NS = 'tce-system';
const RELEASE = 'tce-platform';
const OPERATOR = 'tce-platform-operator';
const NS = 'apps';
const NAME = 'demo';
const COMPONENTS = ['gateway', 'mq', 'auth', 'location-unit', 'file-service'];

interface Obj {
  metadata: {
    name: string;
    uid: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  data?: Record<string, string>;
}
interface Deployment extends Obj {
  spec: {
    replicas: number;
    template: {
      metadata: { annotations: Record<string, string> };
      spec: { containers: { env: { name: string; value?: string }[]; securityContext: Record<string, unknown> }[] };
    };
  };
}
interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface PlatformObj extends Obj {
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    components?: Record<string, { desired: number; ready: string }>;
    endpoint?: string;
  };
}

describe('operator: a Platform from helm install to delete', function () {
  let cluster: Cluster;
  let kubectl: ReturnType<typeof kubectlFor>;
  let op: OperatorProcess | undefined;

  const get = <T = Obj>(kind: string, name: string, ns = NS): Promise<T | undefined> =>
    getJson<T>(kubectl, [kind, name, '-n', ns]);
  const platform = (): Promise<PlatformObj | undefined> => get<PlatformObj>('platform', NAME);
  const condition = async (type: string): Promise<Condition | undefined> =>
    (await platform())?.status?.conditions?.find((c) => c.type === type);
  const deployment = (c: string): Promise<Deployment | undefined> => get<Deployment>('deployment', `${NAME}-${c}`);
  const secretValue = async (key: string): Promise<string> =>
    Buffer.from((await get('secret', `${NAME}-secrets`))?.data?.[key] ?? '', 'base64').toString('utf8');
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const patchPlatform = (patch: unknown): Promise<string> =>
    ok(['patch', 'platform', NAME, '-n', NS, '--type=merge', '-p', JSON.stringify(patch)]);
  const allPodsReady = async (): Promise<void> => {
    await markPodsReady(cluster, NS, `app.kubernetes.io/instance=${NAME}`);
    await waitFor(
      'the Platform to report Ready',
      async () => {
        await markPodsReady(cluster, NS, `app.kubernetes.io/instance=${NAME}`);
        return (await condition('Ready'))?.status === 'True';
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  };

  before(async function () {
    cluster = await startCluster();
    kubectl = kubectlFor(cluster.kubeconfig);
  });

  after(async function () {
    await op?.stop();
    await cluster?.stop();
  });

  it('installs the chart with helm: CRD, ServiceAccount, least-privilege RBAC, operator Deployment', async function () {
    const helm = helmFor(cluster.kubeconfig);
    const r = await helm(['install', RELEASE, CHART, '-n', SYSTEM_NS, '--create-namespace']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /STATUS: deployed/);
    assert.match(r.stdout, /kubectl scale platform <name> --replicas=3/);
    await ok(['wait', '--for=condition=Established', 'crd/platforms.tce.dev', '--timeout=30s']);
    assert.ok(await get('serviceaccount', OPERATOR, SYSTEM_NS));
    assert.ok(await get('deployment', OPERATOR, SYSTEM_NS));
    assert.ok(await get('service', `${OPERATOR}-metrics`, SYSTEM_NS));
    for (const role of [OPERATOR, `${OPERATOR}-crd`]) {
      const cr = await getJson<{ rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }>(kubectl, [
        'clusterrole',
        role,
      ]);
      assert.ok(cr, `ClusterRole ${role}`);
      for (const rule of cr.rules) {
        for (const v of [...rule.apiGroups, ...rule.resources, ...rule.verbs])
          assert.notEqual(v, '*', `wildcard in ${role}`);
      }
    }
  });

  it('runs the operator as the chart’s ServiceAccount with the chart’s settings', async function () {
    const dep = await get<{
      spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
    }>('deployment', OPERATOR, SYSTEM_NS);
    const env: Record<string, string> = {};
    for (const e of dep!.spec.template.spec.containers[0]!.env) if (e.value !== undefined) env[e.name] = e.value;
    assert.equal(env.TCE_LEASE_NAME, OPERATOR);
    const user = `system:serviceaccount:${SYSTEM_NS}:${OPERATOR}`;
    const kubeconfig = impersonatingKubeconfig(cluster, user, path.join(cluster.dir, 'operator.kubeconfig'));
    // Impersonation is in effect: the ServiceAccount may not read nodes, nor Secrets cluster-wide... but may list Platforms.
    const asOperator = kubectlFor(kubeconfig);
    assert.equal((await asOperator(['auth', 'can-i', 'list', 'nodes'])).stdout.trim(), 'no');
    assert.equal((await asOperator(['auth', 'can-i', 'update', 'deployments', '-n', NS])).stdout.trim(), 'no');
    assert.equal((await asOperator(['auth', 'can-i', 'watch', 'platforms.tce.dev', '-A'])).stdout.trim(), 'yes');
    op = await startOperator({
      kubeconfig,
      identity: 'op-1',
      // The downward-API values the chart sets, plus a short resync so the quiet-at-rest test covers resyncs.
      env: { ...env, TCE_LEASE_NAMESPACE: SYSTEM_NS, TCE_RESYNC_PERIOD: '10s' },
      logFile: path.join(cluster.dir, 'logs', 'operator.log'),
    });
    await waitFor('the operator to lead', async () => (await op!.sum('tce_operator_leader')) === 1, {
      timeoutMs: 20_000,
    });
    const lease = await get<{ spec: { holderIdentity: string } }>('lease', OPERATOR, SYSTEM_NS);
    assert.equal(lease?.spec.holderIdentity, 'op-1');
  });

  it('creates every child of a minimal Platform, named, labelled and owned', async function () {
    await ok(['create', 'namespace', NS]);
    // Pods must pass the restricted Pod Security Standard (else the ReplicaSets cannot create them).
    await ok(['label', 'namespace', NS, 'pod-security.kubernetes.io/enforce=restricted']);
    await ok(
      ['apply', '-n', NS, '-f', '-'],
      `apiVersion: tce.dev/v1alpha1\nkind: Platform\nmetadata:\n  name: ${NAME}\nspec: {}\n`,
    );
    const p = await platform();
    const expected: [string, string][] = [
      ['serviceaccount', NAME],
      ['secret', `${NAME}-secrets`],
      ['configmap', `${NAME}-config`],
      ['service', `${NAME}-location-unit-headless`],
      ['ingress', NAME],
      ['networkpolicy', `${NAME}-default-deny`],
      ['networkpolicy', `${NAME}-allow-internal`],
      ['networkpolicy', `${NAME}-allow-ingress-controller`],
      ['networkpolicy', `${NAME}-allow-egress`],
      ['poddisruptionbudget', `${NAME}-gateway`],
      ['poddisruptionbudget', `${NAME}-auth`],
      ['poddisruptionbudget', `${NAME}-file-service`],
      ...COMPONENTS.flatMap((c): [string, string][] => [
        ['deployment', `${NAME}-${c}`],
        ['service', `${NAME}-${c}`],
      ]),
    ];
    for (const [kind, name] of expected) {
      const child = await waitFor<Obj>(`${kind} ${name}`, () => get(kind, name), {
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      assert.equal(child.metadata.labels?.['app.kubernetes.io/instance'], NAME, `${kind} ${name} instance label`);
      assert.equal(child.metadata.labels?.['app.kubernetes.io/managed-by'], 'tce-operator');
      assert.equal(child.metadata.labels?.['app.kubernetes.io/part-of'], 'tce-platform');
      const owner = child.metadata.ownerReferences?.[0];
      assert.deepEqual(
        { kind: owner?.kind, name: owner?.name, uid: owner?.uid, controller: owner?.controller },
        { kind: 'Platform', name: NAME, uid: p!.metadata.uid, controller: true },
        `${kind} ${name} owner`,
      );
    }
    // No PDB for the single-replica components: it would block node drains.
    assert.equal(await get('poddisruptionbudget', `${NAME}-mq`), undefined);
    for (const c of COMPONENTS) {
      const d = await deployment(c);
      assert.ok(d?.metadata.labels?.['app.kubernetes.io/component'] === c);
      const sc = d!.spec.template.spec.containers[0]!.securityContext;
      assert.equal(sc.readOnlyRootFilesystem, true);
      assert.match(d!.spec.template.metadata.annotations['tce.dev/config-hash'] ?? '', /^[0-9a-f]{16}$/);
    }
    // The ReplicaSets could create every pod under the restricted profile.
    await waitFor(
      'pods of every component (admitted by Pod Security "restricted")',
      async () => {
        const pods = await getJson<{ items: unknown[] }>(kubectl, [
          'pods',
          '-n',
          NS,
          '-l',
          `app.kubernetes.io/instance=${NAME}`,
        ]);
        return pods?.items.length === 8;
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    const secret = await get('secret', `${NAME}-secrets`);
    assert.deepEqual(Object.keys(secret!.data ?? {}).sort(), [
      'internal-key',
      'mq-admin-password',
      'mq-gps-password',
      'mq-passwords',
      'token-keys',
      'url-signing-key',
    ]);
    const passwords = JSON.parse(await secretValue('mq-passwords')) as Record<string, string>;
    assert.equal(await secretValue('mq-gps-password'), passwords.mq_gps);
    assert.equal(Buffer.from(await secretValue('internal-key'), 'base64').length, 32);
  });

  it('reports readiness from the Deployments in status and in kubectl get platforms', async function () {
    await waitFor('status.conditions', async () => (await condition('Ready'))?.reason === 'ReplicasNotReady', {
      timeoutMs: 20_000,
    });
    const notReady = await condition('Ready');
    assert.equal(notReady?.status, 'False');
    assert.match(notReady!.message, /gateway 0\/2/);
    assert.equal((await condition('Progressing'))?.status, 'True');
    await allPodsReady();
    const p = await platform();
    assert.equal(p?.status?.components?.gateway?.ready, '2/2');
    assert.equal(p?.status?.components?.locationUnit?.ready, '1/1');
    assert.equal(p?.status?.observedGeneration, p?.metadata.generation);
    await waitFor('Progressing False', async () => (await condition('Progressing'))?.reason === 'RolloutComplete', {
      timeoutMs: 20_000,
    });
    assert.equal((await condition('Degraded'))?.status, 'False');
    const table = await ok(['get', 'platforms', '-n', NS]);
    assert.match(table, /NAME\s+READY\s+GATEWAYS\s+UNITS\s+AGE/);
    assert.match(table, /demo\s+True\s+2\/2\s+1\/1\s+/);
  });

  it('rolls out a spec edit: children updated, pods rolled by the config hash, keys kept', async function () {
    const hash = async (c: string): Promise<string> =>
      (await deployment(c))!.spec.template.metadata.annotations['tce.dev/config-hash']!;
    const before = { mq: await hash('mq'), gateway: await hash('gateway'), auth: await hash('auth') };
    const internalKey = await secretValue('internal-key');
    const tokenKeys = await secretValue('token-keys');
    await patchPlatform({
      spec: { mq: { queues: [{ name: 'chat', kind: 'topic' }] }, auth: { accessTokenTTL: '5m' } },
    });
    await waitFor('the mq config hash to change', async () => (await hash('mq')) !== before.mq, { timeoutMs: 20_000 });
    const cm = await get('configmap', `${NAME}-config`);
    assert.deepEqual(
      (JSON.parse(cm!.data!['mq-queues']!) as { name: string }[]).map((q) => q.name),
      ['mq_gps', 'chat'],
    );
    assert.deepEqual(Object.keys(JSON.parse(await secretValue('mq-passwords')) as object).sort(), ['chat', 'mq_gps']);
    // The gateway reads the mq passwords too; auth reads neither the queues nor their passwords.
    assert.notEqual(await hash('gateway'), before.gateway);
    assert.equal(await hash('auth'), before.auth);
    const authEnv = (await deployment('auth'))!.spec.template.spec.containers[0]!.env;
    assert.equal(authEnv.find((e) => e.name === 'TCE_ACCESS_TOKEN_TTL')?.value, '5m');
    // Generated keys are never regenerated by a reconcile.
    assert.equal(await secretValue('internal-key'), internalKey);
    assert.equal(await secretValue('token-keys'), tokenKeys);
    // mq is replaced rather than surged (its standby cannot be ready while the
    // leader lives), so Ready may dip while mq rolls; it must come back.
    await waitFor(
      'Progressing while the new pods start',
      async () => (await condition('Progressing'))?.reason === 'RollingOut',
      {
        timeoutMs: 20_000,
      },
    );
    await allPodsReady(); // waits for Ready to come back
  });

  it('scales the location units with kubectl scale platform', async function () {
    await ok(['scale', 'platform', NAME, '-n', NS, '--replicas=3']);
    await waitFor(
      'the location-unit Deployment to have 3 replicas',
      async () => (await deployment('location-unit'))?.spec.replicas === 3,
      {
        timeoutMs: 20_000,
      },
    );
    const scale = JSON.parse(
      await ok(['get', '--raw', `/apis/tce.dev/v1alpha1/namespaces/${NS}/platforms/${NAME}/scale`]),
    ) as {
      spec: { replicas: number };
      status: { selector: string };
    };
    assert.equal(scale.spec.replicas, 3);
    assert.equal(
      scale.status.selector,
      `app.kubernetes.io/component=location-unit,app.kubernetes.io/instance=${NAME},app.kubernetes.io/name=tce-platform`,
    );
    await waitFor('a PDB for the now-replicated units', () => get('poddisruptionbudget', `${NAME}-location-unit`), {
      timeoutMs: 20_000,
    });
    const bad = await kubectl(['scale', 'platform', NAME, '-n', NS, '--replicas=65']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /locationUnit.replicas must not exceed locationUnit.partitions/);
    await ok(['scale', 'platform', NAME, '-n', NS, '--replicas=1']);
    await waitFor(
      'the PDB to go with the second unit',
      async () => (await get('poddisruptionbudget', `${NAME}-location-unit`)) === undefined,
      {
        timeoutMs: 20_000,
      },
    );
    await allPodsReady();
  });

  it('reverts children edited by hand', async function () {
    await ok(['scale', 'deployment', `${NAME}-gateway`, '-n', NS, '--replicas=5']);
    await ok([
      'patch',
      'service',
      `${NAME}-mq`,
      '-n',
      NS,
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/ports/0/port","value":1234}]',
    ]);
    await ok(['patch', 'configmap', `${NAME}-config`, '-n', NS, '--type=merge', '-p', '{"data":{"mq-queues":"[]"}}']);
    await ok(['label', 'deployment', `${NAME}-auth`, '-n', NS, 'app.kubernetes.io/managed-by-']);
    await waitFor(
      'the hand edits to be reverted',
      async () => {
        const gw = await deployment('gateway');
        const svc = await get<{ spec: { ports: { port: number }[] } } & Obj>('service', `${NAME}-mq`);
        const cm = await get('configmap', `${NAME}-config`);
        const auth = await deployment('auth');
        return (
          gw?.spec.replicas === 2 &&
          svc?.spec.ports[0]?.port === 50052 &&
          cm?.data?.['mq-queues']?.includes('mq_gps') &&
          auth?.metadata.labels?.['app.kubernetes.io/managed-by'] === 'tce-operator'
        );
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
  });

  it('recreates deleted children', async function () {
    const uids = new Map<string, string>();
    const victims: [string, string][] = [
      ['deployment', `${NAME}-mq`],
      ['service', `${NAME}-gateway`],
      ['networkpolicy', `${NAME}-default-deny`],
      ['ingress', NAME],
      ['configmap', `${NAME}-config`],
    ];
    for (const [kind, name] of victims) {
      uids.set(`${kind}/${name}`, (await get(kind, name))!.metadata.uid);
      await ok(['delete', kind, name, '-n', NS, '--wait=false']);
    }
    for (const [kind, name] of victims) {
      await waitFor(
        `${kind} ${name} to be recreated`,
        async () => {
          const o = await get(kind, name);
          return o !== undefined && o.metadata.uid !== uids.get(`${kind}/${name}`);
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      );
    }
    await allPodsReady();
  });

  it('deletes children that are no longer desired, and restores them', async function () {
    await patchPlatform({ spec: { ingress: { enabled: false }, networkPolicy: { enabled: false } } });
    await waitFor(
      'the Ingress and NetworkPolicies to be deleted',
      async () => {
        const np = await getJson<{ items: unknown[] }>(kubectl, ['networkpolicies', '-n', NS]);
        return (await get('ingress', NAME)) === undefined && np?.items.length === 0;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    await waitFor(
      'the in-cluster endpoint',
      async () => (await platform())?.status?.endpoint === `ws://${NAME}-gateway.${NS}.svc:8080/ws`,
      {
        timeoutMs: 10_000,
      },
    );
    await patchPlatform({
      spec: { ingress: { enabled: true, host: 'chat.example.com' }, networkPolicy: { enabled: true } },
    });
    await waitFor(
      'the Ingress to return with its host',
      async () => {
        const ing = await get<{ spec: { rules: { host?: string }[] } } & Obj>('ingress', NAME);
        return ing?.spec.rules[0]?.host === 'chat.example.com';
      },
      { timeoutMs: 20_000 },
    );
    assert.equal((await platform())?.status?.endpoint, 'ws://chat.example.com/ws');
    const gwEnv = (await deployment('gateway'))!.spec.template.spec.containers[0]!.env;
    assert.equal(gwEnv.find((e) => e.name === 'TCE_FILES_PUBLIC_URL')?.value, 'http://chat.example.com/files');
    await allPodsReady();
  });

  it('reports a spec it cannot use in the status, with a precise message, and recovers when fixed', async function () {
    const reconcilesBefore = await op!.sum('tce_operator_reconciles_total', (l) => l.result === 'invalid');
    await patchPlatform({ spec: { gateway: { env: [{ name: 'TCE_WS_PORT', value: '1' }] } } });
    await waitFor('Ready False with InvalidSpec', async () => (await condition('Ready'))?.reason === 'InvalidSpec', {
      timeoutMs: 20_000,
    });
    const degraded = await condition('Degraded');
    assert.equal(degraded?.status, 'True');
    assert.equal(
      degraded?.message,
      'spec.gateway.env[0]: TCE_WS_PORT is set by the operator; use the Platform field that controls it',
    );
    const events = await ok([
      'get',
      'events',
      '-n',
      NS,
      '--field-selector',
      'reason=InvalidSpec',
      '-o',
      'jsonpath={.items[*].message}',
    ]);
    assert.match(events, /TCE_WS_PORT is set by the operator/);
    assert.ok((await op!.sum('tce_operator_reconciles_total', (l) => l.result === 'invalid')) > reconcilesBefore);
    // The children were left alone.
    const env = (await deployment('gateway'))!.spec.template.spec.containers[0]!.env;
    assert.equal(env.find((e) => e.name === 'TCE_WS_PORT')?.value, '8080');

    await patchPlatform({ spec: { gateway: { env: [] }, mongo: { urlSecretRef: { name: 'mongo-url' } } } });
    await waitFor(
      'the missing Secret to be reported',
      async () => /Secret mongo-url not found/.test((await condition('Ready'))?.message ?? ''),
      {
        timeoutMs: 20_000,
      },
    );
    await patchPlatform({ spec: { mongo: { urlSecretRef: null } } });
    await allPodsReady();
    assert.equal((await condition('Degraded'))?.status, 'False');
  });

  it('is quiet at rest: no writes across two resyncs', async function () {
    this.timeout(120_000);
    await allPodsReady();
    // Let the last status writes land: no change over three polls (6 s) in a row, as a
    // late Deployment status from a busy kube-controller-manager still causes one.
    let last = -1;
    let stable = 0;
    await waitFor(
      'writes to settle',
      async () => {
        const w = await platformWrites(op!);
        stable = w === last ? stable + 1 : 0;
        last = w;
        return stable >= 2;
      },
      { timeoutMs: 45_000, intervalMs: 3000 },
    );
    const reconciles = await op!.sum('tce_operator_reconciles_total');
    const writes = await platformWrites(op!);
    // Resyncs (every 10 s here) run while nothing changes, and must find nothing to do.
    await waitFor(
      'two resync reconciles at rest',
      async () => (await op!.sum('tce_operator_reconciles_total')) >= reconciles + 2,
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    assert.equal(await platformWrites(op!), writes, 'writes at rest');
  });

  it('leaves garbage collection of every child to Kubernetes when the Platform is deleted', async function () {
    await ok(['delete', 'platform', NAME, '-n', NS, '--wait=false']);
    await waitFor(
      'every child to be garbage-collected',
      async () => {
        const r = await kubectl([
          'get',
          'deployments,services,configmaps,secrets,serviceaccounts,ingresses,networkpolicies,poddisruptionbudgets',
          '-n',
          NS,
          '-l',
          `app.kubernetes.io/instance=${NAME}`,
          '-o',
          'name',
        ]);
        return r.code === 0 && r.stdout.trim() === '';
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  });

  it('creates a Platform from the chart’s values; uninstalling the chart keeps the CRD', async function () {
    const helm = helmFor(cluster.kubeconfig);
    let r = await helm([
      'upgrade',
      RELEASE,
      CHART,
      '-n',
      SYSTEM_NS,
      '--reuse-values',
      '--set',
      'platform.create=true',
      '--set',
      'platform.name=from-values',
      '--set',
      'platform.spec.locationUnit.replicas=2',
      '--set',
      'platform.spec.locationUnit.staleAfter=5m',
    ]);
    assert.equal(r.code, 0, r.stderr);
    await waitFor(
      'the Platform’s location units',
      async () => (await get<Deployment>('deployment', 'from-values-location-unit', SYSTEM_NS))?.spec.replicas === 2,
      {
        timeoutMs: 30_000,
      },
    );
    const units = await get<Deployment>('deployment', 'from-values-location-unit', SYSTEM_NS);
    const env = units!.spec.template.spec.containers[0]!.env ?? [];
    assert.equal(env.find((e) => e.name === 'TCE_LOCATION_STALE_AFTER')?.value, '5m');
    r = await helm(['uninstall', RELEASE, '-n', SYSTEM_NS]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await getJson(kubectl, ['crd', 'platforms.tce.dev']), 'helm keeps crds/ on uninstall');
    await waitFor(
      'the Platform and its children to go',
      async () => (await get('deployment', 'from-values-gateway', SYSTEM_NS)) === undefined,
      {
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );
  });
});
