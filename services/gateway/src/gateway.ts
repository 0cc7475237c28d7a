// Wiring of the gateway process, in start order: config → store → token
// revocation → liveness → bus → message pipeline → hub → device endpoint →
// sweeper. runService stops the parts in reverse order on SIGTERM, so the
// endpoint stops accepting and closes devices (1001) before the store goes.
import os from 'node:os';
import v8 from 'node:v8';
import { MongoClient } from 'mongodb';
import { Token } from '../../../proto/gen/ts/auth.js';
import { IAuthServerInfo, IAuthServerProxy } from '../../../proto/gen/ts/auth.tce.js';
import { IDiagInfo } from '../../../proto/gen/ts/diag.tce.js';
import { ILocationQueryInfo, ILocationReportInfo } from '../../../proto/gen/ts/location.tce.js';
import { IMessageServerInfo, ISessionInfo, ITerminalInfo } from '../../../proto/gen/ts/messaging.tce.js';
import { ConfigError } from '../../runtime/src/config.js';
import { DiagServant } from '../../runtime/src/diag-servant.js';
import type { Logger } from '../../runtime/src/logger.js';
import { runService, type RunningService } from '../../runtime/src/run.js';
import { MqClient } from '../../mq/src/client/index.js';
import { keySetFromConfig, RevocationList } from '../../tokens/src/index.js';
import { gatewaySchema, type GatewayConfig } from './config.js';
import { Dispatcher } from './dispatcher.js';
import { Forwarder } from './forwarder.js';
import { GatewayRegistry } from './gateway-registry.js';
import { GpsServant, mqGpsPublisher, GPS_QUEUE } from './gps-servant.js';
import { GroupService } from './group-service.js';
import { GroupStore } from './group-store.js';
import { Hub } from './hub.js';
import { MessageServant } from './message-servant.js';
import { MessageStore } from './message-store.js';
import { createGatewayMetrics, watchStoreQueues } from './metrics.js';
import { MqNotifier } from './mq-notifier.js';
import type { Notifier } from './notices.js';
import { originPolicy } from './origin-policy.js';
import { PresenceStore } from './presence-store.js';
import { PresenceWatch } from './presence-watch.js';
import { RouteTable, type Route } from './routes.js';
import { SendPipeline } from './send-pipeline.js';
import { CoalescingWriter, storePace } from './store-pacing.js';
import { SessionServant } from './session-servant.js';
import { StandaloneNotifier } from './standalone-notifier.js';
import { startSweeper } from './sweeper.js';
import { AuthUserDirectory } from './user-directory.js';
import { createWsServer } from './ws-server.js';

/** Largest forwarded request/response (a history page, a query result). */
const MAX_FORWARD_BYTES = 4 * 1024 * 1024;

interface Secrets {
  internalKey: Buffer;
  mqPasswords: Record<string, string>;
}

/** The settings that are JSON or binary inside a string, checked together so every problem is named. */
export function parseSecrets(config: Pick<GatewayConfig, 'internalKey' | 'mqPasswords'>): Secrets {
  const problems: string[] = [];
  const internalKey = Buffer.from(config.internalKey, 'base64');
  if (internalKey.length < 32) problems.push('TCE_INTERNAL_KEY: expected base64 of at least 32 bytes');
  let mqPasswords: Record<string, string> = {};
  try {
    const o = JSON.parse(config.mqPasswords) as unknown;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('expected a JSON object');
    for (const [k, v] of Object.entries(o))
      if (typeof v !== 'string') throw new Error(`password of '${k}' is not a string`);
    mqPasswords = o as Record<string, string>;
  } catch (err) {
    problems.push(`TCE_MQ_PASSWORDS: ${(err as Error).message}`);
  }
  if (problems.length) throw new ConfigError(problems);
  return { internalKey, mqPasswords };
}

export function gatewayIdOf(config: Pick<GatewayConfig, 'gatewayId'>): string {
  return (
    config.gatewayId ||
    os
      .hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 63) ||
    'gateway'
  );
}

