// Wires the auth service in order — config → store → indexes → hash pool →
// servants → gRPC server → sweeper — and registers the stops, which run in
// reverse (sweeper, gRPC drain, store) under the runtime's shutdown deadline.
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { IAuthServerInfo } from '../../../proto/gen/ts/auth.tce.js';
import { IDiagInfo } from '../../../proto/gen/ts/diag.tce.js';
import { DiagServant } from '../../runtime/src/diag-servant.js';
import { loadDescriptorIndex } from '../../runtime/src/reflection.js';
import { RpcServer } from '../../runtime/src/rpc-server.js';
import type { ServiceEnv } from '../../runtime/src/run.js';
import { ensureRevocationIndexes, keySetFromConfig } from '../../tokens/src/index.js';
import { createAuthMetrics } from './auth-metrics.js';
import { AuthServant } from './auth-servant.js';
import { AuthService } from './auth-service.js';
import { internalKeyFromConfig, type authSchema } from './config.js';
import { HashPool } from './hash-pool.js';
import { hashPassword } from './password-hash.js';
import { SessionStore } from './session-store.js';
import { guardServant, strictInterface } from './strict-decoding.js';
import { Sweeper } from './sweeper.js';
import { accountPolicy, addressPolicy } from './throttle-policy.js';
import { ThrottleStore } from './throttle-store.js';
import { UserStore } from './user-store.js';

const DESCRIPTORS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'proto',
  'gen',
  'descriptors.binpb',
);
const SWEEP_INTERVAL_MS = 60_000;

export async function startAuth(env: ServiceEnv<typeof authSchema>): Promise<void> {
  const { config, logger, metrics, ops, onStop } = env;
  const keys = keySetFromConfig(config.tokenKeys);
  const internalKey = internalKeyFromConfig(config.internalKey);

  const client = new MongoClient(config.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  onStop('store', () => client.close());
  const db = client.db();
  const users = new UserStore(db);
  const sessions = new SessionStore(db, { refreshTtlMs: config.refreshTokenTtl, accessTtlMs: config.accessTokenTtl });
  const throttle = new ThrottleStore(db);
  await users.ensureIndexes();
  await sessions.ensureIndexes();
  await throttle.ensureIndexes();
  await ensureRevocationIndexes(db);

  // One hash per core at a time (each is CPU- and memory-bound); a short queue absorbs bursts.
  const pool = new HashPool({ concurrency: Math.max(1, Math.min(4, os.availableParallelism())), maxQueue: 256 });
  const authMetrics = createAuthMetrics(metrics, pool);
  const account = accountPolicy({
    freeFailures: config.lockoutThreshold,
    baseDelayMs: config.lockoutDelay,
    maxDelayMs: config.lockoutMaxDelay,
  });
  const auth = new AuthService({
    users,
    sessions,
    throttle,
    pool,
    keys,
    accessTtlMs: config.accessTokenTtl,
    accountPolicy: account,
    addressPolicy: addressPolicy(account),
    dummyHash: await hashPassword(crypto.randomBytes(16).toString('base64')),
    metrics: authMetrics,
    logger,
  });

  const index = loadDescriptorIndex(DESCRIPTORS);
  const server = new RpcServer({ logger, metrics, identityKey: internalKey, descriptorSet: DESCRIPTORS });
  const strict = strictInterface(IAuthServerInfo, index);
  server.addServant(strict, guardServant(strict, new AuthServant(auth)));
  server.addServant(IDiagInfo, new DiagServant());
  await server.listen(`${config.bindHost}:${config.grpcPort}`);
  onStop('grpc', (graceMs) => server.shutdown(graceMs));

  const sweeper = new Sweeper({ db, users, sessions, throttle, logger, intervalMs: SWEEP_INTERVAL_MS });
  sweeper.start();
  onStop('sweeper', () => sweeper.stop());

  ops.addReadiness({
    name: 'store',
    check: async () => {
      try {
        await db.command({ ping: 1 }, { timeoutMS: 2000 });
        return undefined;
      } catch (err) {
        return `store unreachable: ${(err as Error).message}`;
      }
    },
  });
}
