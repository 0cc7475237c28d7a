// Every child of a Platform, in the order they are applied. The order matters
// only while a Platform is being created, and is chosen so that nothing starts
// before what it needs exists:
//   1. ServiceAccount, Secret, ConfigMap — pods reference them; a pod whose
//      Secret is missing fails to start and backs off for minutes;
//   2. Services — DNS names exist before the pods that dial them start;
//   3. NetworkPolicies — allow rules before the default deny (see network-policy.ts);
//   4. Deployments — the pods themselves;
//   5. PodDisruptionBudgets — protect the pods once they exist;
//   6. Ingress — last, so outside traffic arrives only when backends are declared.
import type { KubeObject } from '../kube/kinds.js';
import { KINDS, type KindInfo } from '../kube/kinds.js';
import { buildConfigMap } from './configmap.js';
import type { BuildContext } from './context.js';
import { buildDeployments } from './deployment.js';
import { buildIngress } from './ingress.js';
import { buildNetworkPolicies } from './network-policy.js';
import { buildPodDisruptionBudgets } from './pdb.js';
import { buildSecret } from './secret.js';
import { buildServiceAccount } from './service-account.js';
import { buildServices } from './service.js';

/** One builder per child kind: a pure function from the context to the desired objects of that kind. */
export interface ChildBuilder {
  kind: KindInfo;
  build(ctx: BuildContext): KubeObject[];
}

const one = <T>(o: T | undefined): T[] => (o === undefined ? [] : [o]);
const asObjects = (objs: object[]): KubeObject[] => objs as KubeObject[];

export const CHILD_BUILDERS: readonly ChildBuilder[] = [
  { kind: KINDS.ServiceAccount, build: (ctx) => asObjects([buildServiceAccount(ctx)]) },
  { kind: KINDS.Secret, build: (ctx) => asObjects([buildSecret(ctx)]) },
  { kind: KINDS.ConfigMap, build: (ctx) => asObjects([buildConfigMap(ctx)]) },
  { kind: KINDS.Service, build: (ctx) => asObjects(buildServices(ctx)) },
  { kind: KINDS.NetworkPolicy, build: (ctx) => asObjects(buildNetworkPolicies(ctx)) },
  { kind: KINDS.Deployment, build: (ctx) => asObjects(buildDeployments(ctx)) },
  { kind: KINDS.PodDisruptionBudget, build: (ctx) => asObjects(buildPodDisruptionBudgets(ctx)) },
  { kind: KINDS.Ingress, build: (ctx) => asObjects(one(buildIngress(ctx))) },
];

/** The kinds of child the operator manages (and watches, and deletes when no longer desired). */
export const CHILD_KINDS: readonly KindInfo[] = CHILD_BUILDERS.map((b) => b.kind);

export interface DesiredChild {
  kind: KindInfo;
  object: KubeObject;
}

export function desiredChildren(ctx: BuildContext): DesiredChild[] {
  return CHILD_BUILDERS.flatMap((b) => b.build(ctx).map((object) => ({ kind: b.kind, object })));
}
