// Condition bookkeeping shared by the condition functions: a new condition
// keeps the previous lastTransitionTime unless its status flips.
import type { Condition, ConditionType } from '../api/types.js';

/** RFC 3339 with second precision, as the API server stores metav1.Time. */
export function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export interface ConditionInput {
  type: ConditionType;
  status: Condition['status'];
  reason: string;
  message: string;
}

/** The condition to store, given the previous one of the same type. */
export function nextCondition(
  input: ConditionInput,
  previous: Condition | undefined,
  generation: number | undefined,
  now: number,
): Condition {
  return {
    type: input.type,
    status: input.status,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    lastTransitionTime: previous && previous.status === input.status ? previous.lastTransitionTime : formatTime(now),
    reason: input.reason,
    message: input.message,
  };
}

export function findCondition(conditions: Condition[] | undefined, type: ConditionType): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
