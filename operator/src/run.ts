// Wires the operator: config → logging → metrics and ops endpoint → API
// client → leader election → (as leader) CRD upgrade and the controller.
// SIGTERM stops the controller, releases the Lease and closes the endpoint.
import fs from 'node:fs';
import os from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, loadConfig, type ConfigOf } from '../../services/runtime/src/config.js';
import { createLogger, type Logger, type LogLevel } from '../../services/runtime/src/logger.js';
import { startOpsServer, type OpsServer } from '../../services/runtime/src/ops-server.js';
import { operatorSchema } from './config.js';
import { Controller } from './controller/controller.js';
import { createEventRecorder } from './controller/events.js';
import { cryptoKeyGenerator } from './controller/secret-material.js';
import { upgradeCrd } from './crd-upgrade.js';
import { createKubeClient, type KubeClient } from './kube/client.js';
import { LeaderElector } from './leader/leader-elector.js';
import { createOperatorMetrics, type OperatorMetrics } from './metrics.js';
import { VERSION } from './version.js';

export type OperatorConfig = ConfigOf<typeof operatorSchema>;

export interface RunningOperator {
  opsPort: number;
  logger: Logger;
  metrics: OperatorMetrics;
  client: KubeClient;
  /** Resolves when the operator stops by itself (lost leadership); the reason is the value. */
  done: Promise<string>;
  stop(): Promise<void>;
}

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export async function runOperator(env: NodeJS.ProcessEnv = process.env, kc?: KubeConfig): Promise<RunningOperator> {
  const config = loadConfig(operatorSchema, env);
  const logger = createLogger('operator', config.logLevel as LogLevel);
  const metrics = createOperatorMetrics();
  const identity = config.identity || `${os.hostname()}_${process.pid}`;
  const kubeconfig = kc ?? new KubeConfig();
  if (!kc) kubeconfig.loadFromDefault();
  const client = await createKubeClient(kubeconfig, { onRequest: (i) => metrics.observeRequest(i) });
  const ops: OpsServer = await startOpsServer({
    host: config.bindHost,
    port: config.opsPort,
    registry: metrics.registry,
  });
  const namespace = config.watchNamespace || undefined;
  const leaseNamespace =
    config.leaseNamespace ||
    (fs.existsSync(SA_NAMESPACE_FILE) ? fs.readFileSync(SA_NAMESPACE_FILE, 'utf8').trim() : 'default');

  let controller: Controller | undefined;
  let finish: (reason: string) => void = () => undefined;
  const done = new Promise<string>((resolve) => (finish = resolve));
  const abort = new AbortController();
  let apiReached = false;

  const lead = async (): Promise<void> => {
    metrics.leader.set(1);
    if (config.manageCrd) {
      try {
        await upgradeCrd(client, logger);
      } catch (err) {
        // Not fatal: the CRD installed by the chart still serves; the reason is logged.
        logger.error('Failed to upgrade the Platform CRD', { err });
      }
    }
    controller = new Controller({
      client,
      logger,
      metrics,
      events: createEventRecorder(client, logger, identity),
      keys: cryptoKeyGenerator,
      defaultImageTag: VERSION,
      namespace,
      workers: config.workers,
      resyncPeriodMs: config.resyncPeriod,
    });
    await controller.start();
  };

  // Ready = the API server answered (a standby replica is ready too: it is healthy and waiting).
  ops.addReadiness({ name: 'kubernetes-api', check: () => (apiReached ? undefined : 'API server not reached yet') });

  const elector = config.leaderElect
    ? new LeaderElector({
        client,
        logger,
        namespace: leaseNamespace,
        name: config.leaseName,
        identity,
        leaseDurationMs: config.leaseDuration,
        renewDeadlineMs: config.renewDeadline,
        retryPeriodMs: config.retryPeriod,
        onStartedLeading: () => {
          lead().catch((err: unknown) => {
            logger.error('Failed to start the controller', { err });
            finish('controller failed to start');
          });
        },
        onStoppedLeading: () => {
          metrics.leader.set(0);
          // Another replica may be leading now: stop at once rather than act on stale leadership.
          finish('lost leadership');
        },
      })
    : undefined;

  // Reaching the API once is what readiness waits for; the elector and the informers retry on their own.
  const probe = async (): Promise<void> => {
    while (!abort.signal.aborted && !apiReached) {
      try {
        await client.request('GET', '/version');
        apiReached = true;
      } catch (err) {
        logger.warn('Kubernetes API not reachable; retrying', { server: client.server, err });
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  };
  void probe();

  if (elector) {
    void elector.run(abort.signal);
  } else {
    lead().catch((err: unknown) => {
      logger.error('Failed to start the controller', { err });
      finish('controller failed to start');
    });
  }
  logger.info('Started', {
    version: VERSION,
    opsPort: ops.port,
    identity,
    namespace: namespace ?? '(all)',
    server: client.server,
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      logger.info('Stopping');
      abort.abort();
      await controller?.stop();
      await elector?.release();
      metrics.leader.set(0);
      await ops.close();
      logger.info('Stopped');
      finish('stopped');
    })();
    return stopping;
  };
  return { opsPort: ops.port, logger, metrics, client, done, stop };
}

export { ConfigError };
