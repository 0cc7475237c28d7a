// Configuration as a typed schema: every setting is an environment variable with
// a type, a default and a doc string. The same schema drives loading (fail fast,
// naming the variable), the operator's env builder, the Helm values and the
// README table, so the three never drift apart.

interface Base {
  /** Environment variable name, e.g. TCE_GRPC_PORT. */
  env: string;
  doc: string;
  /** Secret values are never logged and come from the Platform's Secret in Kubernetes. */
  secret?: boolean;
}
export type FieldSpec = Base &
  (
    | { type: 'string'; default?: string; pattern?: RegExp }
    | { type: 'int'; default?: number; min?: number; max?: number }
    | { type: 'bool'; default?: boolean }
    | { type: 'duration'; default?: number /* ms */; min?: number }
    | { type: 'enum'; values: readonly string[]; default?: string }
    | { type: 'url'; default?: string; protocols: readonly string[] }
    | { type: 'list'; default?: string[] }
  );

export type Schema = Record<string, FieldSpec>;

type ValueOf<F extends FieldSpec> = F extends { type: 'int' | 'duration' }
  ? number
  : F extends { type: 'bool' }
    ? boolean
    : F extends { type: 'list' }
      ? string[]
      : string;

export type ConfigOf<S extends Schema> = { [K in keyof S]: ValueOf<S[K]> };

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** Parses `env` against `schema`; collects every problem and throws them together. */
export function loadConfig<S extends Schema>(schema: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(schema)) {
    const raw = env[spec.env];
    if (raw === undefined || raw === '') {
      if (spec.default === undefined) problems.push(`${spec.env}: required (${spec.doc})`);
      else out[key] = spec.default;
      continue;
    }
    const r = parseValue(spec, raw);
    if (typeof r === 'object' && r !== null && 'problem' in r) problems.push(`${spec.env}: ${r.problem}`);
    else out[key] = r;
  }
  if (problems.length) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

function parseValue(spec: FieldSpec, raw: string): unknown {
  const shown = spec.secret ? '<secret>' : `'${raw}'`;
  switch (spec.type) {
    case 'string':
      if (spec.pattern && !spec.pattern.test(raw)) return { problem: `${shown} does not match ${spec.pattern}` };
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) return { problem: `expected an integer, got ${shown}` };
      const n = Number(raw);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        return { problem: `expected an integer between ${spec.min ?? '-inf'} and ${spec.max ?? 'inf'}, got ${n}` };
      }
      return n;
    }
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      return { problem: `expected true or false, got ${shown}` };
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === undefined) return { problem: `expected a duration like 500ms, 30s, 5m or 1h, got ${shown}` };
      if (spec.min !== undefined && ms < spec.min) return { problem: `must be at least ${spec.min} ms, got ${ms} ms` };
      return ms;
    }
    case 'enum':
      if (!spec.values.includes(raw)) return { problem: `expected one of ${spec.values.join(', ')}, got ${shown}` };
      return raw;
    case 'url': {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        return { problem: `expected a URL, got ${shown}` };
      }
      if (!spec.protocols.includes(u.protocol.replace(/:$/, ''))) {
        return {
          problem: `expected a ${spec.protocols.join(' or ')} URL, got ${spec.secret ? '<secret>' : u.protocol}`,
        };
      }
      return raw;
    }
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
  }
}

/** "250ms", "30s", "5m", "1h", "2d" or a bare number of milliseconds. */
export function parseDuration(raw: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(raw);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  return Math.round(Number(m[1]) * unit);
}

/** The documented default as a string, as it appears in the README and in Kubernetes env. */
export function defaultText(spec: FieldSpec): string {
  if (spec.default === undefined) return '';
  if (spec.type === 'duration') return formatDuration(spec.default);
  if (spec.type === 'list') return spec.default.join(',');
  return String(spec.default);
}

export function formatDuration(ms: number): string {
  for (const [u, n] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= n && ms % n === 0) return `${ms / n}${u}`;
  }
  return `${ms}ms`;
}

/** Settings every process has (ops port, log level). */
export const commonSchema = {
  opsPort: {
    env: 'TCE_OPS_PORT',
    type: 'int',
    default: 9090,
    min: 0,
    max: 65535,
    doc: 'Port of /metrics, /healthz and /readyz.',
  },
  logLevel: {
    env: 'TCE_LOG_LEVEL',
    type: 'enum',
    values: ['debug', 'info', 'warn', 'error'],
    default: 'info',
    doc: 'Minimum level of the JSON log lines on stdout.',
  },
  shutdownGrace: {
    env: 'TCE_SHUTDOWN_GRACE',
    type: 'duration',
    default: 10_000,
    doc: 'On SIGTERM: how long to drain in-flight work before forcing shutdown.',
  },
  bindHost: { env: 'TCE_BIND_HOST', type: 'string', default: '0.0.0.0', doc: 'Address every listener binds to.' },
} as const satisfies Schema;
