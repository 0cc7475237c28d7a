// Debian's nginx started with a generated configuration in its own prefix dir:
// the load balancer in front of the local platform and in tests.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bin } from './paths.js';
import { canConnect } from './ports.js';
import { startProcess, type ManagedProcess } from './processes.js';
import { GiveUp, waitFor } from './wait.js';

export interface Nginx {
  prefix: string;
  configFile: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Directives for the `http { }` block (servers, upstreams). */
  http: string;
  /** Port that must accept connections before start resolves. */
  waitPort: number;
  prefix?: string;
  daemon?: boolean;
  workerProcesses?: number;
}

/** The whole nginx.conf around the caller's http block: pid, logs and temp paths in `prefix`. */
export function nginxConfig(prefix: string, http: string, workerProcesses = 1): string {
  const t = (n: string): string => path.join(prefix, 'tmp', n);
  // Running as root in tests/local mode: keep workers as root too, so they can read
  // files in private temp dirs; in Kubernetes nginx-ingress is used instead.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}daemon off;
master_process on;
worker_processes ${workerProcesses};
pid ${path.join(prefix, 'nginx.pid')};
error_log ${path.join(prefix, 'logs', 'error.log')} warn;
events { worker_connections 16384; }
http {
  access_log ${path.join(prefix, 'logs', 'access.log')};
  client_body_temp_path ${t('client')};
  proxy_temp_path ${t('proxy')};
  fastcgi_temp_path ${t('fastcgi')};
  uwsgi_temp_path ${t('uwsgi')};
  scgi_temp_path ${t('scgi')};
  types { text/html html; application/javascript js; text/css css; image/png png; application/json json; }
  default_type application/octet-stream;
${http}
}
`;
}

function prepare(prefix: string, http: string, workers?: number): string {
  for (const d of ['logs', 'tmp']) fs.mkdirSync(path.join(prefix, d), { recursive: true });
  fs.rmSync(path.join(prefix, 'nginx.pid'), { force: true });
  const configFile = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(configFile, nginxConfig(prefix, http, workers));
  return configFile;
}

/** `nginx -t` on a generated config; returns nginx's verdict text, throws on failure. */
export function testNginxConfig(http: string): string {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-nginx-t-'));
  try {
    const configFile = prepare(prefix, http);
    const r = spawnSync(bin('nginx'), ['-t', '-p', prefix, '-c', configFile], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nginx -t failed:\n${r.stderr}`);
    return r.stderr;
  } finally {
    fs.rmSync(prefix, { recursive: true, force: true });
  }
}

function pidFileWritten(prefix: string): boolean {
  try {
    return fs.readFileSync(path.join(prefix, 'nginx.pid'), 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

export async function startNginx(opts: NginxOptions): Promise<Nginx> {
  const ownPrefix = opts.prefix === undefined;
  const prefix = opts.prefix ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tce-nginx-'));
  const configFile = prepare(prefix, opts.http, opts.workerProcesses);
  const proc = startProcess({
    name: 'nginx',
    command: bin('nginx'),
    args: ['-p', prefix, '-c', configFile],
    logFile: path.join(prefix, 'logs', 'stdout.log'),
    daemon: opts.daemon,
  });
  const stop = async (): Promise<void> => {
    await proc.stop();
    if (ownPrefix) fs.rmSync(prefix, { recursive: true, force: true });
  };
  try {
    await waitFor(`nginx to listen on port ${opts.waitPort}`, async () => {
      if (!proc.running) {
        const err = fs.readFileSync(path.join(prefix, 'logs', 'error.log'), 'utf8');
        throw new GiveUp(`nginx exited:\n${proc.output()}\n${err}`);
      }
      // nginx writes its pid file only after it has bound every listen socket, so
      // another process already listening on waitPort cannot pass for nginx.
      return pidFileWritten(prefix) && (await canConnect(opts.waitPort));
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { prefix, configFile, process: proc, stop };
}
