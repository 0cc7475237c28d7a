// Periodic clean-up, on every replica (idempotent, jittered so replicas do not
// run in step): presence entries and push topics of dead replicas, and inbox
// retention. Nothing here relies on TTL indexes (FerretDB has none that delete).
import type { Db } from 'mongodb';
import type { Logger } from '../../runtime/src/logger.js';
import type { GroupStore } from './group-store.js';
import type { GatewayRegistry } from './gateway-registry.js';
import type { MessageStore } from './message-store.js';
import type { Notifier } from './notices.js';
import type { PresenceStore } from './presence-store.js';

export interface SweeperOptions {
  db: Db;
  store: MessageStore;
  presence: PresenceStore;
  registry: GatewayRegistry;
  groups: GroupStore;
  notifier: Notifier;
  logger: Logger;
  intervalMs: number;
  retentionMs: number;
  /** Users who lost presence entries of dead gateways (they may have gone offline). */
  onSwept?(users: string[]): void;
  /** Extra periodic work (renewing presence watches). */
  onPass?(): Promise<void>;
  now?: () => number;
}

export interface Sweeper {
  /** One pass now (tests). */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

export function startSweeper(o: SweeperOptions): Sweeper {
  const now = o.now ?? Date.now;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function deadGateways(): Promise<void> {
    const dead = await o.registry.dead();
    if (dead.length === 0) return;
    const { removed, users } = await o.presence.sweep((g, i, t) => o.registry.isAlive(g, i, t), now());
    if (users.length) o.onSwept?.(users);
    for (const g of dead) {
      await o.notifier
        .forget(g._id)
        .catch((err: unknown) => o.logger.warn('Failed to remove a dead gateway topic', { err, gateway: g._id }));
      await o.groups.forgetGateway(g._id);
      await o.registry.forget(g);
    }
    o.logger.info('Swept dead gateways', { gateways: dead.map((g) => g._id), presenceEntries: removed });
  }

  async function retention(): Promise<void> {
    const cutoff = now() - o.retentionMs;
    // Mark what will be deleted first: a device behind it then gets onReset, not a hole.
    const highest = new Map<string, number>();
    for await (const d of o.store.inbox.find({ sentAt: { $lt: cutoff } }, { projection: { to: 1, seq: 1 } })) {
      highest.set(d.to, Math.max(highest.get(d.to) ?? 0, d.seq));
    }
    for (const [to, seq] of highest) await o.store.raiseTrimmed(to, seq);
    const r = await o.store.inbox.deleteMany({ sentAt: { $lt: cutoff } });
    await o.store.dedup.deleteMany({ sentAt: { $lt: cutoff } });
    await o.store.cursors.deleteMany({ at: { $lt: cutoff } });
    if (r.deletedCount > 0) o.logger.info('Deleted expired messages', { count: r.deletedCount, users: highest.size });
  }

  async function pass(): Promise<void> {
    try {
      await deadGateways();
    } catch (err) {
      o.logger.warn('Dead-gateway sweep failed', { err });
    }
    try {
      await retention();
    } catch (err) {
      o.logger.warn('Retention sweep failed', { err });
    }
    try {
      await o.onPass?.();
    } catch (err) {
      o.logger.warn('Periodic renewal failed', { err });
    }
  }

  // Entries of our own previous incarnation (a restart with the same id) belong to no dead
  // record the pass below would find: sweep them once now.
  void o.presence
    .sweep((g, i, t) => o.registry.isAlive(g, i, t), now())
    .then(({ users }) => (users.length ? o.onSwept?.(users) : undefined))
    .catch((err: unknown) => o.logger.warn('Initial presence sweep failed', { err }));

  const schedule = (): void => {
    if (stopped) return;
    const jitter = 0.8 + Math.random() * 0.4;
    timer = setTimeout(() => {
      running = pass().finally(() => {
        running = undefined;
        schedule();
      });
    }, o.intervalMs * jitter);
    timer.unref();
  };
  schedule();

  return {
    runOnce: () => (running ??= pass().finally(() => (running = undefined))),
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
