// Starts the whole platform as local processes — store, mq, auth, location
// units, file services, gateways — with nginx in front, each configured through
// its environment exactly as in Kubernetes. Used by `make run`, `make demo` and
// the end-to-end tests (which also kill and restart processes through it).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { generateKeySet } from '../../services/tokens/src/keyset.js';
import { startNginx, type Nginx } from '../../test/support/nginx.js';
import { freePort } from '../../test/support/ports.js';
import { repoRoot } from '../../test/support/paths.js';
import { startService, type ServiceProcess } from '../../test/support/services.js';
import { startStore, type Store } from '../../test/support/store.js';
import { localNginxHttp } from './nginx-routes.js';
import { localPlan, type LocalPorts, type LocalSecrets, type ProcessSpec } from './plan.js';

export interface Endpoints {
  ws: string;
  http: string;
  files: string;
  store: string;
}

export interface LocalPlatformOptions {
  /** State dir: logs/, nginx/, endpoints.json. */
  dir: string;
  units?: number;
  gateways?: number;
  fileServices?: number;
  partitions?: number;
  logLevel?: string;
  /** Directory nginx serves at / (the web client build). */
  webRoot?: string;
  progress?: (line: string) => void;
}

export interface LocalPlatform {
  endpoints: Endpoints;
  secrets: LocalSecrets;
  processes: Map<string, ServiceProcess>;
  specs: Map<string, ProcessSpec>;
  store: Store;
  nginx: Nginx;
  /** Services whose code does not exist yet (skipped, reported). */
  missing: string[];
  kill9(name: string): Promise<void>;
  restart(name: string): Promise<void>;
  stop(): Promise<void>;
}

const exists = (service: string): boolean => fs.existsSync(path.join(repoRoot, 'services', service, 'src', 'main.ts'));

async function ports(units: number, gateways: number, files: number): Promise<LocalPorts> {
  const two = async (): Promise<[number, number]> => [await freePort(), await freePort()];
  const [mqGrpc, mqOps] = await two();
  const [authGrpc, authOps] = await two();
  const u: LocalPorts['units'] = [];
  for (let i = 0; i < units; i++) {
    const [grpc, ops] = await two();
    u.push({ grpc, ops });
  }
  const f: LocalPorts['files'] = [];
  for (let i = 0; i < files; i++) {
    const [http, ops] = await two();
    f.push({ http, ops });
  }
  const g: LocalPorts['gateways'] = [];
  for (let i = 0; i < gateways; i++) {
    const [ws, ops] = await two();
    g.push({ ws, ops });
  }
  return {
    mq: { grpc: mqGrpc, ops: mqOps },
    auth: { grpc: authGrpc, ops: authOps },
    units: u,
    files: f,
    gateways: g,
    nginx: await freePort(),
  };
}

export function newSecrets(): LocalSecrets {
  const r = (): string => crypto.randomBytes(32).toString('base64');
  return {
    internalKey: r(),
    tokenKeys: generateKeySet(),
    urlSigningKey: r(),
    mqAdminPassword: crypto.randomBytes(16).toString('hex'),
    mqPasswords: { mq_gps: crypto.randomBytes(16).toString('hex') },
  };
}

export async function startLocalPlatform(opts: LocalPlatformOptions): Promise<LocalPlatform> {
  const say = opts.progress ?? ((): void => undefined);
  const logs = path.join(opts.dir, 'logs');
  fs.mkdirSync(logs, { recursive: true });
  const p = await ports(opts.units ?? 3, opts.gateways ?? 2, opts.fileServices ?? 2);
  const secrets = newSecrets();
  const processes = new Map<string, ServiceProcess>();
  const specs = new Map<string, ProcessSpec>();
  const missing = new Set<string>();
  let store: Store | undefined;
  let nginx: Nginx | undefined;

  const stop = async (): Promise<void> => {
    await nginx?.stop();
    // Reverse start order: front doors first, the bus and the store last.
    for (const proc of [...processes.values()].reverse()) await proc.stop();
    processes.clear();
    await store?.stop();
  };

  const start = async (spec: ProcessSpec): Promise<void> => {
    const t0 = Date.now();
    say(`starting ${spec.name}`);
    const proc = await startService({
      name: spec.service,
      env: spec.env,
      logFile: path.join(logs, `${spec.name}.log`),
      timeoutMs: 60_000,
    });
    processes.set(spec.name, proc);
    say(`${spec.name} ready (${Date.now() - t0} ms, ops :${proc.opsPort})`);
  };

  try {
    say('starting the store (FerretDB)');
    store = await startStore({ dataDir: path.join(opts.dir, 'store'), logFile: path.join(logs, 'ferretdb.log') });
    say(`store ready at ${store.url}`);
    const plan = localPlan({
      storeUrl: store.url,
      ports: p,
      secrets,
      partitions: opts.partitions ?? 64,
      logLevel: opts.logLevel,
    });
    for (const spec of plan) {
      specs.set(spec.name, spec);
      if (!exists(spec.service)) {
        missing.add(spec.service);
        continue;
      }
      await start(spec);
    }
    for (const m of missing) say(`not built yet: ${m} (skipped)`);
    say('starting nginx');
    nginx = await startNginx({
      http: localNginxHttp({
        listen: p.nginx,
        gateways: missing.has('gateway') ? [] : p.gateways.map((g) => g.ws),
        fileServices: missing.has('file-service') ? [] : p.files.map((f) => f.http),
        webRoot: opts.webRoot,
      }),
      waitPort: p.nginx,
      prefix: path.join(opts.dir, 'nginx'),
    });
  } catch (err) {
    await stop();
    throw err;
  }

  const endpoints: Endpoints = {
    ws: `ws://127.0.0.1:${p.nginx}/ws`,
    http: `http://127.0.0.1:${p.nginx}`,
    files: `http://127.0.0.1:${p.nginx}/files`,
    store: store.url,
  };
  fs.writeFileSync(path.join(opts.dir, 'endpoints.json'), `${JSON.stringify(endpoints, null, 2)}\n`);
  return {
    endpoints,
    secrets,
    processes,
    specs,
    store,
    nginx,
    missing: [...missing],
    stop,
    kill9: async (name) => {
      const proc = processes.get(name);
      if (!proc) throw new Error(`no running process named ${name}`);
      await proc.kill9();
      processes.delete(name);
    },
    restart: async (name) => {
      const spec = specs.get(name);
      if (!spec) throw new Error(`no process named ${name}`);
      await processes.get(name)?.stop();
      await start(spec);
    },
  };
}
