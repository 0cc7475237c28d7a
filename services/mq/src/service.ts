// Wiring of the EasyMQ process: config → MongoDB → leader lease → (as leader)
// recovery → gRPC server with the TCE servants, the mq.MqStream streams and
// diag. A standby (another replica holds the lease) serves only /healthz and
// answers /readyz with 503, so a Kubernetes Service routes to the leader alone.
// Stop order (reverse of registration): end streams and flush storage, drain
// gRPC, hand the lease over, close MongoDB.
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { IDiagInfo } from '../../../proto/gen/ts/diag.tce.js';
import { IMqAdminInfo, IMqPublisherInfo } from '../../../proto/gen/ts/mq.tce.js';
import { DiagServant } from '../../runtime/src/diag-servant.js';
import { RpcServer } from '../../runtime/src/rpc-server.js';
import type { ServiceEnv } from '../../runtime/src/run.js';
import { Broker } from './broker.js';
import { createMqMetrics } from './broker-metrics.js';
import { mqSchema, parseDeclarations } from './config.js';
import { Lease } from './lease.js';
import { AdminServant, PublisherServant } from './servants.js';
import { Declarations } from './store/declarations.js';
import { LogStore } from './store/log-store.js';
import { mqStreamDefinition, StreamService } from './stream-service.js';

const DESCRIPTORS = path.resolve(import.meta.dirname, '..', '..', '..', 'proto', 'gen', 'descriptors.binpb');

export async function startMq(env: ServiceEnv<typeof mqSchema>): Promise<void> {
  const { config, logger, metrics, ops, onStop } = env;
  const declared = parseDeclarations(config.queues, config.passwords, config.maxMessageBytes);
  const mm = createMqMetrics(metrics);
  const mongo = new MongoClient(config.mongoUrl, { serverSelectionTimeoutMS: 5000 });
  await mongo.connect();
  onStop('mongodb', () => mongo.close());
  const db = mongo.db();
  const lease = new Lease(db, `${os.hostname()}:${config.grpcPort}`, config.leaseTtl);
  let role: 'standby' | 'recovering' | 'leader' = 'standby';
  let stopping = false;
  let standbyNote = '';
  ops.addReadiness({
    name: 'leader',
    check: () => (role === 'leader' ? undefined : role === 'standby' ? `standby${standbyNote}` : 'recovering'),
  });
  let store: LogStore | undefined;
  ops.addReadiness({
    name: 'store',
    check: () => (store?.lastError ? `store writes failing: ${store.lastError}` : undefined),
  });

  const lead = async (): Promise<void> => {
    role = 'recovering';
    logger.info('Acquired leadership', { holder: lease.holder, epoch: lease.epoch });
    const renew = setInterval(() => {
      lease.renew().then(
        (ok) => {
          if (ok || stopping) return;
          // Someone else holds the lease: our in-memory state is stale. Exit without writing anything.
          logger.error('Lost leadership; exiting so a restart comes back as a standby', { holder: lease.holder });
          process.exit(1);
        },
        (err: unknown) => logger.warn('Lease renewal failed', { err }),
      );
    }, config.leaseTtl / 3);
    renew.unref();
    onStop('lease', async () => {
      clearInterval(renew);
      await lease.release().catch((err: unknown) => logger.warn('Lease release failed', { err }));
    });
    store = new LogStore(db, { epoch: lease.epoch, logger, onWrite: (s) => mm.storeWriteSeconds.observe(s) });
    const broker = new Broker({
      logger,
      maxMessageBytes: config.maxMessageBytes,
      dedupeWindowMs: config.dedupeWindow,
      adminPassword: config.adminPassword,
      declarations: new Declarations(db),
      store,
      leaderValid: () => lease.valid(),
    });
    await broker.start(declared.queues, declared.passwords);
    mm.attach(broker);
    const rpc = new RpcServer({
      logger,
      metrics,
      descriptorSet: DESCRIPTORS,
      // Room for one maximal message plus frame overhead; larger frames get grpc-js's RESOURCE_EXHAUSTED.
      maxMessageBytes: Math.max(4 * 1024 * 1024, config.maxMessageBytes + 1024 * 1024),
    });
    rpc.addServant(IMqPublisherInfo, new PublisherServant(broker));
    rpc.addServant(IMqAdminInfo, new AdminServant(broker, config.maxMessageBytes));
    rpc.addServant(IDiagInfo, new DiagServant());
    const streams = new StreamService(broker, logger);
    rpc.server.addService(mqStreamDefinition, streams.handlers());
    await rpc.listen(`${config.bindHost}:${config.grpcPort}`);
    onStop('grpc', (grace) => rpc.shutdown(grace));
    onStop('broker', async () => {
      rpc.setServing('NOT_SERVING');
      await broker.stop();
      streams.closeAll();
    });
    role = 'leader';
    mm.leader.set(1);
  };

  onStop('standby', async () => {
    stopping = true;
  });
  if (await lease.tryAcquire()) return lead();
  mm.leader.set(0);
  const cur = await lease.current();
  standbyNote = cur ? ` (lease held by ${cur.holder})` : '';
  logger.info('Standing by: another broker holds the lease', { holder: cur?.holder });
  // Keep trying in the background; start() returns so /healthz answers while we wait.
  const attempt = (): void => {
    if (stopping) return;
    lease.tryAcquire().then(
      (ok) => {
        if (ok && !stopping) {
          lead().catch((err: unknown) => {
            logger.error('Failed to take over as leader', { err });
            process.exit(1);
          });
        } else setTimeout(attempt, config.leaseTtl / 3).unref();
      },
      (err: unknown) => {
        logger.warn('Lease attempt failed', { err });
        setTimeout(attempt, config.leaseTtl / 3).unref();
      },
    );
  };
  setTimeout(attempt, config.leaseTtl / 3).unref();
}
