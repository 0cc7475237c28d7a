// The parts the gateway tests run against, as real processes: the store
// (FerretDB), auth, EasyMQ and one or more gateways — configured through the
// environment exactly as the operator would.
import crypto from 'node:crypto';
import path from 'node:path';
import { generateKeySet, parseKeySet, signAccessToken, type KeySet } from '../../../services/tokens/src/index.js';
import { TceClient, type ClientOptions, type ReceivedMessage } from '../../../sdk/src/index.js';
import {
  freePort,
  repoRoot,
  run,
  startService,
  startStore,
  waitFor,
  type ServiceProcess,
  type Store,
} from '../../support/index.js';

export interface Platform {
  store: Store;
  auth?: ServiceProcess;
  mq?: ServiceProcess;
  gateways: Gateway[];
  keysJson: string;
  keys: KeySet;
  internalKey: string;
  mqAdminPassword: string;
  stop(): Promise<void>;
  startGateway(id: string, env?: Record<string, string>): Promise<Gateway>;
}

export interface Gateway {
  id: string;
  url: string;
  port: number;
  proc: ServiceProcess;
  env: Record<string, string>;
}

export interface PlatformOptions {
  gateways?: number;
  auth?: boolean;
  mq?: boolean;
  gatewayEnv?: Record<string, string>;
}

export async function startPlatform(opts: PlatformOptions = {}): Promise<Platform> {
  const store = await startStore();
  const keysJson = generateKeySet();
  const internalKey = crypto.randomBytes(32).toString('base64');
  const mqAdminPassword = crypto.randomBytes(12).toString('hex');
  const gpsPassword = crypto.randomBytes(12).toString('hex');
  const p: Platform = {
    store,
    gateways: [],
    keysJson,
    keys: parseKeySet(keysJson),
    internalKey,
    mqAdminPassword,
    stop: async () => {
      for (const g of p.gateways) await g.proc.stop();
      await p.mq?.stop();
      await p.auth?.stop();
      await store.stop();
    },
    startGateway: async (id, env = {}) => {
      const port = env.TCE_WS_PORT ? Number(env.TCE_WS_PORT) : await freePort();
      const ops = await freePort();
      const genv: Record<string, string> = {
        TCE_MONGO_URL: store.url,
        TCE_TOKEN_KEYS: keysJson,
        TCE_INTERNAL_KEY: internalKey,
        TCE_WS_PORT: String(port),
        TCE_OPS_PORT: String(ops),
        TCE_GATEWAY_ID: id,
        TCE_MQ_PASSWORDS: JSON.stringify({ mq_gps: gpsPassword }),
        TCE_MQ_ADMIN_PASSWORD: mqAdminPassword,
        // Short liveness so crash tests do not wait long.
        TCE_GATEWAY_PRESENCE_HEARTBEAT: '300ms',
        // A TTL of many beats: one slow beat on a busy store must not make a live gateway look dead.
        TCE_GATEWAY_PRESENCE_TTL: '4s',
        TCE_GATEWAY_SWEEP_INTERVAL: '1s',
        ...(p.auth ? { TCE_AUTH_ADDR: `127.0.0.1:${p.auth.env.TCE_GRPC_PORT}` } : {}),
        ...(p.mq ? { TCE_MQ_ADDR: `127.0.0.1:${p.mq.env.TCE_GRPC_PORT}` } : {}),
        ...opts.gatewayEnv,
        ...env,
      };
      const proc = await startService({ name: 'gateway', env: genv });
      const g: Gateway = { id, url: `ws://127.0.0.1:${port}/ws`, port, proc, env: genv };
      p.gateways.push(g);
      return g;
    },
  };
  try {
    if (opts.auth !== false) {
      p.auth = await startService({
        name: 'auth',
        env: {
          TCE_MONGO_URL: store.url,
          TCE_TOKEN_KEYS: keysJson,
          TCE_INTERNAL_KEY: internalKey,
          TCE_GRPC_PORT: String(await freePort()),
        },
      });
    }
    if (opts.mq !== false) {
      p.mq = await startService({
        name: 'mq',
        env: {
          TCE_MONGO_URL: store.url,
          TCE_INTERNAL_KEY: internalKey,
          TCE_GRPC_PORT: String(await freePort()),
          TCE_MQ_ADMIN_PASSWORD: mqAdminPassword,
          TCE_MQ_PASSWORDS: JSON.stringify({ mq_gps: gpsPassword }),
          TCE_MQ_QUEUES: JSON.stringify([{ name: 'mq_gps', kind: 'partitioned', partitions: 4, durable: true }]),
        },
      });
    }
    for (let i = 0; i < (opts.gateways ?? 1); i++) await p.startGateway(`gw-${i + 1}`);
  } catch (err) {
    await p.stop();
    throw err;
  }
  return p;
}

