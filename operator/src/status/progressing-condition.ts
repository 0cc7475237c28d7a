// Progressing: a change is being rolled out (True) or everything runs the
// desired spec (False), after kstatus and Deployment conventions.
import type { Condition } from '../api/types.js';
import { nextCondition } from './conditions.js';
import { rolledOut, type Observation } from './observed.js';

export function progressingCondition(o: Observation, previous: Condition | undefined, now: number): Condition {
  const gen = o.platform.metadata.generation;
  if (o.outcome.kind === 'invalid') {
    return nextCondition(
      { type: 'Progressing', status: 'False', reason: 'InvalidSpec', message: 'Waiting for a valid spec' },
      previous,
      gen,
      now,
    );
  }
  if (o.outcome.kind === 'failed') {
    return nextCondition(
      { type: 'Progressing', status: 'True', reason: 'Retrying', message: 'Applying the spec failed; retrying' },
      previous,
      gen,
      now,
    );
  }
  const pending = o.components.filter((c) => !rolledOut(c));
  if (pending.length === 0) {
    return nextCondition(
      {
        type: 'Progressing',
        status: 'False',
        reason: 'RolloutComplete',
        message: 'Every component runs the desired spec',
      },
      previous,
      gen,
      now,
    );
  }
  return nextCondition(
    {
      type: 'Progressing',
      status: 'True',
      reason: 'RollingOut',
      message: `Rolling out: ${pending.map((c) => c.component.name).join(', ')}`,
    },
    previous,
    gen,
    now,
  );
}
