// Degraded: something needs a human — an invalid spec, a reconcile that keeps
// failing, or a Deployment that cannot progress.
import type { Condition } from '../api/types.js';
import { nextCondition } from './conditions.js';
import { deploymentFailure, type Observation } from './observed.js';

export function degradedCondition(o: Observation, previous: Condition | undefined, now: number): Condition {
  const gen = o.platform.metadata.generation;
  if (o.outcome.kind === 'invalid') {
    return nextCondition(
      { type: 'Degraded', status: 'True', reason: 'InvalidSpec', message: o.outcome.message },
      previous,
      gen,
      now,
    );
  }
  if (o.outcome.kind === 'failed') {
    return nextCondition(
      { type: 'Degraded', status: 'True', reason: 'ReconcileFailed', message: o.outcome.message },
      previous,
      gen,
      now,
    );
  }
  const failures = o.components.flatMap((c) => {
    const f = deploymentFailure(c);
    return f ? [`${c.component.name}: ${f}`] : [];
  });
  if (failures.length) {
    return nextCondition(
      { type: 'Degraded', status: 'True', reason: 'DeploymentFailed', message: failures.join('; ') },
      previous,
      gen,
      now,
    );
  }
  return nextCondition({ type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' }, previous, gen, now);
}
