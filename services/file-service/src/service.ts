// Wiring, in order: keys → store (indexes ensured) → revocation list → HTTP
// server → gRPC server (IFileMeta + IDiag) → sweeper → ready. Stops run in
// reverse: the sweeper, then the servers drain in-flight transfers within the
// shutdown grace, then the store connection closes.
import path from 'node:path';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { IDiagInfo } from '../../../proto/gen/ts/diag.tce.js';
import { IFileMetaInfo } from '../../../proto/gen/ts/files.tce.js';
import { ConfigError } from '../../runtime/src/config.js';
import { DiagServant } from '../../runtime/src/diag-servant.js';
import { RpcServer } from '../../runtime/src/rpc-server.js';
import type { ServiceEnv } from '../../runtime/src/run.js';
import { keySetFromConfig, RevocationList } from '../../tokens/src/index.js';
import { Authenticator } from './auth.js';
import type { fileServiceSchema } from './config.js';
import { derivedTimings, type FilesContext } from './context.js';
import { FileMetaServant } from './file-meta-servant.js';
import { FileStore } from './file-store.js';
import { createFilesMetrics } from './files-metrics.js';
import { HashCache } from './hash-cache.js';
import { createFilesServer } from './http-server.js';
import { collections, ensureIndexes } from './store.js';
import { STORE_WRITE_CONCURRENCY, StoreGate } from './store-gate.js';
import { Sweeper } from './sweeper.js';

const DESCRIPTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../proto/gen/descriptors.binpb');

/** A base64 key of at least 32 bytes, or a ConfigError naming the variable. */
export function parseKey(env: string, value: string): Buffer {
  const key = Buffer.from(value, 'base64');
  if (key.length < 32 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value.trim())) {
    throw new ConfigError([`${env}: must be base64 of at least 32 bytes`]);
  }
  return key;
}

export async function startFileService(env: ServiceEnv<typeof fileServiceSchema>): Promise<void> {
  const { config, logger, ops, onStop } = env;
  const keys = keySetFromConfig(config.tokenKeys);
  const internalKey = parseKey('TCE_INTERNAL_KEY', config.internalKey);
  const signingKey = parseKey('TCE_URL_SIGNING_KEY', config.urlSigningKey);

  const client = new MongoClient(config.mongoUrl, { maxPoolSize: 200, serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  onStop('store', () => client.close());
  const db = client.db();
  const c = collections(db);
  await ensureIndexes(c);
  const store = new FileStore(c);
  ops.addReadiness({
    name: 'store',
    check: async () => {
      try {
        await db.command({ ping: 1 }, { timeoutMS: 2000 });
        return undefined;
      } catch (err) {
        return `ping failed: ${(err as Error).message}`;
      }
    },
  });

  const revocations = new RevocationList(db, { pollMs: config.revocationPoll, logger });
  await revocations.start();
  onStop('revocations', () => revocations.stop());

  const timings = derivedTimings(config.bodyTimeout);
  const metrics = createFilesMetrics(env.metrics);
  const ctx: FilesContext = {
    store,
    auth: new Authenticator(keys, revocations, signingKey),
    settings: {
      maxUploadBytes: config.maxUploadBytes,
      chunkBytes: config.chunkBytes,
      retentionMs: config.retention,
      uploadExpiryMs: config.uploadExpiry,
      bodyTimeoutMs: config.bodyTimeout,
      signingKey,
      ...timings,
    },
    logger,
    metrics,
    hashes: new HashCache(),
    writeGate: new StoreGate(STORE_WRITE_CONCURRENCY),
  };

  const server = createFilesServer(ctx);
  await listen(server, config.httpPort, config.bindHost);
  let draining = false;
  ops.addReadiness({ name: 'http', check: () => (draining ? 'draining' : undefined) });
  onStop('http', (graceMs) => closeHttp(server, graceMs, () => (draining = true)));
  logger.info('Started HTTP server', { port: config.httpPort, maxUploadBytes: config.maxUploadBytes });

  const rpc = new RpcServer({ logger, metrics: env.metrics, identityKey: internalKey, descriptorSet: DESCRIPTORS });
  rpc.addServant(IFileMetaInfo, new FileMetaServant(store, signingKey));
  rpc.addServant(IDiagInfo, new DiagServant());
  await rpc.listen(`${config.bindHost}:${config.grpcPort}`);
  onStop('grpc', (graceMs) => rpc.shutdown(graceMs));

  const sweeper = new Sweeper(store, { intervalMs: config.sweepInterval, staleMs: timings.staleMs, logger, metrics });
  sweeper.start();
  onStop('sweeper', () => sweeper.stop());
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stop accepting, let in-flight transfers finish within the grace, then cut what is left. */
async function closeHttp(server: http.Server, graceMs: number, onDrain: () => void): Promise<void> {
  onDrain();
  server.closeIdleConnections();
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, graceMs);
    server.close(() => {
      clearTimeout(t);
      resolve();
    });
  });
}
