// The file service as it runs for real: a store (FerretDB), two replicas as
// separate processes, and Debian's nginx in front with the config from
// scripts/nginx — every test request goes through nginx.
import crypto from 'node:crypto';
import http from 'node:http';
import { MongoClient, type Db } from 'mongodb';
import { nginxHttpConfig } from '../../../scripts/nginx/index.js';
import { parseKeySet, signAccessToken, generateKeySet } from '../../../services/tokens/src/index.js';
import {
  freePort,
  startNginx,
  startService,
  startStore,
  type Nginx,
  type ServiceProcess,
  type Store,
} from '../../support/index.js';

export const CHUNK = 261_120;

export interface Harness {
  store: Store;
  replicas: ServiceProcess[];
  nginx: Nginx;
  /** http://127.0.0.1:<nginx port> */
  base: string;
  port: number;
  grpcPorts: number[];
  httpPorts: number[];
  db: Db;
  mongo: MongoClient;
  keys: string;
  internalKey: Buffer;
  signingKey: Buffer;
  maxUploadBytes: number;
  token(sub?: string): string;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  maxUploadBytes?: number;
  env?: Record<string, string>;
  replicas?: number;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const store = await startStore();
  const keys = generateKeySet();
  const keySet = parseKeySet(keys);
  const internalKey = crypto.randomBytes(32);
  const signingKey = crypto.randomBytes(32);
  const maxUploadBytes = opts.maxUploadBytes ?? 64 * 1024 * 1024;
  const replicas: ServiceProcess[] = [];
  const httpPorts: number[] = [];
  const grpcPorts: number[] = [];
  let nginx: Nginx | undefined;
  const mongo = new MongoClient(store.url);
  const stop = async (): Promise<void> => {
    await nginx?.stop();
    for (const r of replicas) await r.stop();
    await mongo.close();
    await store.stop();
  };
  try {
    for (let i = 0; i < (opts.replicas ?? 2); i++) {
      const httpPort = await freePort();
      const grpcPort = await freePort();
      httpPorts.push(httpPort);
      grpcPorts.push(grpcPort);
      replicas.push(
        await startService({
          name: 'file-service',
          env: {
            TCE_HTTP_PORT: String(httpPort),
            TCE_FILES_GRPC_PORT: String(grpcPort),
            TCE_MONGO_URL: store.url,
            TCE_TOKEN_KEYS: keys,
            TCE_INTERNAL_KEY: internalKey.toString('base64'),
            TCE_URL_SIGNING_KEY: signingKey.toString('base64'),
            TCE_MAX_UPLOAD_BYTES: String(maxUploadBytes),
            TCE_FILES_BODY_TIMEOUT: '2s',
            TCE_FILES_SWEEP_INTERVAL: '300ms',
            TCE_LOG_LEVEL: 'warn',
            ...opts.env,
          },
        }),
      );
    }
    const port = await freePort();
    nginx = await startNginx({
      http: nginxHttpConfig({
        listen: port,
        files: { upstreams: httpPorts.map((p) => `127.0.0.1:${p}`), maxUploadBytes },
      }),
      waitPort: port,
    });
    await mongo.connect();
    return {
      store,
      replicas,
      nginx,
      base: `http://127.0.0.1:${port}`,
      port,
      grpcPorts,
      httpPorts,
      db: mongo.db(),
      mongo,
      keys,
      internalKey,
      signingKey,
      maxUploadBytes,
      token: (sub = 'alice') =>
        signAccessToken(keySet, { sub, did: `${sub}-phone`, sid: `s-${sub}`, name: sub }, { ttlMs: 15 * 60_000 }).token,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One HTTP request with full control (fetch hides Range/Content-Length details
 * and cannot cut a body mid-way). `body` may be a Buffer or an async iterable.
 */
export function request(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: Buffer | AsyncIterable<Buffer>,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      void (async () => {
        try {
          for await (const b of body) if (!req.write(b)) await new Promise((r) => req.once('drain', r));
          req.end();
        } catch (err) {
          req.destroy(err as Error);
        }
      })();
    }
  });
}

export const sha256 = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

/** Deterministic pseudo-random bytes (fast, so large test files cost little CPU). */
export function bytes(n: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  for (; i < n; i++) out[i] = i & 0xff;
  return out;
}

/** Counts of every collection that could hold leftovers. */
export async function storeCounts(
  db: Db,
): Promise<{ files: number; chunks: number; pending: number; uploads: number }> {
  const [files, chunks, pending, uploads] = await Promise.all([
    db.collection('fs.files').countDocuments(),
    db.collection('fs.chunks').countDocuments(),
    db.collection('file_pending').countDocuments(),
    db.collection('file_uploads').countDocuments(),
  ]);
  return { files, chunks, pending, uploads };
}
