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
import { fileServiceOwnSchema } from '../../services/file-service/src/config.js';
import { nginxHttpConfig } from '../nginx/index.js';
import { extraUnitSpec, localPlan, type LocalPorts, type LocalSecrets, type ProcessSpec } from './plan.js';

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
  /** mq replicas: 1 (default) or 2 (leader + standby, for failover tests). */
  mqReplicas?: number;
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
  /** Starts location units until `count` are running (scaling out, e.g. 3→4); returns the new names. */
  scaleUnits(count: number): Promise<string[]>;
  stop(): Promise<void>;
}

const exists = (service: string): boolean => fs.existsSync(path.join(repoRoot, 'services', service, 'src', 'main.ts'));

async function ports(units: number, gateways: number, files: number, mqReplicas: number): Promise<LocalPorts> {
  const two = async (): Promise<[number, number]> => [await freePort(), await freePort()];
  const [mqGrpc, mqOps] = await two();
  const standby = mqReplicas > 1 ? await two() : undefined;
  const [authGrpc, authOps] = await two();
  const u: LocalPorts['units'] = [];
  for (let i = 0; i < units; i++) {
    const [grpc, ops] = await two();
    u.push({ grpc, ops });
  }
  const f: LocalPorts['files'] = [];
  for (let i = 0; i < files; i++) {
    const [http, ops] = await two();
    f.push({ http, ops, grpc: await freePort() });
  }
  const g: LocalPorts['gateways'] = [];
  for (let i = 0; i < gateways; i++) {
    const [ws, ops] = await two();
    g.push({ ws, ops });
  }
  return {
    mq: { grpc: mqGrpc, ops: mqOps },
    ...(standby ? { mqStandby: { grpc: standby[0], ops: standby[1] } } : {}),
    auth: { grpc: authGrpc, ops: authOps },
    units: u,
    files: f,
    gateways: g,
    nginx: await freePort(),
  };
}

/** The variables naming ports a process listens on (moved together on a port clash). */
const LISTEN_KEYS = ['TCE_GRPC_PORT', 'TCE_WS_PORT', 'TCE_HTTP_PORT', 'TCE_OPS_PORT', 'TCE_FILES_GRPC_PORT'];

/** Current ports of a service's replicas (after any move), for nginx's upstreams. */
function portsOf(specs: Map<string, ProcessSpec>, service: string, key: string, missing: Set<string>): number[] {
  if (missing.has(service)) return [];
  return [...specs.values()].filter((s) => s.service === service).map((s) => Number(s.env[key]));
}

/** The shared route table (scripts/nginx, mirrored by the operator's Ingress) over the current replicas. */
function nginxRoutes(listen: number, specs: Map<string, ProcessSpec>, missing: Set<string>, webRoot?: string): string {
  const gateways = portsOf(specs, 'gateway', 'TCE_WS_PORT', missing).map((port) => `127.0.0.1:${port}`);
  const files = [...specs.values()].filter((s) => s.service === 'file-service' && !missing.has('file-service'));
  const maxUpload = Number(files[0]?.env.TCE_MAX_UPLOAD_BYTES ?? fileServiceOwnSchema.maxUploadBytes.default);
  return nginxHttpConfig({
    listen,
    ws: gateways.length ? { upstreams: gateways } : undefined,
    files: files.length
      ? { upstreams: files.map((f) => `127.0.0.1:${f.env.TCE_HTTP_PORT}`), maxUploadBytes: maxUpload }
      : undefined,
    staticRoot: webRoot,
  });
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
  const p = await ports(opts.units ?? 3, opts.gateways ?? 2, opts.fileServices ?? 2, opts.mqReplicas ?? 1);
  const secrets = newSecrets();
  const processes = new Map<string, ServiceProcess>();
  const specs = new Map<string, ProcessSpec>();
  const restarts = new Set<string>();
  const mqReplicas = (): number => [...specs.values()].filter((s) => s.service === 'mq').length;
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
    let proc: ServiceProcess;
    for (let attempt = 1; ; attempt++) {
      try {
        proc = await startService({
          name: spec.service,
          env: spec.env,
          logFile: path.join(logs, `${spec.name}.log`),
          timeoutMs: 60_000,
          // An mq standby (or a restarted replica) is healthy but answers /readyz 503 until it leads.
          waitReady: !(spec.service === 'mq' && mqReplicas() > 1 && (spec.name !== 'mq' || restarts.has(spec.name))),
        });
        break;
      } catch (err) {
        // Ports are chosen up front; on a busy box another process may take one
        // before this service binds it. Move this process to fresh ports.
        if (attempt >= 3 || !String((err as Error).message).includes('EADDRINUSE')) throw err;
        await movePorts(spec);
        say(`${spec.name}: a port was taken meanwhile, retrying on fresh ports`);
      }
    }
    processes.set(spec.name, proc);
    say(`${spec.name} ready (${Date.now() - t0} ms, ops :${proc.opsPort})`);
  };

  /** Gives `spec` fresh listening ports and rewrites every reference to the old ones. */
  const movePorts = async (spec: ProcessSpec): Promise<void> => {
    for (const key of LISTEN_KEYS) {
      const old = spec.env[key];
      if (old === undefined) continue;
      const fresh = String(await freePort());
      spec.env[key] = fresh;
      for (const other of specs.values()) {
        for (const [k, v] of Object.entries(other.env)) {
          // Addresses may be lists (TCE_MQ_ADDR with a standby).
          other.env[k] = v.replace(new RegExp(`127\\.0\\.0\\.1:${old}(?!\\d)`, 'g'), `127.0.0.1:${fresh}`);
        }
      }
    }
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
      http: nginxRoutes(p.nginx, specs, missing, opts.webRoot),
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
    scaleUnits: async (count) => {
      const base = specs.get('location-unit-1');
      if (!base) throw new Error('no location unit to scale');
      const started: string[] = [];
      for (let i = 1; i <= count; i++) {
        const name = `location-unit-${i}`;
        if (processes.has(name)) continue;
        const spec = specs.get(name) ?? extraUnitSpec(base, i, { grpc: await freePort(), ops: await freePort() });
        specs.set(name, spec);
        await start(spec);
        started.push(name);
      }
      return started;
    },
    restart: async (name) => {
      const spec = specs.get(name);
      if (!spec) throw new Error(`no process named ${name}`);
      await processes.get(name)?.stop();
      restarts.add(name);
      await start(spec);
    },
  };
}
