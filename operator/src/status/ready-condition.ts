// Ready: every component has all its desired pods ready.
import type { Condition } from '../api/types.js';
import { nextCondition } from './conditions.js';
import { readyReplicas, type Observation } from './observed.js';

export function readyCondition(o: Observation, previous: Condition | undefined, now: number): Condition {
  const gen = o.platform.metadata.generation;
  if (o.outcome.kind === 'invalid') {
    return nextCondition(
      { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: o.outcome.message },
      previous,
      gen,
      now,
    );
  }
  const short = o.components.filter((c) => readyReplicas(c) < c.desired);
  if (short.length === 0) {
    const pods = o.components.reduce((n, c) => n + c.desired, 0);
    return nextCondition(
      { type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: `All ${pods} pods are ready` },
      previous,
      gen,
      now,
    );
  }
  const detail = short.map((c) => `${c.component.name} ${readyReplicas(c)}/${c.desired}`).join(', ');
  return nextCondition(
    { type: 'Ready', status: 'False', reason: 'ReplicasNotReady', message: `Ready pods: ${detail}` },
    previous,
    gen,
    now,
  );
}
