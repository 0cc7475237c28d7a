// A real auth process on a real store, and typed clients for it: anonymous
// (a device before login), or carrying an identity signed with the internal
// key (what the gateway does after verifying the device's access token).
import crypto from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { IAuthServerProxy } from '../../../proto/gen/ts/auth.tce.js';
import type { Token } from '../../../proto/gen/ts/auth.js';
import { parseKeySet, generateKeySet, type KeySet } from '../../../services/tokens/src/index.js';
import { freePort, startService, startStore, type ServiceProcess, type Store } from '../../support/index.js';

export interface AuthStack {
  store: Store;
  auth: ServiceProcess;
  addr: string;
  db: Db;
  keys: KeySet;
  keysJson: string;
  internalKey: Buffer;
  env: Record<string, string>;
  /** An anonymous client (optionally forwarding a client address / device id in extra). */
  anon(): IAuthServerProxy;
  /** A client calling as the owner of `t` (identity signed with the internal key). */
  as(t: Pick<Token, 'user_id' | 'device_id'>): IAuthServerProxy;
  restart(extraEnv?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

export async function startAuthStack(extraEnv: Record<string, string> = {}): Promise<AuthStack> {
  const store = await startStore();
  const mongo = new MongoClient(store.url);
  const proxies: IAuthServerProxy[] = [];
  const internalKey = crypto.randomBytes(32);
  const keysJson = generateKeySet('k1');
  const port = await freePort();
  const env = {
    TCE_MONGO_URL: store.url,
    TCE_GRPC_PORT: String(port),
    TCE_INTERNAL_KEY: internalKey.toString('base64'),
    TCE_TOKEN_KEYS: keysJson,
    ...extraEnv,
  };
  let auth: ServiceProcess;
  try {
    auth = await startService({ name: 'auth', env, timeoutMs: 60_000 });
  } catch (err) {
    await store.stop();
    throw err;
  }
  const addr = `127.0.0.1:${port}`;
  const stack: AuthStack = {
    store,
    auth,
    addr,
    db: mongo.db(),
    keys: parseKeySet(keysJson),
    keysJson,
    internalKey,
    env,
    anon() {
      const p = new IAuthServerProxy(addr);
      proxies.push(p);
      return p;
    },
    as(t) {
      const p = new IAuthServerProxy(addr, {
        identity: { identity: { userId: t.user_id, deviceId: t.device_id }, key: internalKey },
      });
      proxies.push(p);
      return p;
    },
    async restart(more = {}) {
      await stack.auth.stop();
      stack.auth = await startService({ name: 'auth', env: { ...env, ...more }, timeoutMs: 60_000 });
    },
    async stop() {
      for (const p of proxies) p.close();
      await stack.auth.stop();
      await mongo.close();
      await store.stop();
    },
  };
  return stack;
}

let counter = 0;
/** A fresh valid username per test, so tests do not depend on each other. */
export function uniqueName(prefix = 'user'): string {
  counter++;
  return `${prefix}${process.pid % 1000}x${counter}${crypto.randomBytes(2).toString('hex')}`;
}

export const GOOD_PASSWORD = 'correct horse battery staple';
