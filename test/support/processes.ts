// Child processes started by tests and local scripts. Every process is tracked
// and stopped when its owner stops it, when the test run ends, or when the run is
// interrupted (SIGINT/SIGTERM) — so a failing test never leaves servers behind.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout+stderr are appended here; also kept in memory (tail) for error messages. */
  logFile?: string;
  /**
   * Outlive this Node process (for `make store-up` and friends): output goes
   * straight to logFile, and the process is not stopped when we exit.
   */
  daemon?: boolean;
  /** What stop() sends first (default SIGTERM), e.g. PostgreSQL's fast shutdown, SIGINT. */
  stopSignal?: NodeJS.Signals;
  /** Run as this user (a server that refuses root, e.g. postgres, started by root). */
  user?: { uid: number; gid: number };
}

export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private tail: string[] = [];
  private readonly logFile: string | undefined;
  private done = false;
  private readonly stopSignal: NodeJS.Signals;

  constructor(opts: StartOptions) {
    this.name = opts.name;
    this.logFile = opts.logFile;
    this.stopSignal = opts.stopSignal ?? 'SIGTERM';
    const daemonFd = opts.daemon ? fs.openSync(opts.logFile ?? '/dev/null', 'a') : undefined;
    const log = opts.logFile && !opts.daemon ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
    // detached: the child leads its own process group, so stop() reaches its children too.
    this.child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: daemonFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', daemonFd, daemonFd],
      detached: true,
      uid: opts.user?.uid,
      gid: opts.user?.gid,
    });
    if (daemonFd !== undefined) {
      fs.closeSync(daemonFd);
      this.child.unref();
    }
    const onData = (buf: Buffer): void => {
      log?.write(buf);
      for (const line of buf.toString('utf8').split('\n')) if (line) this.tail.push(line);
      if (this.tail.length > 200) this.tail.splice(0, this.tail.length - 200);
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.tail.push(`spawn error: ${err.message}`);
        this.done = true;
        resolve({ code: -1, signal: null });
      });
      this.child.once('exit', (code, signal) => {
        this.done = true;
        log?.end();
        resolve({ code, signal });
      });
    });
    if (opts.daemon) return;
    registry.add(this);
    void this.exited.then(() => registry.delete(this));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.done;
  }

  /** The last lines the process printed, for error messages. */
  output(lines = 40): string {
    if (this.tail.length === 0 && this.logFile && fs.existsSync(this.logFile)) {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    }
    return this.tail.slice(-lines).join('\n');
  }

  /** SIGTERM (or the stop signal), then SIGKILL after graceMs. Resolves when the process has exited. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.done) return;
    this.signal(this.stopSignal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** kill -9 of the whole process group, as a crash would. */
  async kill9(): Promise<void> {
    if (this.done) return;
    this.signal('SIGKILL');
    await this.exited;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.done || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, sig);
    } catch {
      try {
        this.child.kill(sig);
      } catch {
        /* already gone */
      }
    }
  }
}

const registry = new Set<ManagedProcess>();

export function startProcess(opts: StartOptions): ManagedProcess {
  return new ManagedProcess(opts);
}

/** Stops every process still running (used by the mocha root hook and on signals). */
export async function stopAll(): Promise<void> {
  await Promise.all([...registry].map((p) => p.stop(3000)));
}

function killAllNow(): void {
  for (const p of registry) p.signal('SIGKILL');
}

process.once('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  const onSignal = (): void => {
    // A program with its own handler (make run) stops its processes gracefully;
    // otherwise (an interrupted test run) kill everything we started and exit.
    if (process.listenerCount(sig) > 1) return;
    killAllNow();
    process.exit(130);
  };
  process.on(sig, onSignal);
}

/** Whether a process with this pid exists (for daemons started by an earlier command). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a process group by pid (for daemons started by an earlier command). */
export async function stopPid(pid: number, graceMs = 5000): Promise<void> {
  const alive = (): boolean => isAlive(pid);
  const send = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  if (!alive()) return;
  send('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive()) send('SIGKILL');
}
