// One `run` per service: config → logging → metrics → ops endpoint → the
// service's own parts (started in order) → ready; on SIGTERM/SIGINT the parts
// stop in reverse order under a hard deadline, then the process exits.
import { commonSchema, ConfigError, loadConfig, type ConfigOf, type Schema } from './config.js';
import { createLogger, type Logger, type LogLevel } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { startOpsServer, type OpsServer } from './ops-server.js';

export interface ServiceEnv<S extends Schema> {
  config: ConfigOf<S> & ConfigOf<typeof commonSchema>;
  logger: Logger;
  metrics: Metrics;
  ops: OpsServer;
  /** Registers a stop function; stops run in reverse registration order. */
  onStop(name: string, stop: (graceMs: number) => Promise<void>): void;
}

export interface RunningService {
  opsPort: number;
  stop(): Promise<void>;
}

/**
 * Starts a service. `start` wires the parts and registers their stops; when it
 * resolves the service is considered started (readiness is the ops checks).
 */
export async function runService<S extends Schema>(
  name: string,
  schema: S,
  start: (env: ServiceEnv<S>) => Promise<void>,
  opts: { env?: NodeJS.ProcessEnv; handleSignals?: boolean } = {},
): Promise<RunningService> {
  const config = loadConfig({ ...commonSchema, ...schema }, opts.env ?? process.env) as ServiceEnv<S>['config'];
  const logger = createLogger(name, config.logLevel as LogLevel);
  const metrics = createMetrics(name);
  const ops = await startOpsServer({ host: config.bindHost, port: config.opsPort, registry: metrics.registry });
  const stops: { name: string; stop: (graceMs: number) => Promise<void> }[] = [];
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const deadline = Date.now() + config.shutdownGrace;
      logger.info('Stopping', { graceMs: config.shutdownGrace });
      for (const s of stops.reverse()) {
        const left = Math.max(0, deadline - Date.now());
        try {
          await withTimeout(s.stop(left), left + 1000, `${s.name} did not stop in time`);
        } catch (err) {
          logger.warn('Stop step failed', { step: s.name, err });
        }
      }
      await ops.close();
      logger.info('Stopped');
    })();
    return stopping;
  };

  try {
    await start({ config, logger, metrics, ops, onStop: (n, s) => stops.push({ name: n, stop: s }) });
  } catch (err) {
    logger.error('Failed to start', { err });
    await stop();
    throw err;
  }
  logger.info('Started', { opsPort: ops.port });
  if (opts.handleSignals !== false) {
    const onSignal = (sig: string): void => {
      logger.info('Received signal', { signal: sig });
      void stop().then(() => process.exit(0));
    };
    // `on`, not `once`: under tsx a group-wide signal can arrive twice, and a
    // second, unhandled SIGTERM would kill the process mid-drain. stop() is idempotent.
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  return { opsPort: ops.port, stop };
}

/** For main.ts files: run, and on a configuration error print it plainly and exit 2. */
export function mainOf(run: () => Promise<unknown>): void {
  run().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, msg: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(msg)), ms);
    }),
  ]);
}
