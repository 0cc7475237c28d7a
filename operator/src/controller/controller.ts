// The Platform controller: informers for Platforms and for every child kind
// (only objects labelled as managed by the operator), events mapped to the
// owning Platform's key, a work queue, and a periodic resync from the cache.
// Workers start only after every cache has synced: before that, "absent from
// the cache" would not mean "absent from the cluster".
import type { Logger } from '../../../services/runtime/src/logger.js';
import type { KubeClient } from '../kube/client.js';
import { isApiError } from '../kube/errors.js';
import { Informer, type InformerEventType } from '../kube/informer.js';
import { KINDS, objectKey, type KindInfo, type KubeObject } from '../kube/kinds.js';
import type { OperatorMetrics } from '../metrics.js';
import { CHILD_KINDS } from '../resources/children.js';
import { MANAGED_BY_SELECTOR } from '../resources/names.js';
import { PLATFORM_KIND } from '../version.js';
import type { EventRecorder } from './events.js';
import { reconcile, type ReconcilerDeps } from './reconciler.js';
import type { KeyGenerator } from './secret-material.js';
import { WorkQueue } from './work-queue.js';

export interface ControllerOptions {
  client: KubeClient;
  logger: Logger;
  metrics: OperatorMetrics;
  events: EventRecorder;
  keys: KeyGenerator;
  defaultImageTag: string;
  /** Watch one namespace; every namespace when undefined. */
  namespace?: string;
  workers: number;
  /** Every Platform is reconciled from the cache this often, as a safety net. */
  resyncPeriodMs: number;
  now?: () => number;
}

export class Controller {
  readonly platforms: Informer;
  private readonly children = new Map<string, Informer>();
  private readonly queue: WorkQueue;
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private resync: NodeJS.Timeout | undefined;
  private startedFlag = false;

  constructor(private readonly opts: ControllerOptions) {
    const { client, logger, namespace } = opts;
    this.platforms = new Informer({
      client,
      kind: KINDS.Platform,
      logger,
      namespace,
      onEvent: (type, obj, old) => this.onPlatformEvent(type, obj, old),
    });
    for (const kind of CHILD_KINDS) {
      this.children.set(
        kind.kind,
        new Informer({
          client,
          kind,
          logger,
          namespace,
          labelSelector: MANAGED_BY_SELECTOR,
          onEvent: (_type, obj) => this.onChildEvent(obj),
        }),
      );
    }
    const deps: ReconcilerDeps = {
      client,
      caches: { platforms: this.platforms, child: (k: KindInfo) => this.child(k) },
      events: opts.events,
      logger,
      metrics: opts.metrics,
      keys: opts.keys,
      defaultImageTag: opts.defaultImageTag,
      now: opts.now ?? Date.now,
    };
    this.queue = new WorkQueue({
      workers: opts.workers,
      handle: async (key) => {
        const end = opts.metrics.reconcileSeconds.startTimer();
        try {
          return await reconcile(deps, key);
        } catch (err) {
          opts.metrics.reconciles.inc({ result: 'error' });
          opts.metrics.reconcileErrors.inc();
          throw err;
        } finally {
          end();
        }
      },
      // A conflict means our copy was stale; the watch brings the new one, so retry soon.
      isQuickRetry: (err) => isApiError((err as Error)?.cause ?? err, 409),
      onError: (key, err, retryInMs) => logger.warn('Reconcile failed; retrying', { platform: key, err, retryInMs }),
      onDepth: (d) => opts.metrics.queueDepth.set(d),
    });
  }

  get started(): boolean {
    return this.startedFlag;
  }

  child(kind: KindInfo): Informer {
    const inf = this.children.get(kind.kind);
    if (!inf) throw new Error(`No informer for ${kind.kind}`);
    return inf;
  }

  /** Starts the informers, waits until every cache has synced, then starts the workers. */
  async start(): Promise<void> {
    const signal = this.abort.signal;
    for (const inf of [this.platforms, ...this.children.values()]) this.loops.push(inf.run(signal));
    await Promise.race([
      Promise.all([this.platforms, ...this.children.values()].map((i) => i.waitForSync())),
      new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true })),
    ]);
    if (signal.aborted) return;
    this.opts.logger.info('Caches synced', { platforms: this.platforms.list().length });
    this.queue.start();
    for (const p of this.platforms.list()) this.queue.add(objectKey(p));
    this.resync = setInterval(() => {
      for (const p of this.platforms.list()) this.queue.add(objectKey(p));
    }, this.opts.resyncPeriodMs);
    this.resync.unref();
    this.startedFlag = true;
  }

  async stop(): Promise<void> {
    if (this.resync) clearInterval(this.resync);
    this.abort.abort();
    await this.queue.stop();
    await Promise.allSettled(this.loops);
  }

  private onPlatformEvent(type: InformerEventType, obj: KubeObject, old: KubeObject | undefined): void {
    // Our own status writes come back as MODIFIED events; they change nothing we act on.
    if (type === 'MODIFIED' && old && !specOrMetadataChanged(old, obj)) return;
    this.queue.add(objectKey(obj));
  }

  private onChildEvent(obj: KubeObject): void {
    const owner = obj.metadata?.ownerReferences?.find((r) => r.controller && r.kind === PLATFORM_KIND);
    if (owner) this.queue.add(`${obj.metadata?.namespace ?? ''}/${owner.name}`);
  }
}

/** True unless only status (and resourceVersion/managedFields) changed. */
export function specOrMetadataChanged(old: KubeObject, cur: KubeObject): boolean {
  const a = old.metadata ?? {};
  const b = cur.metadata ?? {};
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    JSON.stringify(a.labels ?? {}) !== JSON.stringify(b.labels ?? {}) ||
    JSON.stringify(a.annotations ?? {}) !== JSON.stringify(b.annotations ?? {})
  );
}
