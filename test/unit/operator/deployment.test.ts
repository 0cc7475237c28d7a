// The Deployment builder: names, labels, image, restricted pod security,
// probes, and the config hash that rolls pods exactly when their config changes.
import assert from 'node:assert/strict';
import type { V1Deployment } from '@kubernetes/client-node';
import { ALL_COMPONENTS, COMPONENTS, type ComponentKey } from '../../../operator/src/api/components.js';
import { SECRET_KEYS } from '../../../operator/src/resources/context.js';
import { buildDeployment, buildDeployments, DEFAULT_RESOURCES } from '../../../operator/src/resources/deployment.js';
import { ctx } from './fixtures.js';

const hash = (d: V1Deployment): string => d.spec!.template.metadata!.annotations!['tce.dev/config-hash']!;
const container = (d: V1Deployment) => d.spec!.template.spec!.containers[0]!;

describe('operator Deployment builder', function () {
  const replicas: { key: ComponentKey; want: number }[] = [
    { key: 'gateway', want: 2 },
    { key: 'mq', want: 1 },
    { key: 'auth', want: 2 },
    { key: 'locationUnit', want: 1 },
    { key: 'fileService', want: 2 },
  ];
  for (const r of replicas) {
    const c = COMPONENTS[r.key];
    it(`builds demo-${c.name}: ${r.want} replicas, labels, selector, entrypoint, ports`, function () {
      const d = buildDeployment(ctx(), c);
      assert.equal(d.metadata!.name, `demo-${c.name}`);
      assert.equal(d.metadata!.namespace, 'apps');
      assert.equal(d.spec!.replicas, r.want);
      assert.deepEqual(d.spec!.selector.matchLabels, {
        'app.kubernetes.io/name': 'tce-platform',
        'app.kubernetes.io/instance': 'demo',
        'app.kubernetes.io/component': c.name,
      });
      assert.equal(d.spec!.template.metadata!.labels!['app.kubernetes.io/component'], c.name);
      assert.equal(d.metadata!.ownerReferences![0]!.uid, 'uid-1');
      assert.deepEqual(container(d).args, ['--enable-source-maps', `dist/services/${c.name}/src/main.js`]);
      assert.deepEqual(
        container(d).ports!.map((p) => [p.name, p.containerPort]),
        [
          [c.port.name, c.port.number],
          ['ops', 9090],
        ],
      );
    });
  }

  it('follows spec replicas per component', function () {
    const d = buildDeployment(ctx({ locationUnit: { replicas: 3 } }), COMPONENTS.locationUnit);
    assert.equal(d.spec!.replicas, 3);
  });

  const images: { spec: unknown; want: string; policy: string }[] = [
    { spec: {}, want: 'ghcr.io/tce-dev/tce-platform:9.9.9', policy: 'IfNotPresent' },
    { spec: { image: { tag: '1.2.3' } }, want: 'ghcr.io/tce-dev/tce-platform:1.2.3', policy: 'IfNotPresent' },
    {
      spec: { image: { repository: 'registry.local:5000/tce', tag: 'dev', pullPolicy: 'Always' } },
      want: 'registry.local:5000/tce:dev',
      policy: 'Always',
    },
  ];
  for (const i of images) {
    it(`runs image ${i.want}`, function () {
      const d = buildDeployment(ctx(i.spec), COMPONENTS.gateway);
      assert.equal(container(d).image, i.want);
      assert.equal(container(d).imagePullPolicy, i.policy);
    });
  }

  it('passes image pull secrets', function () {
    const d = buildDeployment(ctx({ image: { pullSecrets: ['regcred'] } }), COMPONENTS.mq);
    assert.deepEqual(d.spec!.template.spec!.imagePullSecrets, [{ name: 'regcred' }]);
    assert.equal(buildDeployment(ctx(), COMPONENTS.mq).spec!.template.spec!.imagePullSecrets, undefined);
  });

  it('meets the restricted Pod Security profile with a read-only root filesystem', function () {
    for (const d of buildDeployments(ctx())) {
      const pod = d.spec!.template.spec!;
      assert.equal(pod.securityContext!.runAsNonRoot, true);
      assert.ok(pod.securityContext!.runAsUser! > 0);
      assert.equal(pod.securityContext!.seccompProfile!.type, 'RuntimeDefault');
      assert.equal(pod.automountServiceAccountToken, false);
      assert.equal(pod.serviceAccountName, 'demo');
      const sc = container(d).securityContext!;
      assert.equal(sc.allowPrivilegeEscalation, false);
      assert.equal(sc.readOnlyRootFilesystem, true);
      assert.equal(sc.runAsNonRoot, true);
      assert.deepEqual(sc.capabilities!.drop, ['ALL']);
      assert.equal(sc.seccompProfile!.type, 'RuntimeDefault');
      // Restricted allows only these volume types; ours is an emptyDir for /tmp.
      assert.deepEqual(
        pod.volumes!.map((v) => Object.keys(v).sort()),
        [['emptyDir', 'name']],
      );
    }
  });

  it('probes /healthz and /readyz on the ops port', function () {
    const c = container(buildDeployment(ctx(), COMPONENTS.auth));
    assert.deepEqual(c.livenessProbe!.httpGet, { path: '/healthz', port: 'ops', scheme: 'HTTP' });
    assert.deepEqual(c.startupProbe!.httpGet, { path: '/healthz', port: 'ops', scheme: 'HTTP' });
    assert.deepEqual(c.readinessProbe!.httpGet, { path: '/readyz', port: 'ops', scheme: 'HTTP' });
  });

  it('uses default resources unless the spec gives some', function () {
    assert.deepEqual(container(buildDeployment(ctx(), COMPONENTS.mq)).resources, DEFAULT_RESOURCES);
    const own = { requests: { cpu: '1', memory: '1Gi' } };
    assert.deepEqual(container(buildDeployment(ctx({ mq: { resources: own } }), COMPONENTS.mq)).resources, own);
  });

  it('surges every component except mq, whose standby cannot be ready while the leader lives', function () {
    for (const c of ALL_COMPONENTS) {
      const want = c.key === 'mq' ? { maxSurge: 0, maxUnavailable: 1 } : { maxSurge: 1, maxUnavailable: 0 };
      assert.deepEqual(
        buildDeployment(ctx(), c).spec!.strategy,
        { type: 'RollingUpdate', rollingUpdate: want },
        c.name,
      );
    }
  });

  it('is deterministic: the same context gives byte-identical objects', function () {
    for (const c of ALL_COMPONENTS) {
      assert.equal(JSON.stringify(buildDeployment(ctx(), c)), JSON.stringify(buildDeployment(ctx(), c)));
    }
  });

  // Which components roll when a Secret or ConfigMap value changes.
  const rolls: { change: string; secrets?: Record<string, string>; spec?: unknown; rolled: ComponentKey[] }[] = [
    {
      change: 'internal-key',
      secrets: { [SECRET_KEYS.internalKey]: 'new' },
      rolled: ['gateway', 'mq', 'auth', 'locationUnit', 'fileService'],
    },
    { change: 'token-keys', secrets: { [SECRET_KEYS.tokenKeys]: 'new' }, rolled: ['gateway', 'auth', 'fileService'] },
    { change: 'mq-passwords', secrets: { [SECRET_KEYS.mqPasswords]: 'new' }, rolled: ['gateway', 'mq'] },
    { change: 'mq-gps-password', secrets: { [SECRET_KEYS.mqGpsPassword]: 'new' }, rolled: ['locationUnit'] },
    { change: 'url-signing-key', secrets: { [SECRET_KEYS.urlSigningKey]: 'new' }, rolled: ['fileService'] },
    { change: 'queue declarations (ConfigMap)', spec: { mq: { queues: [{ name: 'chat' }] } }, rolled: ['mq'] },
    { change: 'an inline env value (template changes, hash does not)', spec: { logLevel: 'debug' }, rolled: [] },
  ];
  for (const r of rolls) {
    it(`a change of ${r.change} changes the config hash of ${r.rolled.join(', ') || 'no component'}`, function () {
      for (const c of ALL_COMPONENTS) {
        const before = hash(buildDeployment(ctx(), c));
        const after = hash(buildDeployment(ctx(r.spec ?? {}, r.secrets ?? {}), c));
        assert.equal(before !== after, r.rolled.includes(c.key), c.name);
      }
    });
  }
});
