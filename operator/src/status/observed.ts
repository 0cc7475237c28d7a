// What the condition functions look at: the reconcile's outcome and, per
// component, the Deployment as the cluster reports it.
import type { V1Deployment } from '@kubernetes/client-node';
import { ALL_COMPONENTS, type ComponentInfo } from '../api/components.js';
import type { Platform } from '../api/types.js';

export type Outcome =
  | { kind: 'applied' }
  /** The spec cannot be reconciled as written; no retry until it changes. */
  | { kind: 'invalid'; message: string }
  /** Applying failed (API errors, conflicts); retried with backoff. */
  | { kind: 'failed'; message: string };

export interface ComponentObservation {
  component: ComponentInfo;
  desired: number;
  deployment: V1Deployment | undefined;
}

export interface Observation {
  platform: Platform;
  outcome: Outcome;
  components: ComponentObservation[];
}

export function observe(
  platform: Platform,
  outcome: Outcome,
  deployment: (c: ComponentInfo) => V1Deployment | undefined,
): Observation {
  return {
    platform,
    outcome,
    components: ALL_COMPONENTS.map((c) => ({
      component: c,
      desired: platform.spec[c.key].replicas,
      deployment: deployment(c),
    })),
  };
}

/** Ready pods as the Deployment reports them. */
export function readyReplicas(o: ComponentObservation): number {
  return o.deployment?.status?.readyReplicas ?? 0;
}

/** Every pod runs the latest template, no old pods are left, and all are ready. */
export function rolledOut(o: ComponentObservation): boolean {
  const d = o.deployment;
  if (!d) return false;
  const st = d.status ?? {};
  const current = (st.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const specReplicas = d.spec?.replicas ?? 1;
  return (
    current &&
    specReplicas === o.desired &&
    (st.updatedReplicas ?? 0) === o.desired &&
    (st.replicas ?? 0) === o.desired &&
    (st.readyReplicas ?? 0) === o.desired
  );
}

/** Why a Deployment cannot make progress, if it cannot (quota, admission, deadline exceeded). */
export function deploymentFailure(o: ComponentObservation): string | undefined {
  for (const c of o.deployment?.status?.conditions ?? []) {
    if (c.type === 'ReplicaFailure' && c.status === 'True')
      return `${c.reason ?? 'ReplicaFailure'}: ${c.message ?? ''}`.trim();
    if (c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded') {
      return `ProgressDeadlineExceeded: ${c.message ?? ''}`.trim();
    }
  }
  return undefined;
}