export function runGateway(opts: { env?: NodeJS.ProcessEnv; handleSignals?: boolean } = {}): Promise<RunningService> {
  return runService(
    'gateway',
    gatewaySchema,
    async ({ config, logger, metrics, ops, onStop }) => {
      const keys = keySetFromConfig(config.tokenKeys);
      const { internalKey, mqPasswords } = parseSecrets(config);
      let origins;
      try {
        origins = originPolicy(config.allowedOrigins);
      } catch (err) {
        throw new ConfigError([(err as Error).message]);
      }
      const gatewayId = gatewayIdOf(config);
      const log = logger.child({ gateway: gatewayId });
      if (config.optimizeFor === 'memory') {
        // Before the connections come: V8 then grows the heap only as far as the live
        // data needs instead of keeping a connection storm's garbage committed (measured:
        // 6.7 vs 21.5 KiB RSS per idle connection at 15 000, docs/gateway.md).
        v8.setFlagsFromString('--optimize-for-size');
        log.info('V8 optimizes for memory (--optimize-for-size)');
      }
      // Not ready until every part below has started (the other checks come one by one).
      let started = false;
      ops.addReadiness({ name: 'startup', check: () => (started ? undefined : 'starting') });
      const gm = createGatewayMetrics(metrics.registry);

      // Store.
      const mongo = new MongoClient(config.mongoUrl, {
        maxPoolSize: 32,
        serverSelectionTimeoutMS: 5000,
        monitorCommands: config.logLevel === 'debug',
      });
      if (config.logLevel === 'debug') countStoreCommands(mongo, log);
      await mongo.connect();
      onStop('store', () => mongo.close());
      const db = mongo.db();
      let storeOk = true;
      const pingTimer = setInterval(() => {
        db.command({ ping: 1 }).then(
          () => (storeOk = true),
          () => (storeOk = false),
        );
      }, 2000);
      pingTimer.unref();
      onStop('store ping', () => Promise.resolve(clearInterval(pingTimer)));
      ops.addReadiness({ name: 'store', check: () => (storeOk ? undefined : 'store does not answer') });

      // Token revocation (polled; 'revoked' closes live connections).
      const revocations = new RevocationList(db, { pollMs: config.revocationPoll, logger: log });
      await revocations.start();
      onStop('revocations', () => revocations.stop());

      // Liveness of the replicas.
      const registry = new GatewayRegistry(db, {
        id: gatewayId,
        heartbeatMs: config.presenceHeartbeat,
        ttlMs: config.presenceTtl,
        logger: log,
      });
      await registry.start();
      onStop('liveness', () => registry.stop());
      ops.addReadiness({
        name: 'liveness',
        check: () => (registry.healthy() ? undefined : 'cannot renew the liveness record'),
      });

      // Bus: cross-gateway notices and GPS.
      let mq: MqClient | undefined;
      let notifier: Notifier;
      if (config.mqAddr) {
        mq = new MqClient(config.mqAddr, { logger: log });
        notifier = new MqNotifier({
          mq,
          gatewayId,
          internalKey,
          adminPassword: config.mqAdminPassword,
          logger: log,
        });
      } else {
        log.warn('TCE_MQ_ADDR is not set: standalone gateway (no cross-gateway pushes, no GPS)');
        notifier = new StandaloneNotifier(log);
      }
      ops.addReadiness({ name: 'bus', check: () => notifier.ready() });

      // One pace for the whole process: a few store operations at a time go fastest (store-pacing.ts).
      const pace = storePace();
      const store = new MessageStore(db, pace);
      const writes = new CoalescingWriter(2, (err, key) => log.warn('Bookkeeping write failed', { err, key }));
      onStop('bookkeeping writes', () => writes.drained());
      const presence = new PresenceStore(db, log, pace);
      const groupStore = new GroupStore(db, pace);
      await groupStore.ensureIndexes();
      const watch = new PresenceWatch(db, gatewayId, log, pace);
      // The pipeline and the hub refer to each other; the hub is set right below.
      const late: { hub?: Hub } = {};
      const pipeline = new SendPipeline({
        store,
        logger: log,
        onStored: (docs) => late.hub?.routeMessages(docs),
        onBatch: (n) => gm.storeBatch.observe(n),
        writes,
      });
      const hub = new Hub({
        gatewayId,
        filesUrl: config.filesPublicUrl,
        keys,
        revocations,
        store,
        groups: groupStore,
        presence,
        watch,
        registry,
        notifier,
        logger: log,
        metrics: gm,
        cursors: writes,
        counterSeen: (user, hint) => pipeline.primeHint(user, hint),
        limits: {
          rateLimit: config.rateLimit,
          rateBurst: config.rateBurst,
          maxSendQueueBytes: config.maxSendQueueBytes,
        },
        pingIntervalMs: config.pingInterval,
        idleTimeoutMs: config.idleTimeout,
        loginTimeoutMs: config.loginTimeout,
        pushTimeoutMs: config.pushTimeout,
        pushWindow: config.pushWindow,
        gapTimeoutMs: config.gapTimeout,
      });
      late.hub = hub;
      watchStoreQueues(metrics.registry, () => ({
        sends: pipeline.depth,
        reads: pace.reads.queued,
        writes: pace.writes.queued,
        bookkeeping: writes.backlog,
      }));
      const theHub = hub;
      await notifier.start(
        (n) => theHub.onNotices(n),
        () => theHub.resync(),
      );
      onStop('bus', async () => {
        await notifier.stop();
        mq?.close();
      });

      // Upstreams (generic forwarding) and the servants inside the gateway.
      const forwarders: { auth?: Forwarder; location?: Forwarder } = {};
      if (config.authAddr) forwarders.auth = new Forwarder('auth', config.authAddr, internalKey, MAX_FORWARD_BYTES);
      if (config.locationAddr) {
        forwarders.location = new Forwarder('location', config.locationAddr, internalKey, MAX_FORWARD_BYTES);
      }
      onStop('upstreams', async () => {
        for (const f of Object.values(forwarders)) f.close();
      });
      const users = config.authAddr ? new AuthUserDirectory(new IAuthServerProxy(config.authAddr)) : undefined;
      if (!users)
        log.warn('TCE_AUTH_ADDR is not set: logins over the connection are off and recipients are not checked');
      onStop('user directory', async () => users?.close());

      const gpsPassword = mqPasswords[GPS_QUEUE] ?? '';
      const routes: Route[] = [
        {
          info: IMessageServerInfo,
          target: {
            kind: 'local',
            servant: new MessageServant({
              pipeline,
              store,
              users,
              groups: new GroupService({
                groups: groupStore,
                store,
                pipeline,
                users,
                membershipChanged: (who, group, joined, since) => theHub.membershipChanged(who, group, joined, since),
              }),
              presenceOf: (ids, conn) => theHub.presenceOf(ids, conn),
              maxMessageBytes: config.maxMessageBytes,
            }),
          },
        },
        {
          info: ISessionInfo,
          target: { kind: 'local', servant: new SessionServant(theHub) },
          publicMethods: new Set(['authenticate']),
        },
        {
          info: ILocationReportInfo,
          target: { kind: 'local', servant: new GpsServant(mq ? mqGpsPublisher(mq, gpsPassword) : undefined, gm, log) },
        },
        {
          info: IDiagInfo,
          target: { kind: 'local', servant: new DiagServant() },
          publicMethods: new Set(['echo', 'ping']),
        },
        {
          info: IAuthServerInfo,
          target: { kind: 'forward', upstream: 'auth' },
          publicMethods: new Set(['registerUser', 'userAuth', 'refresh']),
        },
        { info: ILocationQueryInfo, target: { kind: 'forward', upstream: 'location' } },
      ];
      const dispatcher = new Dispatcher({
        routes: new RouteTable(routes, [ITerminalInfo]),
        forwarders,
        logger: log,
        metrics: gm,
        // A login or refresh over the connection binds it to the token it returned.
        afterForward: async (conn, iface, method, response) => {
          if (iface !== IAuthServerInfo.fullName || (method !== 'userAuth' && method !== 'refresh')) return;
          const token = IAuthServerInfo.methods[method]!.response.decode(response) as { value?: Token };
          if (token.value?.access_token) await theHub.authenticate(conn, token.value.access_token);
        },
        forwardExtra: (conn, upstream): Record<string, string> =>
          upstream === 'auth' ? { 'client-addr': conn.peer } : {},
      });
      theHub.setDispatcher(dispatcher);
      theHub.start();

      // Device endpoint.
      const ws = createWsServer({
        hub: theHub,
        origins,
        maxFrameBytes: config.maxFrameBytes,
        maxConnections: config.maxConnections,
        trustProxy: config.trustProxy,
        logger: log,
        metrics: gm,
      });
      const port = await ws.listen(config.bindHost, config.wsPort);
      log.info('Started device endpoint', { port, path: '/ws', gateway: gatewayId });
      onStop('send pipeline', () => pipeline.drained());
      onStop('device endpoint', async () => {
        const closing = ws.close();
        await theHub.shutdown();
        await closing;
      });

      const sweeper = startSweeper({
        db,
        store,
        groups: groupStore,
        presence,
        registry,
        notifier,
        logger: log,
        intervalMs: config.sweepInterval,
        retentionMs: config.inboxRetention,
        onSwept: (users) => void theHub.announceIfOffline(users).catch(() => undefined),
        onPass: () => watch.renew(),
      });
      onStop('sweeper', () => sweeper.stop());
      ops.addReadiness({ name: 'endpoint', check: () => (ws.server.listening ? undefined : 'not listening') });
      started = true;
    },
    opts,
  );
}

/** At debug level: store commands per collection and kind every 10 s (where the store time goes). */
function countStoreCommands(mongo: MongoClient, log: Logger): void {
  const counts = new Map<string, { n: number; ms: number }>();
  const names = new Map<number, string>();
  mongo.on('commandStarted', (e) => {
    const target = (e.command as Record<string, unknown>)[e.commandName];
    names.set(e.requestId, `${e.commandName} ${typeof target === 'string' ? target : ''}`.trim());
  });
  mongo.on('commandSucceeded', (e) => {
    const k = names.get(e.requestId) ?? e.commandName;
    names.delete(e.requestId);
    const c = counts.get(k) ?? { n: 0, ms: 0 };
    c.n++;
    c.ms += e.duration;
    counts.set(k, c);
  });
  const t = setInterval(() => {
    if (counts.size === 0) return;
    log.debug(
      'Store commands in the last 10 s',
      Object.fromEntries([...counts].map(([k, v]) => [k, `${v.n} (${v.ms.toFixed(0)} ms)`])),
    );
    counts.clear();
  }, 10_000);
  t.unref();
}
