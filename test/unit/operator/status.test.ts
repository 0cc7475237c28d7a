// Condition functions (one per type), endpoint and the whole status, table-driven.
import assert from 'node:assert/strict';
import type { V1Deployment } from '@kubernetes/client-node';
import type { ComponentInfo } from '../../../operator/src/api/components.js';
import type { Condition } from '../../../operator/src/api/types.js';
import { computeStatus } from '../../../operator/src/status/compute-status.js';
import { formatTime, nextCondition } from '../../../operator/src/status/conditions.js';
import { degradedCondition } from '../../../operator/src/status/degraded-condition.js';
import { endpoint } from '../../../operator/src/status/endpoint.js';
import { observe, rolledOut, type Outcome } from '../../../operator/src/status/observed.js';
import { progressingCondition } from '../../../operator/src/status/progressing-condition.js';
import { readyCondition } from '../../../operator/src/status/ready-condition.js';
import { platform } from './fixtures.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const T1 = T0 + 60_000;

/** A Deployment as kube-controller-manager reports it. */
function dep(
  desired: number,
  st: { ready?: number; updated?: number; replicas?: number; observed?: number; conditions?: unknown[] } = {},
): V1Deployment {
  return {
    metadata: { generation: 2 },
    spec: { replicas: desired, selector: {}, template: {} },
    status: {
      observedGeneration: st.observed ?? 2,
      replicas: st.replicas ?? desired,
      updatedReplicas: st.updated ?? desired,
      readyReplicas: st.ready ?? desired,
      conditions: st.conditions as V1Deployment['status'] extends { conditions?: infer C } ? C : never,
    },
  };
}

/** Every component at its desired count and ready, except overrides by component name. */
function world(
  over: Record<string, V1Deployment | undefined> = {},
  outcome: Outcome = { kind: 'applied' },
  spec: unknown = {},
) {
  const p = platform(spec);
  return observe(p, outcome, (c: ComponentInfo) => (c.name in over ? over[c.name] : dep(p.spec[c.key].replicas)));
}

