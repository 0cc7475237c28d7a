// Running real CLIs (kubectl, helm, nginx) from tests with their output captured.
import { execFile } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  cwd?: string;
  /** Run as this user (a server's tools that refuse root, e.g. initdb). */
  user?: { uid: number; gid: number };
}

/** Runs a command to completion; never rejects on a non-zero exit (callers assert on `code`). */
export function run(command: string, args: string[], opts: RunOptions = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      {
        env: { ...process.env, ...opts.env },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        cwd: opts.cwd,
        uid: opts.user?.uid,
        gid: opts.user?.gid,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr) + (err && code === 1 && !stderr ? err.message : ''),
        });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like run() but throws with the command's stderr when it fails. */
export async function runOk(command: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(command, args, opts);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
