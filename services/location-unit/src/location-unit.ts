// Wires one location unit, in this order: store → in-memory state → segment
// compactor → ingest pipeline → partition manager → gRPC server (queries are
// answered only for ready partitions, so serving early is safe) → membership
// (mq consumer group, or static partitions) which assigns partitions →
// readiness once every owned partition is loaded. Stops in reverse: membership
// first (partitions are handed back only after their points are durable and
// compaction has stopped), then gRPC, the pipeline, the compactor, the store.
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { ILocationQueryInfo, ILocationUnitInfo } from '../../../proto/gen/ts/location.tce.js';
import { IDiagInfo } from '../../../proto/gen/ts/diag.tce.js';
import { DiagServant } from '../../runtime/src/diag-servant.js';
import { RpcServer } from '../../runtime/src/rpc-server.js';
import type { ServiceEnv } from '../../runtime/src/run.js';
import { parsePartitions, type locationUnitSchema } from './config.js';
import { Coordinator, type Directory } from './coordinator.js';
import { IngestPipeline } from './ingest-pipeline.js';
import { LocationStore } from './location-store.js';
import { startMqMembership } from './mq-membership.js';
import { PartitionManager } from './partition-manager.js';
import { partitionOf } from './partition-of.js';
import { PeerPool } from './peer-pool.js';
import { SegmentCompactor } from './segment-compactor.js';
import { StaticDirectory } from './static-directory.js';
import { UnitServant } from './unit-servant.js';
import { UnitState } from './unit-state.js';
import { unitMetrics } from './unit-metrics.js';

const DESCRIPTORS = path.join(import.meta.dirname, '..', '..', '..', 'proto', 'gen', 'descriptors.binpb');

export async function startLocationUnit(env: ServiceEnv<typeof locationUnitSchema>): Promise<void> {
  const { config, logger, metrics, ops, onStop } = env;
  const partitions = config.gpsPartitions;
  const addr = config.advertiseAddr || `${os.hostname()}:${config.grpcPort}`;
  const partitionOfUser = (u: string): number => partitionOf(u, partitions);

  const mongo = new MongoClient(config.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  await mongo.connect();
  onStop('mongo', () => mongo.close());
  const store = new LocationStore(mongo.db());
  await store.ensureIndexes();

  const state = new UnitState(config.trackPoints);
  const m = unitMetrics(metrics, state, () => compactor.backlog);
  const compactor = new SegmentCompactor(store, state, {
    logger,
    onRound: (n, s) => {
      m.points.inc({ result: 'compacted' }, n);
      m.compactSeconds.observe(s);
    },
  });
  onStop('compactor', () => compactor.stop());
  const pipeline = new IngestPipeline(store, state, compactor, {
    batchMax: config.batchPoints,
    flushMs: config.flushInterval,
    logger,
    onBatch: (n, s) => {
      m.points.inc({ result: 'stored' }, n);
      m.batchSeconds.observe(s);
    },
  });
  onStop('ingest', (grace) => pipeline.stop(grace));
  const manager = new PartitionManager(state, store, pipeline, compactor, logger);

  let directory: Directory | undefined;
  const peers = new PeerPool();
  onStop('peers', async () => peers.close());
  const coordinator = new Coordinator(
    {
      addr,
      mapNearby: (lon, lat, r, limit, now) => state.mapNearby(lon, lat, r, limit, now - config.staleAfter),
      mapWithin: (rect, limit, now) => state.mapWithin(rect, limit, now - config.staleAfter),
      mapLatest: (users) => state.mapLatest(users, partitionOfUser),
      ready: () => state.ownership.ready(),
    },
    { members: () => (directory ? directory.members() : Promise.resolve([addr])) },
    peers,
    { partitions, partitionOf: partitionOfUser, logger, onPartial: (q) => m.partial.inc({ query: q }) },
  );
  const servant = new UnitServant({
    addr,
    partitions,
    staleAfterMs: config.staleAfter,
    queryTimeoutMs: config.queryTimeout,
    partitionOf: partitionOfUser,
    state,
    pipeline,
    store,
    coordinator,
    onInvalid: (n) => m.points.inc({ result: 'invalid' }, n),
  });

  const identityKey = config.internalKey ? Buffer.from(config.internalKey, 'base64') : undefined;
  const server = new RpcServer({ logger, metrics, identityKey, descriptorSet: DESCRIPTORS });
  server
    .addServant(ILocationQueryInfo, servant)
    .addServant(ILocationUnitInfo, servant)
    .addServant(IDiagInfo, new DiagServant());
  await server.listen(`${config.bindHost}:${config.grpcPort}`);
  onStop('grpc', (grace) => server.shutdown(grace));

  let membershipReady: () => string | undefined;
  if (config.mqAddr) {
    const mq = await startMqMembership({
      mqAddr: config.mqAddr,
      password: config.mqPassword,
      addr,
      manager,
      pipeline,
      partitions,
      logger,
      onPoint: (result) => m.points.inc({ result }),
    });
    directory = mq.directory;
    membershipReady = () => mq.notReadyReason();
    onStop('mq', (grace) => mq.stop(grace));
  } else {
    directory = new StaticDirectory(addr, config.peers);
    const owned = parsePartitions(config.ownedPartitions, partitions);
    membershipReady = () => undefined;
    onStop('partitions', () => manager.revoke(owned));
    void manager.assign(owned);
  }

  ops.addReadiness({
    name: 'partitions',
    check: () =>
      membershipReady() ?? (manager.loading ? `loading partitions ${state.ownership.loading().join(',')}` : undefined),
  });
  logger.info('Started location unit', { addr, partitions, mode: config.mqAddr ? 'mq' : 'static' });
}
