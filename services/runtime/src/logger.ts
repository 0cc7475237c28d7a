// Structured logs: one JSON object per line on stdout, with the component and
// fields next to a capitalised past-tense message. No dependencies, no buffering.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(
  component: string,
  level: LogLevel = 'info',
  write: (line: string) => void = (l) => process.stdout.write(l),
  base: Record<string, unknown> = {},
): Logger {
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    const rec: Record<string, unknown> = { ts: new Date().toISOString(), level: lvl, component, msg, ...base };
    if (fields) for (const [k, v] of Object.entries(fields)) rec[k] = v instanceof Error ? errorFields(v) : v;
    write(`${JSON.stringify(rec)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(component, level, write, { ...base, ...fields }),
  };
}

function errorFields(err: Error): Record<string, unknown> {
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(code !== undefined ? { code } : {}) };
}

/** A logger that drops everything (unit tests of components that take a logger). */
export const silentLogger: Logger = createLogger('silent', 'error', () => undefined);
