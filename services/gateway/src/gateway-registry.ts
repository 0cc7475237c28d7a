// Gateway liveness: each replica renews its own record every heartbeat and
// reads everyone's (a handful of documents). A replica not renewed for `ttl`
// is dead: presence entries naming it no longer count, and the sweeper removes
// them and its record. Incarnations (a random id per process start) keep a
// restarted replica with the same TCE_GATEWAY_ID from inheriting its
// predecessor's stale entries.
import crypto from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { Logger } from '../../runtime/src/logger.js';

export interface GatewayDoc {
  _id: string;
  incarnation: string;
  heartbeatAt: number;
  startedAt: number;
}

export const GATEWAYS_COLLECTION = 'gw_gateways';

export interface GatewayRegistryOptions {
  id: string;
  heartbeatMs: number;
  ttlMs: number;
  logger: Logger;
  now?: () => number;
}

export class GatewayRegistry {
  readonly id: string;
  readonly incarnation = crypto.randomBytes(6).toString('base64url');
  private readonly col: Collection<GatewayDoc>;
  /** Every record seen at the last refresh, fresh or not. */
  private known = new Map<string, GatewayDoc>();
  private refreshing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastBeatOk = 0;
  private beating: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(
    db: Db,
    private readonly opts: GatewayRegistryOptions,
  ) {
    this.id = opts.id;
    this.col = db.collection<GatewayDoc>(GATEWAYS_COLLECTION);
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<void> {
    const now = this.now();
    await this.col.replaceOne(
      { _id: this.id },
      { incarnation: this.incarnation, heartbeatAt: now, startedAt: now },
      { upsert: true },
    );
    await this.beat();
    this.timer = setInterval(() => {
      this.beating ??= this.beat()
        .catch((err: unknown) => this.opts.logger.warn('Gateway heartbeat failed', { err }))
        .finally(() => (this.beating = undefined));
    }, this.opts.heartbeatMs);
    this.timer.unref();
  }

  /** Renews our record and refreshes the view of who is alive. */
  async beat(): Promise<void> {
    const now = this.now();
    await this.col.updateOne(
      { _id: this.id },
      { $set: { incarnation: this.incarnation, heartbeatAt: now } },
      { upsert: true },
    );
    await this.refresh();
    this.lastBeatOk = now;
  }

  private async refresh(): Promise<void> {
    const all = await this.col.find({}).toArray();
    this.known = new Map(all.map((g) => [g._id, g]));
  }

  /**
   * Whether presence entries of this gateway incarnation count (presence
   * queries, sweeping). A replica we have not heard of yet (it started since our
   * last look) counts as alive and makes us look again.
   */
  isAlive(gatewayId: string, incarnation: string): boolean {
    if (gatewayId === this.id) return incarnation === this.incarnation;
    const g = this.known.get(gatewayId);
    if (!g || g.incarnation !== incarnation) this.refreshSoon();
    if (!g) return true;
    return g.incarnation === incarnation && g.heartbeatAt > this.now() - this.opts.ttlMs;
  }

  /**
   * Whether a replica with this id (any incarnation) is alive — for routing
   * notices: a notice to a live replica that no longer holds the device is
   * ignored there, a notice not sent is a push lost until the next read.
   */
  isAliveId(gatewayId: string): boolean {
    if (gatewayId === this.id) return true;
    const g = this.known.get(gatewayId);
    if (!g) {
      this.refreshSoon();
      return true;
    }
    return g.heartbeatAt > this.now() - this.opts.ttlMs;
  }

  private refreshSoon(): void {
    this.refreshing ??= this.refresh()
      .catch((err: unknown) => this.opts.logger.debug('Gateway list refresh failed', { err }))
      .finally(() => (this.refreshing = undefined));
  }

  /** Our own record is fresh (readiness): if we cannot renew it, others will soon think we are dead. */
  healthy(): boolean {
    return this.now() - this.lastBeatOk < this.opts.ttlMs;
  }

  /** Records of dead gateways (for the sweeper). */
  async dead(): Promise<GatewayDoc[]> {
    const now = this.now();
    return (await this.col.find({}).toArray()).filter(
      (g) => g._id !== this.id && g.heartbeatAt <= now - this.opts.ttlMs,
    );
  }

  /** Deletes a dead record unless it was renewed meanwhile (a slow, not dead, replica). */
  async forget(g: GatewayDoc): Promise<void> {
    await this.col.deleteOne({ _id: g._id, heartbeatAt: g.heartbeatAt });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    // Leaving on purpose: mark ourselves dead at once so our devices read as offline now.
    await this.col.deleteOne({ _id: this.id, incarnation: this.incarnation });
  }
}
