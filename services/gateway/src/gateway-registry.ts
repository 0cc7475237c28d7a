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
  private refreshedAt = 0;
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
    const started = this.now();
    const all = await this.col.find({}).toArray();
    this.known = new Map(all.map((g) => [g._id, g]));
    this.refreshedAt = started;
  }

  /**
   * Whether a presence entry counts: its gateway incarnation renews its record.
   * A gateway we have not seen is alive if it may have started since our last
   * look (refusing it would drop pushes to its devices — and we look again),
   * dead if we looked after the entry was written (replicas register before they
   * accept devices, so it would have been there).
   */
  isAlive(gatewayId: string, incarnation: string, writtenAt: number): boolean {
    if (gatewayId === this.id) return incarnation === this.incarnation;
    const g = this.known.get(gatewayId);
    if (!g) {
      if (this.refreshedAt > writtenAt + this.opts.heartbeatMs) return false;
      this.refreshSoon();
      return true;
    }
    if (g.incarnation !== incarnation) {
      // Written before the incarnation we know started: an older one, dead. Otherwise a
      // newer one than our view (the replica restarted since we looked): look again.
      if (g.startedAt > writtenAt) return false;
      this.refreshSoon();
      return true;
    }
    return g.heartbeatAt > this.now() - this.opts.ttlMs;
  }

  /**
   * Routing: whether to send a notice to the replica of a presence entry. A
   * notice to a live replica that no longer holds the device is ignored there;
   * one not sent is a push lost until the device's next read — so here any live
   * incarnation of that id counts.
   */
  mayHold(gatewayId: string, incarnation: string, writtenAt: number): boolean {
    if (gatewayId === this.id) return true;
    const g = this.known.get(gatewayId);
    if (!g) return this.isAlive(gatewayId, incarnation, writtenAt);
    return g.heartbeatAt > this.now() - this.opts.ttlMs;
  }

  /** Whether a replica with this id is alive (any incarnation; unknown ids count until we looked). */
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
    // Leaving on purpose: mark ourselves dead at once, so our devices read as offline now and
    // the other replicas' sweepers remove our presence entries (then our record).
    await this.col.updateOne({ _id: this.id, incarnation: this.incarnation }, { $set: { heartbeatAt: 0 } });
  }
}
