// Queue declarations: defaults and validation of mq.QueueSpec, shared by
// TCE_MQ_QUEUES (config) and IMqAdmin.create. Pure: no I/O.
import type { QueueSpec } from '../../../proto/gen/ts/mq.js';

export type QueueKind = 'queue' | 'topic' | 'partitioned';
export type QueueDeclaration = QueueSpec & { kind: QueueKind; slow_policy: 'drop' | 'disconnect' };

export const QUEUE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const DEFAULTS = {
  partitions: 64,
  ackTimeoutMs: 30_000,
  maxDeliveries: 10,
  maxDepth: 1_000_000,
  subscriberLimit: 10_000,
} as const;
export const MAX_PARTITIONS = 1024;
const FIELDS = new Set([
  'name',
  'kind',
  'durable',
  'partitions',
  'ack_timeout_ms',
  'max_deliveries',
  'dead_letter',
  'max_message_bytes',
  'max_depth',
  'subscriber_limit',
  'slow_policy',
]);

/** Name of the dead-letter queue a declaration gets when it names none. */
export const deadLetterName = (name: string): string => `${name}.dlq`;

/**
 * Fills defaults and validates; throws Error with a message fit for the caller.
 * `input` is either a JSON object from TCE_MQ_QUEUES or a decoded QueueSpec
 * (whose unset numbers are 0 and strings '').
 */
export function normalizeSpec(input: Record<string, unknown>, globalMaxMessageBytes: number): QueueDeclaration {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('expected an object');
  for (const k of Object.keys(input)) if (!FIELDS.has(k)) throw new Error(`unknown field '${k}'`);
  const str = (k: string): string => {
    const v = input[k];
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw new Error(`${k} must be a string`);
    return v;
  };
  const int = (k: string): number => {
    const v = input[k];
    if (v === undefined || v === null) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${k} must be an integer`);
    return v;
  };
  const name = str('name');
  if (!QUEUE_NAME.test(name)) {
    throw new Error(`invalid queue name '${name}': 1-128 characters of A-Z a-z 0-9 _ . -, not starting with . or -`);
  }
  const kind = (str('kind') || 'queue') as QueueKind;
  if (!['queue', 'topic', 'partitioned'].includes(kind)) {
    throw new Error(`kind must be queue, topic or partitioned, got '${kind}'`);
  }
  const durableRaw = input.durable;
  if (durableRaw !== undefined && typeof durableRaw !== 'boolean') throw new Error('durable must be true or false');
  let partitions = int('partitions');
  if (kind === 'partitioned') {
    partitions ||= DEFAULTS.partitions;
    if (partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new Error(`partitions must be between 1 and ${MAX_PARTITIONS}, got ${partitions}`);
    }
  } else {
    if (partitions !== 0 && partitions !== 1)
      throw new Error(`partitions is only for partitioned queues (a ${kind} has 1)`);
    partitions = 1;
  }
  const ack = int('ack_timeout_ms') || DEFAULTS.ackTimeoutMs;
  if (ack < 100 || ack > 86_400_000) throw new Error(`ack_timeout_ms must be between 100 and 86400000, got ${ack}`);
  const maxDeliveries = int('max_deliveries') || DEFAULTS.maxDeliveries;
  if (maxDeliveries < -1)
    throw new Error(`max_deliveries must be -1 (never dead-letter) or positive, got ${maxDeliveries}`);
  let deadLetter = str('dead_letter');
  if (maxDeliveries === -1) deadLetter = '';
  else deadLetter ||= deadLetterName(name);
  if (deadLetter && !QUEUE_NAME.test(deadLetter)) throw new Error(`invalid dead_letter queue name '${deadLetter}'`);
  if (deadLetter === name) throw new Error('a queue cannot be its own dead-letter queue');
  const mmb = int('max_message_bytes') || globalMaxMessageBytes;
  if (mmb < 1 || mmb > globalMaxMessageBytes) {
    throw new Error(
      `max_message_bytes must be between 1 and ${globalMaxMessageBytes} (TCE_MQ_MAX_MESSAGE_BYTES), got ${mmb}`,
    );
  }
  const maxDepth = int('max_depth') || DEFAULTS.maxDepth;
  if (maxDepth < 1) throw new Error(`max_depth must be positive, got ${maxDepth}`);
  const subscriberLimit = int('subscriber_limit') || DEFAULTS.subscriberLimit;
  if (subscriberLimit < 1) throw new Error(`subscriber_limit must be positive, got ${subscriberLimit}`);
  const slow = (str('slow_policy') || 'drop') as 'drop' | 'disconnect';
  if (slow !== 'drop' && slow !== 'disconnect')
    throw new Error(`slow_policy must be drop or disconnect, got '${slow}'`);
  return {
    name,
    kind,
    durable: durableRaw === true,
    partitions,
    ack_timeout_ms: ack,
    max_deliveries: maxDeliveries,
    dead_letter: deadLetter,
    max_message_bytes: mmb,
    max_depth: maxDepth,
    subscriber_limit: subscriberLimit,
    slow_policy: slow,
  };
}

/** The declaration of the dead-letter queue that `spec` names (same durability, plain queue, never dead-letters). */
export function deadLetterSpec(spec: QueueDeclaration): QueueDeclaration {
  return {
    ...spec,
    name: spec.dead_letter,
    kind: 'queue',
    partitions: 1,
    max_deliveries: -1,
    dead_letter: '',
  };
}

/** Settings that cannot change once a queue exists (they shape its stored data). */
export function incompatibleChange(a: QueueDeclaration, b: QueueDeclaration): string | undefined {
  if (a.kind !== b.kind) return `kind ${a.kind} → ${b.kind}`;
  if (a.durable !== b.durable) return `durable ${a.durable} → ${b.durable}`;
  if (a.partitions !== b.partitions) return `partitions ${a.partitions} → ${b.partitions}`;
  return undefined;
}
