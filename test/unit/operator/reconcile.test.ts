// One reconcile against a fake API and in-memory caches: the first run applies
// every child and writes status; a second run with what the first wrote in the
// caches writes nothing; drift is re-applied; unwanted children are deleted;
// invalid specs go to status without touching children.
import assert from 'node:assert/strict';
import { silentLogger } from '../../../services/runtime/src/logger.js';
import { createEventRecorder } from '../../../operator/src/controller/events.js';
import { reconcile, type ReconcilerDeps } from '../../../operator/src/controller/reconciler.js';
import { OwnershipConflictError, reconcileChildren } from '../../../operator/src/controller/reconcile-children.js';
import { specOrMetadataChanged } from '../../../operator/src/controller/controller.js';
import { cryptoKeyGenerator } from '../../../operator/src/controller/secret-material.js';
import { describeRequest } from '../../../operator/src/kube/client.js';
import { ApiError } from '../../../operator/src/kube/errors.js';
import { Informer } from '../../../operator/src/kube/informer.js';
import { KINDS, type KindInfo, type KubeObject } from '../../../operator/src/kube/kinds.js';
import { createOperatorMetrics } from '../../../operator/src/metrics.js';
import { compareVersions } from '../../../operator/src/crd-upgrade.js';
import { CHILD_KINDS, desiredChildren } from '../../../operator/src/resources/children.js';
import { ctx, FakeClient } from './fixtures.js';

function setup(spec: unknown = {}) {
  const client = new FakeClient();
  const informer = (kind: KindInfo): Informer =>
    new Informer({ client, kind, logger: silentLogger, onEvent: () => undefined });
  const platforms = informer(KINDS.Platform);
  const children = new Map(CHILD_KINDS.map((k) => [k.kind, informer(k)]));
  const deps: ReconcilerDeps = {
    client,
    caches: { platforms, child: (k) => children.get(k.kind)! },
    events: createEventRecorder(client, silentLogger, 'test'),
    logger: silentLogger,
    metrics: createOperatorMetrics(),
    keys: cryptoKeyGenerator,
    defaultImageTag: '1.0.0',
    now: () => Date.parse('2026-01-01T00:00:00Z'),
  };
  // The status subresource answers with the whole Platform, as the API server does.
  let rv = 10_000;
  client.routes.set('PATCH platforms/apps/demo/status', (body: KubeObject) => {
    const cur = platforms.get('apps', 'demo')!;
    return { ...cur, status: body.status, metadata: { ...cur.metadata, resourceVersion: String(++rv) } };
  });
  platforms.upsertIfNewer({
    apiVersion: 'tce.dev/v1alpha1',
    kind: 'Platform',
    metadata: { name: 'demo', namespace: 'apps', uid: 'uid-1', generation: 1, resourceVersion: '1' },
    spec: spec as Record<string, unknown>,
  });
  return { client, deps, platforms, children };
}

const applies = (c: FakeClient, plural?: string) =>
  c.calls.filter(
    (x) => x.contentType === 'application/apply-patch+yaml' && (!plural || x.path.startsWith(`${plural}/`)),
  );

