// The Platform's whole status from what was observed: one pure function, so
// "write status only when it changed" is a plain comparison of two values.
import type { V1Ingress } from '@kubernetes/client-node';
import { COMPONENTS } from '../api/components.js';
import type { ComponentStatus, PlatformStatus } from '../api/types.js';
import { selectorString } from '../resources/names.js';
import { findCondition } from './conditions.js';
import { degradedCondition } from './degraded-condition.js';
import { endpoint } from './endpoint.js';
import type { Observation } from './observed.js';
import { progressingCondition } from './progressing-condition.js';
import { readyCondition } from './ready-condition.js';

export function computeStatus(o: Observation, ingress: V1Ingress | undefined, now: number): PlatformStatus {
  const prev = o.platform.status ?? {};
  const components: Record<string, ComponentStatus> = {};
  for (const c of o.components) {
    const st = c.deployment?.status ?? {};
    const ready = st.readyReplicas ?? 0;
    components[c.component.key] = {
      desired: c.desired,
      replicas: st.replicas ?? 0,
      readyReplicas: ready,
      updatedReplicas: st.updatedReplicas ?? 0,
      ready: `${ready}/${c.desired}`,
    };
  }
  const ep = endpoint(o.platform, ingress);
  return {
    // observedGeneration advances only when this generation was applied completely.
    ...(o.outcome.kind === 'applied'
      ? { observedGeneration: o.platform.metadata.generation }
      : prev.observedGeneration !== undefined
        ? { observedGeneration: prev.observedGeneration }
        : {}),
    conditions: [
      readyCondition(o, findCondition(prev.conditions, 'Ready'), now),
      progressingCondition(o, findCondition(prev.conditions, 'Progressing'), now),
      degradedCondition(o, findCondition(prev.conditions, 'Degraded'), now),
    ],
    components,
    ...(ep ? { endpoint: ep } : {}),
    locationUnitSelector: selectorString(o.platform, COMPONENTS.locationUnit),
  };
}
