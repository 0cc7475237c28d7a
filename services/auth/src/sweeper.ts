// Periodic clean-up, because nothing may rely on TTL indexes (FerretDB 1.x):
// expired revocation records, sessions, refresh tokens, failed-login records
// and abandoned registrations are deleted, and session revocations that never
// reached the shared list (a crash between the two writes) are published.
// Every replica sweeps; all steps are idempotent deletes or upserts.
import type { Db } from 'mongodb';
import type { Logger } from '../../runtime/src/logger.js';
import { sweepRevocations } from '../../tokens/src/index.js';
import type { SessionStore } from './session-store.js';
import type { ThrottleStore } from './throttle-store.js';
import type { UserStore } from './user-store.js';

export interface SweeperDeps {
  db: Db;
  users: UserStore;
  sessions: SessionStore;
  throttle: ThrottleStore;
  logger: Logger;
  intervalMs: number;
}

export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly d: SweeperDeps) {}

  start(): void {
    const tick = (): void => {
      // Jitter spreads the replicas' sweeps apart.
      this.timer = setTimeout(
        () => {
          this.running = this.sweepOnce()
            .catch((err: unknown) => this.d.logger.warn('Sweep failed', { err }))
            .finally(() => {
              this.running = undefined;
              if (this.timer) tick();
            });
        },
        this.d.intervalMs * (0.75 + Math.random() * 0.5),
      );
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  async sweepOnce(now = Date.now()): Promise<void> {
    const republished = await this.d.sessions.republish(now);
    const counts = {
      revocations: await sweepRevocations(this.d.db, now),
      sessions: await this.d.sessions.sweep(now),
      failures: await this.d.throttle.sweep(now),
      pendingUsers: await this.d.users.sweepPending(now),
    };
    if (republished || Object.values(counts).some((n) => n > 0)) {
      this.d.logger.info('Swept expired records', { ...counts, republished });
    }
  }
}
