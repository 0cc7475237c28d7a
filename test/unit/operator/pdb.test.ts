// PodDisruptionBudgets exist only for components with two or more replicas.
import assert from 'node:assert/strict';
import { COMPONENTS } from '../../../operator/src/api/components.js';
import { buildPodDisruptionBudget, buildPodDisruptionBudgets } from '../../../operator/src/resources/pdb.js';
import { ctx } from './fixtures.js';

describe('operator PodDisruptionBudget builder', function () {
  for (const [replicas, want] of [
    [0, false],
    [1, false],
    [2, true],
    [5, true],
  ] as const) {
    it(`${replicas} replica(s): ${want ? 'maxUnavailable 1' : 'no budget'}`, function () {
      const pdb = buildPodDisruptionBudget(ctx({ gateway: { replicas } }), COMPONENTS.gateway);
      assert.equal(pdb !== undefined, want);
      if (pdb) {
        assert.equal(pdb.metadata!.name, 'demo-gateway');
        assert.equal(pdb.spec!.maxUnavailable, 1);
        assert.equal(pdb.spec!.selector!.matchLabels!['app.kubernetes.io/component'], 'gateway');
      }
    });
  }

  it('covers the replicated components of a default Platform', function () {
    assert.deepEqual(
      buildPodDisruptionBudgets(ctx()).map((p) => p.metadata!.name),
      ['demo-gateway', 'demo-auth', 'demo-file-service'],
    );
  });
});
