// The whole set of children: order, names, ownership, labels, determinism.
import assert from 'node:assert/strict';
import { CHILD_KINDS, desiredChildren } from '../../../operator/src/resources/children.js';
import { ctx } from './fixtures.js';

describe('operator children', function () {
  it('applies in dependency order: identity and config, Services, policies, Deployments, budgets, Ingress', function () {
    const kinds = [...new Set(desiredChildren(ctx()).map((c) => c.kind.kind))];
    assert.deepEqual(kinds, [
      'ServiceAccount',
      'Secret',
      'ConfigMap',
      'Service',
      'NetworkPolicy',
      'Deployment',
      'PodDisruptionBudget',
      'Ingress',
    ]);
    assert.deepEqual(
      CHILD_KINDS.map((k) => k.kind),
      kinds,
    );
  });

  it('builds 22 children for spec: {} (1 + 1 + 1 + 6 Services + 4 policies + 5 Deployments + 3 budgets + 1), each named uniquely per kind, labelled and owned', function () {
    const children = desiredChildren(ctx());
    assert.equal(children.length, 22);
    const keys = children.map((c) => `${c.kind.kind}/${c.object.metadata!.name}`);
    assert.equal(new Set(keys).size, keys.length);
    for (const { kind, object } of children) {
      assert.equal(object.apiVersion, kind.apiVersion);
      assert.equal(object.kind, kind.kind);
      assert.equal(object.metadata!.namespace, 'apps');
      assert.equal(object.metadata!.labels!['app.kubernetes.io/managed-by'], 'tce-operator');
      assert.equal(object.metadata!.labels!['app.kubernetes.io/instance'], 'demo');
      assert.deepEqual(object.metadata!.ownerReferences, [
        {
          apiVersion: 'tce.dev/v1alpha1',
          kind: 'Platform',
          name: 'demo',
          uid: 'uid-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      assert.ok(object.metadata!.name!.length <= 63);
    }
  });

  it('is byte-identical for the same context (no clocks, no randomness)', function () {
    assert.equal(JSON.stringify(desiredChildren(ctx())), JSON.stringify(desiredChildren(ctx())));
  });

  it('drops the Ingress, NetworkPolicies and budgets that are not wanted', function () {
    const kinds = desiredChildren(
      ctx({
        ingress: { enabled: false },
        networkPolicy: { enabled: false },
        gateway: { replicas: 1 },
        auth: { replicas: 1 },
        fileService: { replicas: 1 },
      }),
    ).map((c) => c.kind.kind);
    assert.ok(!kinds.includes('Ingress'));
    assert.ok(!kinds.includes('NetworkPolicy'));
    assert.ok(!kinds.includes('PodDisruptionBudget'));
  });
});