describe('operator reconcile', function () {
  it('applies every child, then writes status; a second pass writes nothing', async function () {
    const { client, deps } = setup();
    await reconcile(deps, 'apps/demo');
    const kids = applies(client).filter((c) => !c.path.endsWith('/status'));
    assert.equal(kids.length, 22);
    assert.equal(applies(client).filter((c) => c.path.endsWith('/status')).length, 1);
    const events = client.calls.filter((c) => c.path.endsWith('/events'));
    assert.equal(events.length, 1, 'one Created event for the reconcile');
    assert.match(
      (events[0]!.body as { message: string }).message,
      /^Created ConfigMap demo-config, Deployment demo-auth, /,
    );
    client.calls.length = 0;
    await reconcile(deps, 'apps/demo');
    // Only the read of the platform Secret would remain, and it is cached now.
    assert.deepEqual(client.writes(), []);
  });

  it('re-applies a child that drifted, and nothing else', async function () {
    const { client, deps, children } = setup();
    await reconcile(deps, 'apps/demo');
    const svc = children.get('Service')!.get('apps', 'demo-mq')!;
    const edited = structuredClone(svc) as KubeObject & { spec: { ports: { port: number }[] } };
    edited.spec.ports[0]!.port = 1234;
    edited.metadata!.resourceVersion = '1000';
    children.get('Service')!.upsertIfNewer(edited);
    client.calls.length = 0;
    await reconcile(deps, 'apps/demo');
    assert.deepEqual(
      applies(client).map((c) => c.path),
      ['services/apps/demo-mq'],
    );
  });

  it('falls back to a merge patch when the apply cannot restore a re-keyed list entry', async function () {
    const { client, deps, children } = setup();
    await reconcile(deps, 'apps/demo');
    const svc = structuredClone(children.get('Service')!.get('apps', 'demo-mq')!) as KubeObject & {
      spec: { ports: { port: number }[] };
    };
    svc.spec.ports[0]!.port = 1234;
    svc.metadata!.resourceVersion = '1000';
    children.get('Service')!.upsertIfNewer(svc);
    client.routes.set('PATCH services/apps/demo-mq', (body: KubeObject) => {
      const ct = client.calls.at(-1)!.contentType;
      if (ct === 'application/apply-patch+yaml') throw new ApiError('Duplicate value: "grpc"', 422, 'Invalid', {});
      return { ...body, metadata: { ...body.metadata, resourceVersion: '1001' } };
    });
    client.calls.length = 0;
    await reconcile(deps, 'apps/demo');
    assert.deepEqual(
      client
        .writes()
        .filter((c) => c.path.startsWith('services/'))
        .map((c) => c.contentType),
      ['application/apply-patch+yaml', 'application/merge-patch+json'],
    );
  });

  it('deletes children no longer desired (with a uid precondition)', async function () {
    const { client, deps, platforms } = setup();
    await reconcile(deps, 'apps/demo');
    platforms.upsertIfNewer({
      ...platforms.get('apps', 'demo')!,
      metadata: { ...platforms.get('apps', 'demo')!.metadata, generation: 2, resourceVersion: '99999' },
      spec: { ingress: { enabled: false } },
    });
    client.calls.length = 0;
    await reconcile(deps, 'apps/demo');
    const deletes = client.calls.filter((c) => c.method === 'DELETE');
    assert.deepEqual(
      deletes.map((d) => d.path),
      ['ingresses/apps/demo'],
    );
  });

  it('reports an invalid spec in status and leaves the children alone', async function () {
    const { client, deps } = setup({ gateway: { env: [{ name: 'TCE_WS_PORT', value: '1' }] } });
    const result = await reconcile(deps, 'apps/demo');
    assert.deepEqual(result, {});
    const writes = client.writes().filter((c) => !c.path.endsWith('/events'));
    assert.deepEqual(
      writes.map((w) => w.path),
      ['platforms/apps/demo/status'],
    );
    const status = (writes[0]!.body as { status: { conditions: { type: string; reason: string }[] } }).status;
    assert.deepEqual(
      status.conditions.map((c) => `${c.type}:${c.reason}`),
      ['Ready:InvalidSpec', 'Progressing:InvalidSpec', 'Degraded:InvalidSpec'],
    );
  });

  it('re-checks a missing MongoDB Secret every minute', async function () {
    const { deps } = setup({ mongo: { urlSecretRef: { name: 'mongo' } } });
    assert.deepEqual(await reconcile(deps, 'apps/demo'), { requeueAfterMs: 60_000 });
  });

  it('records the failure in status and rethrows, so the queue backs off', async function () {
    const { client, deps } = setup();
    client.routes.set('PATCH deployments/apps/demo-gateway', new ApiError('forbidden', 403, 'Forbidden', {}));
    await assert.rejects(reconcile(deps, 'apps/demo'), /Reconciling apps\/demo failed: forbidden/);
    const status = applies(client, 'platforms').at(-1)!.body as {
      status: { conditions: { type: string; reason: string; message: string }[] };
    };
    const degraded = status.status.conditions.find((c) => c.type === 'Degraded')!;
    assert.deepEqual([degraded.reason, degraded.message], ['ReconcileFailed', 'forbidden']);
  });

  it('does nothing for a deleted Platform (garbage collection removes the children)', async function () {
    const { client, deps } = setup();
    assert.deepEqual(await reconcile(deps, 'apps/gone'), {});
    assert.deepEqual(client.calls, []);
  });

  it('refuses to take over a child another controller owns', async function () {
    const { deps, children } = setup();
    const desired = desiredChildren(ctx());
    children.get('ConfigMap')!.upsertIfNewer({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'demo-config',
        namespace: 'apps',
        resourceVersion: '1',
        ownerReferences: [{ apiVersion: 'x/v1', kind: 'X', name: 'x', uid: 'other', controller: true }],
      },
    });
    await assert.rejects(
      reconcileChildren(deps, ctx().platform, desired),
      (err: Error) =>
        err instanceof OwnershipConflictError &&
        /ConfigMap demo-config exists and is controlled by another object/.test(err.message),
    );
  });
});

