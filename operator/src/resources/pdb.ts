// PodDisruptionBudget `NAME-<component>` for components with two or more
// replicas: voluntary disruptions (drains) take one pod at a time. With one
// replica there is none: a budget that forbids evicting the only pod blocks
// node drains forever.
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import { ALL_COMPONENTS, type ComponentInfo } from '../api/components.js';
import type { BuildContext } from './context.js';
import { childMeta, componentName, selectorLabels } from './names.js';

export function buildPodDisruptionBudget(ctx: BuildContext, c: ComponentInfo): V1PodDisruptionBudget | undefined {
  const p = ctx.platform;
  if (p.spec[c.key].replicas < 2) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(p, componentName(p, c), c),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(p, c) } },
  };
}

export function buildPodDisruptionBudgets(ctx: BuildContext): V1PodDisruptionBudget[] {
  return ALL_COMPONENTS.flatMap((c) => buildPodDisruptionBudget(ctx, c) ?? []);
}
