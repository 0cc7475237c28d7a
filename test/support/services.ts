// Starts a platform service as a real process (`node --import tsx
// services/<name>/src/main.ts`) with its configuration in the environment, the
// way Kubernetes would, and waits for its /readyz.
import path from 'node:path';
import { repoRoot } from './paths.js';
import { freePort } from './ports.js';
import { startProcess, type ManagedProcess } from './processes.js';
import { GiveUp, waitFor } from './wait.js';

export interface ServiceProcess {
  name: string;
  process: ManagedProcess;
  opsPort: number;
  env: Record<string, string>;
  /** SIGTERM and wait (graceful). */
  stop(): Promise<void>;
  /** kill -9. */
  kill9(): Promise<void>;
}

export interface StartServiceOptions {
  /** Folder under services/, e.g. 'auth'. */
  name: string;
  env: Record<string, string>;
  logFile?: string;
  /** Wait for /readyz (default true); false waits only for /healthz. */
  waitReady?: boolean;
  timeoutMs?: number;
}

export async function startService(opts: StartServiceOptions): Promise<ServiceProcess> {
  const opsPort = opts.env.TCE_OPS_PORT ? Number(opts.env.TCE_OPS_PORT) : await freePort();
  const env = { TCE_BIND_HOST: '127.0.0.1', TCE_LOG_LEVEL: 'warn', ...opts.env, TCE_OPS_PORT: String(opsPort) };
  const proc = startProcess({
    name: opts.name,
    command: process.execPath,
    args: ['--import', 'tsx', path.join(repoRoot, 'services', opts.name, 'src', 'main.ts')],
    env,
    cwd: repoRoot,
    logFile: opts.logFile,
  });
  const probe = opts.waitReady === false ? '/healthz' : '/readyz';
  try {
    await waitFor(
      `${opts.name} ${probe} on port ${opsPort}`,
      async () => {
        if (!proc.running) throw new GiveUp(`${opts.name} exited:\n${proc.output()}`);
        const res = await fetch(`http://127.0.0.1:${opsPort}${probe}`);
        if (res.status !== 200) throw new Error(`${probe} answered ${res.status}: ${await res.text()}`);
        return true;
      },
      { timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: 100 },
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return {
    name: opts.name,
    process: proc,
    opsPort,
    env,
    stop: () => proc.stop(10_000),
    kill9: () => proc.kill9(),
  };
}
