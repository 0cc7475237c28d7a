// EasyMQ's settings: the typed schema (env names fixed by ARCHITECTURE.md plus a
// few TCE_MQ_* additions), and the parsing of the two JSON-valued variables
// (queue declarations and per-queue passwords), which fail fast naming the variable.
import { ConfigError, type ConfigOf, type Schema } from '../../runtime/src/config.js';
import { normalizeSpec, type QueueDeclaration } from './queue-spec.js';

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

export const mqSchema = {
  grpcPort: { env: 'TCE_GRPC_PORT', type: 'int', default: 50052, min: 0, max: 65535, doc: 'EasyMQ gRPC port.' },
  mongoUrl: {
    env: 'TCE_MONGO_URL',
    type: 'url',
    protocols: ['mongodb', 'mongodb+srv'],
    secret: true,
    doc: 'MongoDB URL (with database): durable queue contents, queue declarations and the leader lease.',
  },
  adminPassword: {
    env: 'TCE_MQ_ADMIN_PASSWORD',
    type: 'string',
    default: '',
    secret: true,
    doc: 'Credential of the admin API (create, rm, purge, stats, groups). Empty disables the admin API.',
  },
  passwords: {
    env: 'TCE_MQ_PASSWORDS',
    type: 'string',
    default: '{}',
    secret: true,
    doc: 'JSON map queue name → password. Required for every queue in TCE_MQ_QUEUES; overrides stored passwords. Kept hashed (scrypt).',
  },
  queues: {
    env: 'TCE_MQ_QUEUES',
    type: 'string',
    default: '[]',
    doc: 'JSON array of queue declarations created at start, e.g. [{"name":"mq_gps","kind":"partitioned","partitions":64,"durable":true}] (fields as mq.QueueSpec).',
  },
  maxMessageBytes: {
    env: 'TCE_MQ_MAX_MESSAGE_BYTES',
    type: 'int',
    default: DEFAULT_MAX_MESSAGE_BYTES,
    min: 64,
    max: 64 * 1024 * 1024,
    doc: 'Largest message (encoded: payload, key, id, headers) any queue accepts.',
  },
  leaseTtl: {
    env: 'TCE_MQ_LEASE_TTL',
    type: 'duration',
    default: 10_000,
    min: 1000,
    doc: 'Leader lease in MongoDB: with several replicas one is active; a standby takes over this long after the leader stops renewing.',
  },
  dedupeWindow: {
    env: 'TCE_MQ_DEDUPE_WINDOW',
    type: 'duration',
    default: 120_000,
    doc: 'How long a publish idempotency key (Message.id) is remembered.',
  },
} as const satisfies Schema;

export type MqConfig = ConfigOf<typeof mqSchema>;

/** Parses TCE_MQ_QUEUES and TCE_MQ_PASSWORDS; every queue declared needs a password. */
export function parseDeclarations(
  queuesJson: string,
  passwordsJson: string,
  maxMessageBytes: number,
): { queues: QueueDeclaration[]; passwords: Map<string, string> } {
  const problems: string[] = [];
  const passwords = new Map<string, string>();
  let pw: unknown;
  try {
    pw = JSON.parse(passwordsJson);
  } catch (err) {
    problems.push(`TCE_MQ_PASSWORDS: not valid JSON (${(err as Error).message})`);
  }
  if (pw !== undefined) {
    if (typeof pw !== 'object' || pw === null || Array.isArray(pw)) {
      problems.push('TCE_MQ_PASSWORDS: expected a JSON object mapping queue names to passwords');
    } else {
      for (const [k, v] of Object.entries(pw)) {
        if (typeof v !== 'string' || v === '')
          problems.push(`TCE_MQ_PASSWORDS: the password of '${k}' must be a non-empty string`);
        else passwords.set(k, v);
      }
    }
  }
  const queues: QueueDeclaration[] = [];
  let raw: unknown;
  try {
    raw = JSON.parse(queuesJson);
  } catch (err) {
    problems.push(`TCE_MQ_QUEUES: not valid JSON (${(err as Error).message})`);
  }
  if (raw !== undefined) {
    if (!Array.isArray(raw)) problems.push('TCE_MQ_QUEUES: expected a JSON array of queue declarations');
    else {
      const seen = new Set<string>();
      raw.forEach((item: unknown, i) => {
        try {
          const spec = normalizeSpec(item as Record<string, unknown>, maxMessageBytes);
          if (seen.has(spec.name)) throw new Error(`queue '${spec.name}' is declared twice`);
          seen.add(spec.name);
          if (!passwords.has(spec.name)) throw new Error(`queue '${spec.name}' has no password in TCE_MQ_PASSWORDS`);
          queues.push(spec);
        } catch (err) {
          problems.push(`TCE_MQ_QUEUES[${i}]: ${(err as Error).message}`);
        }
      });
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return { queues, passwords };
}
