// Step "status" of a reconcile: compute the status from the cache and write it
// (server-side apply on the status subresource) only when it differs from what
// the Platform already shows — the other half of staying quiet at rest.
import type { V1Deployment, V1Ingress } from '@kubernetes/client-node';
import type { Platform, PlatformStatus } from '../api/types.js';
import type { KubeClient } from '../kube/client.js';
import type { Informer } from '../kube/informer.js';
import { KINDS, type KubeObject } from '../kube/kinds.js';
import { jsonEqual } from '../kube/semantic.js';
import { componentName, ingressName } from '../resources/names.js';
import { computeStatus } from '../status/compute-status.js';
import { findCondition } from '../status/conditions.js';
import { observe, type Outcome } from '../status/observed.js';
import type { EventRecorder } from './events.js';
import type { ChildCaches } from './reconcile-children.js';

export async function reconcileStatus(
  deps: {
    client: KubeClient;
    caches: ChildCaches & { platforms: Informer };
    events: EventRecorder;
    now(): number;
  },
  platform: Platform,
  outcome: Outcome,
): Promise<PlatformStatus> {
  const ns = platform.metadata.namespace;
  const deployments = deps.caches.child(KINDS.Deployment);
  const obs = observe(
    platform,
    outcome,
    (c) => deployments.get(ns, componentName(platform, c)) as V1Deployment | undefined,
  );
  const ingress = deps.caches.child(KINDS.Ingress).get(ns, ingressName(platform)) as V1Ingress | undefined;
  const next = computeStatus(obs, ingress, deps.now());
  const prev = platform.status ?? {};
  if (jsonEqual(prev, next)) return next;
  const applied = await deps.client.apply<KubeObject>(
    KINDS.Platform,
    {
      apiVersion: platform.apiVersion,
      kind: platform.kind,
      metadata: { name: platform.metadata.name, namespace: ns },
      status: next,
    },
    'status',
  );
  deps.caches.platforms.upsertIfNewer({ ...applied, apiVersion: KINDS.Platform.apiVersion, kind: KINDS.Platform.kind });
  const was = findCondition(prev.conditions, 'Ready');
  const now = findCondition(next.conditions, 'Ready');
  // Events for readiness changes; not for the False a new Platform starts with.
  if (now?.status === 'True' && was?.status !== 'True')
    await deps.events.record(platform, 'Normal', 'Ready', now.message);
  if (now && now.status !== 'True' && was?.status === 'True') {
    await deps.events.record(platform, 'Warning', 'NotReady', now.message);
  }
  return next;
}