/** An access token signed with the platform's keys (what auth would issue). */
export function tokenFor(
  p: Platform,
  user: string,
  device: string,
  ttlMs = 600_000,
  sid = `s-${user}-${device}`,
): string {
  return signAccessToken(p.keys, { sub: user, did: device, sid, name: user }, { ttlMs }).token;
}

/** A client that records what the app sees. */
export class Device {
  readonly client: TceClient;
  readonly seen: ReceivedMessage[] = [];
  readonly closes: { code: number; reason: string }[] = [];
  kicked: string | undefined;

  constructor(opts: ClientOptions) {
    this.client = new TceClient({ heartbeatMs: 5000, backoff: { initialMs: 50, maxMs: 500 }, ...opts });
    this.client.handlers.onMessage = (m) => void this.seen.push(m);
    this.client.on('disconnected', (d) => this.closes.push(d));
    this.client.on('kicked', (r) => (this.kicked = r));
  }

  texts(): string[] {
    return this.seen.map((m) => (m.items[0]?.type === 'text' ? m.items[0].text : `<${m.items[0]?.type}>`));
  }

  async waitFor(n: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(`${n} messages (have ${this.seen.length})`, () => this.seen.length >= n, { timeoutMs });
  }

  close(): void {
    this.client.close();
  }
}

/** Registers and logs in a fresh user through the gateway (real auth). */
export async function newUser(
  url: string | string[],
  name: string,
  deviceId = `${name}-phone`,
): Promise<{ device: Device; userId: string; username: string; password: string }> {
  const username = `${name}${crypto.randomBytes(3).toString('hex')}`;
  const password = `pw-${crypto.randomBytes(8).toString('hex')}-Zq9`;
  const device = new Device({ url, deviceId, deviceType: 'test' });
  await device.client.connect();
  const userId = await device.client.register({ username, password });
  await device.client.login(username, password);
  return { device, userId, username, password };
}

/** Runs `tce` (bin/tce.js) as `who`: each person has their own TCE_HOME under `home()` and a password. */
export function tceAs(home: () => string, url: () => string) {
  return (who: string, args: string[]) =>
    run(process.execPath, [path.join(repoRoot, 'bin', 'tce.js'), ...args, '--url', url()], {
      env: { TCE_HOME: path.join(home(), who), TCE_PASSWORD: `pw-${who}-Long-Enough-9` },
      timeoutMs: 60_000,
    });
}

/**
 * Mocha hooks for a suite against a platform with two gateways: started
 * before, devices closed after each test, everything stopped after.
 */
export function twoGatewaySuite(): {
  platform(): Platform;
  urls(): [string, string];
  track<T extends { device: Device }>(u: T): T;
} {
  let p: Platform | undefined;
  const devices: Device[] = [];
  before(async function () {
    p = await startPlatform({ gateways: 2 });
  });
  afterEach(function () {
    for (const d of devices.splice(0)) d.close();
  });
  after(async function () {
    await p?.stop();
  });
  return {
    platform: () => p!,
    urls: () => [p!.gateways[0]!.url, p!.gateways[1]!.url],
    track: (u) => {
      devices.push(u.device);
      return u;
    },
  };
}