describe('operator status', function () {
  describe('nextCondition', function () {
    const prev: Condition = {
      type: 'Ready',
      status: 'True',
      lastTransitionTime: formatTime(T0),
      reason: 'A',
      message: 'a',
    };
    const table: { what: string; status: Condition['status']; previous?: Condition; want: string }[] = [
      { what: 'first time: now', status: 'True', want: formatTime(T1) },
      { what: 'same status: kept', status: 'True', previous: prev, want: formatTime(T0) },
      { what: 'flipped: now', status: 'False', previous: prev, want: formatTime(T1) },
    ];
    for (const t of table) {
      it(`lastTransitionTime — ${t.what}`, function () {
        const c = nextCondition({ type: 'Ready', status: t.status, reason: 'B', message: 'b' }, t.previous, 3, T1);
        assert.equal(c.lastTransitionTime, t.want);
        assert.equal(c.observedGeneration, 3);
        assert.equal(c.reason, 'B');
      });
    }
    it('formats times as the API server stores them (seconds, Z)', function () {
      assert.equal(formatTime(T0 + 1234), '2026-01-01T00:00:01Z');
    });
  });

  describe('Ready', function () {
    const table: {
      what: string;
      over?: Record<string, V1Deployment | undefined>;
      outcome?: Outcome;
      status: string;
      reason: string;
      message: RegExp;
    }[] = [
      { what: 'all ready', status: 'True', reason: 'AllReplicasReady', message: /^All 8 pods are ready$/ },
      {
        what: 'a gateway short',
        over: { gateway: dep(2, { ready: 1 }) },
        status: 'False',
        reason: 'ReplicasNotReady',
        message: /^Ready pods: gateway 1\/2$/,
      },
      {
        what: 'a Deployment missing',
        over: { mq: undefined },
        status: 'False',
        reason: 'ReplicasNotReady',
        message: /mq 0\/1/,
      },
      {
        what: 'an invalid spec',
        outcome: { kind: 'invalid', message: 'bad env' },
        status: 'False',
        reason: 'InvalidSpec',
        message: /^bad env$/,
      },
      {
        what: 'a failed apply with pods still ready',
        outcome: { kind: 'failed', message: 'boom' },
        status: 'True',
        reason: 'AllReplicasReady',
        message: /ready/,
      },
    ];
    for (const t of table) {
      it(`${t.what} → ${t.status} ${t.reason}`, function () {
        const c = readyCondition(world(t.over, t.outcome), undefined, T0);
        assert.equal(c.status, t.status);
        assert.equal(c.reason, t.reason);
        assert.match(c.message, t.message);
      });
    }
    it('counts a component scaled to zero as ready', function () {
      const c = readyCondition(world({}, { kind: 'applied' }, { locationUnit: { replicas: 0 } }), undefined, T0);
      assert.equal(c.status, 'True');
    });
  });

  describe('Progressing', function () {
    const table: {
      what: string;
      over?: Record<string, V1Deployment | undefined>;
      outcome?: Outcome;
      status: string;
      reason: string;
    }[] = [
      { what: 'everything rolled out', status: 'False', reason: 'RolloutComplete' },
      {
        what: 'a new spec not yet observed',
        over: { auth: dep(2, { observed: 1 }) },
        status: 'True',
        reason: 'RollingOut',
      },
      { what: 'old pods still there', over: { auth: dep(2, { replicas: 3 }) }, status: 'True', reason: 'RollingOut' },
      { what: 'pods not updated', over: { auth: dep(2, { updated: 1 }) }, status: 'True', reason: 'RollingOut' },
      { what: 'a Deployment missing', over: { gateway: undefined }, status: 'True', reason: 'RollingOut' },
      { what: 'an invalid spec', outcome: { kind: 'invalid', message: 'x' }, status: 'False', reason: 'InvalidSpec' },
      { what: 'a failed apply', outcome: { kind: 'failed', message: 'x' }, status: 'True', reason: 'Retrying' },
    ];
    for (const t of table) {
      it(`${t.what} → ${t.status} ${t.reason}`, function () {
        const c = progressingCondition(world(t.over, t.outcome), undefined, T0);
        assert.equal(c.status, t.status);
        assert.equal(c.reason, t.reason);
      });
    }
    it('names the components still rolling out', function () {
      assert.equal(
        progressingCondition(world({ auth: dep(2, { updated: 1 }) }), undefined, T0).message,
        'Rolling out: auth',
      );
    });
    it('rolledOut() requires the Deployment to ask for the desired replicas', function () {
      const o = world({ gateway: dep(5) }).components[0]!;
      assert.equal(rolledOut(o), false);
    });
  });

  describe('Degraded', function () {
    const deadline = [
      { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'took too long' },
    ];
    const quota = [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'exceeded quota' }];
    const table: {
      what: string;
      over?: Record<string, V1Deployment | undefined>;
      outcome?: Outcome;
      status: string;
      reason: string;
      message: string;
    }[] = [
      { what: 'all well', status: 'False', reason: 'AsExpected', message: '' },
      {
        what: 'an invalid spec',
        outcome: { kind: 'invalid', message: 'bad' },
        status: 'True',
        reason: 'InvalidSpec',
        message: 'bad',
      },
      {
        what: 'a failed apply',
        outcome: { kind: 'failed', message: 'denied' },
        status: 'True',
        reason: 'ReconcileFailed',
        message: 'denied',
      },
      {
        what: 'a deadline exceeded',
        over: { mq: dep(1, { conditions: deadline }) },
        status: 'True',
        reason: 'DeploymentFailed',
        message: 'mq: ProgressDeadlineExceeded: took too long',
      },
      {
        what: 'pods that cannot be created',
        over: { gateway: dep(2, { conditions: quota }) },
        status: 'True',
        reason: 'DeploymentFailed',
        message: 'gateway: FailedCreate: exceeded quota',
      },
    ];
    for (const t of table) {
      it(`${t.what} → ${t.status} ${t.reason}`, function () {
        const c = degradedCondition(world(t.over, t.outcome), undefined, T0);
        assert.deepEqual([c.status, c.reason, c.message], [t.status, t.reason, t.message]);
      });
    }
  });

  describe('endpoint', function () {
    const lb = { status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } };
    const table: { spec: unknown; ingress?: unknown; want: string }[] = [
      { spec: {}, want: '' },
      { spec: {}, ingress: lb, want: 'ws://203.0.113.7/ws' },
      { spec: { ingress: { host: 'chat.example.com' } }, want: 'ws://chat.example.com/ws' },
      { spec: { ingress: { host: 'chat.example.com', tlsSecretName: 't' } }, want: 'wss://chat.example.com/ws' },
      { spec: { ingress: { enabled: false } }, want: 'ws://demo-gateway.apps.svc:8080/ws' },
    ];
    for (const t of table) {
      it(`${JSON.stringify(t.spec)}${t.ingress ? ' + LB address' : ''} → ${t.want || '(none)'}`, function () {
        assert.equal(endpoint(platform(t.spec), t.ingress as never), t.want);
      });
    }
  });

  describe('computeStatus', function () {
    it('summarises components for kubectl get and the scale subresource', function () {
      const st = computeStatus(world({ gateway: dep(2, { ready: 1 }) }), undefined, T0);
      assert.deepEqual(st.components!.gateway, {
        desired: 2,
        replicas: 2,
        readyReplicas: 1,
        updatedReplicas: 2,
        ready: '1/2',
      });
      assert.equal(st.components!.locationUnit!.ready, '1/1');
      assert.equal(
        st.locationUnitSelector,
        'app.kubernetes.io/component=location-unit,app.kubernetes.io/instance=demo,app.kubernetes.io/name=tce-platform',
      );
      assert.deepEqual(
        st.conditions!.map((c) => c.type),
        ['Ready', 'Progressing', 'Degraded'],
      );
    });

    const gens: { outcome: Outcome; previous?: number; want: number | undefined }[] = [
      { outcome: { kind: 'applied' }, want: 1 },
      { outcome: { kind: 'failed', message: 'x' }, want: undefined },
      { outcome: { kind: 'failed', message: 'x' }, previous: 0, want: 0 },
      { outcome: { kind: 'invalid', message: 'x' }, previous: 0, want: 0 },
    ];
    for (const g of gens) {
      it(`observedGeneration after ${g.outcome.kind} (previous ${g.previous ?? 'none'}) is ${g.want ?? 'unset'}`, function () {
        const o = world({}, g.outcome);
        if (g.previous !== undefined) o.platform.status = { observedGeneration: g.previous };
        assert.equal(computeStatus(o, undefined, T0).observedGeneration, g.want);
      });
    }

    it('is the same value when nothing changed (so no write follows)', function () {
      const first = computeStatus(world(), undefined, T0);
      const o = world();
      o.platform.status = first;
      assert.deepEqual(computeStatus(o, undefined, T1), first);
    });
  });
});