describe('operator events', function () {
  it('posts an event once per window', async function () {
    const client = new FakeClient();
    let now = 0;
    const rec = createEventRecorder(client, silentLogger, 'op-1', { dedupeWindowMs: 1000, now: () => now });
    const p = ctx().platform;
    await rec.record(p, 'Warning', 'InvalidSpec', 'bad');
    await rec.record(p, 'Warning', 'InvalidSpec', 'bad');
    await rec.record(p, 'Warning', 'InvalidSpec', 'other');
    now = 2000;
    await rec.record(p, 'Warning', 'InvalidSpec', 'bad');
    assert.equal(client.calls.length, 3);
    const e = client.calls[0]!.body as { involvedObject: { kind: string; uid: string }; reason: string; type: string };
    assert.deepEqual(
      [e.involvedObject.kind, e.involvedObject.uid, e.reason, e.type],
      ['Platform', 'uid-1', 'InvalidSpec', 'Warning'],
    );
  });
});

describe('operator request accounting and helpers', function () {
  const table: [string, string, Record<string, unknown> | undefined, string, string, string][] = [
    ['GET', '/apis/tce.dev/v1alpha1/platforms', undefined, '', 'list', 'platforms'],
    ['GET', '/apis/tce.dev/v1alpha1/platforms', { watch: 1 }, '', 'watch', 'platforms'],
    ['GET', '/api/v1/namespaces/a/secrets/s', undefined, '', 'get', 'secrets'],
    [
      'PATCH',
      '/apis/apps/v1/namespaces/a/deployments/d',
      undefined,
      'application/apply-patch+yaml',
      'apply',
      'deployments',
    ],
    [
      'PATCH',
      '/apis/tce.dev/v1alpha1/namespaces/a/platforms/p/status',
      undefined,
      'application/apply-patch+yaml',
      'apply',
      'platforms/status',
    ],
    ['PATCH', '/api/v1/namespaces/a/services/s', undefined, 'application/merge-patch+json', 'patch', 'services'],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/a/leases/l', undefined, '', 'update', 'leases'],
    ['POST', '/api/v1/namespaces/a/events', undefined, '', 'create', 'events'],
    ['DELETE', '/apis/networking.k8s.io/v1/namespaces/a/ingresses/i', undefined, '', 'delete', 'ingresses'],
    [
      'GET',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/platforms.tce.dev',
      undefined,
      '',
      'get',
      'customresourcedefinitions',
    ],
    ['GET', '/api/v1/namespaces', undefined, '', 'list', 'namespaces'],
    ['GET', '/version', undefined, '', 'get', '/version'],
  ];
  for (const [method, path, query, ct, verb, resource] of table) {
    it(`${method} ${path}${query?.watch ? '?watch' : ''} is ${verb} ${resource}`, function () {
      assert.deepEqual(describeRequest(method, path, query as never, ct), { verb, resource });
    });
  }

  const versions: [string, string, number][] = [
    ['0.1.0', '0.1.0', 0],
    ['0.2.0', '0.10.0', -1],
    ['1.0.0', '0.9.9', 1],
    ['1.0.0-rc.1', '1.0.0', 0],
    ['1.0', '1.0.0', 0],
  ];
  for (const [a, b, sign] of versions) {
    it(`compareVersions(${a}, ${b}) is ${sign < 0 ? '<' : sign > 0 ? '>' : '='} 0`, function () {
      assert.equal(Math.sign(compareVersions(a, b)), sign);
    });
  }

  const changes: [string, KubeObject, KubeObject, boolean][] = [
    ['status only', { metadata: { generation: 1 } }, { metadata: { generation: 1 }, status: { x: 1 } }, false],
    ['spec (generation)', { metadata: { generation: 1 } }, { metadata: { generation: 2 } }, true],
    ['a label', { metadata: { generation: 1 } }, { metadata: { generation: 1, labels: { a: 'b' } } }, true],
    ['deletion', { metadata: { generation: 1 } }, { metadata: { generation: 1, deletionTimestamp: 'now' } }, true],
  ];
  for (const [what, a, b, want] of changes) {
    it(`a Platform event with ${what} ${want ? 'is' : 'is not'} reconciled`, function () {
      assert.equal(specOrMetadataChanged(a, b), want);
    });
  }
});
