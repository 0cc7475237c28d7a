// Leadership: with several replicas exactly one broker is active, the holder of
// the newest lease document in MongoDB (collection mq_lease, one document per
// epoch). Taking the lease is an insert of epoch+1, arbitrated by the unique
// _id — not an update, which FerretDB does not make atomic under concurrency
// (docs/adr/0001). Only the holder updates its own document (renewal every
// ttl/3), so no two writers race on one document. A standby inserts the next
// epoch once the newest lease has been expired for a margin. The holder stops
// acknowledging durable publishes when its lease runs out unrenewed (20% margin
// for clock skew), and exits when a renewal finds a newer epoch.
// Assumption (documented in docs/mq.md): a live leader's renewal is never late by
// more than the TTL minus that margin.
import type { Collection, Db } from 'mongodb';

interface LeaseDoc {
  _id: number;
  holder: string;
  expiresAt: number;
  since: number;
}

export const LEASE_COLLECTION = 'mq_lease';
const KEEP_EPOCHS = 20;

export class Lease {
  private readonly col: Collection<LeaseDoc>;
  readonly holder: string;
  readonly ttlMs: number;
  epoch = 0;
  private validUntil = 0;

  constructor(db: Db, holder: string, ttlMs: number) {
    this.col = db.collection<LeaseDoc>(LEASE_COLLECTION);
    this.holder = holder;
    this.ttlMs = ttlMs;
  }

  private get margin(): number {
    return this.ttlMs / 5;
  }

  private async latest(): Promise<LeaseDoc | null> {
    return this.col.find({}).sort({ _id: -1 }).limit(1).next();
  }

  /**
   * Takes the lease when nobody holds it, the holder let it expire, or the
   * holder is this instance (a restart); every acquisition is a new epoch.
   */
  async tryAcquire(now = Date.now()): Promise<boolean> {
    const cur = await this.latest();
    if (cur && cur.holder !== this.holder && cur.expiresAt + this.margin > now) return false;
    const epoch = (cur?._id ?? 0) + 1;
    try {
      await this.col.insertOne({ _id: epoch, holder: this.holder, expiresAt: now + this.ttlMs, since: now });
    } catch (err) {
      if ((err as { code?: number }).code === 11000) return false; // another replica took this epoch first
      throw err;
    }
    this.epoch = epoch;
    this.validUntil = now + this.ttlMs;
    await this.col.deleteMany({ _id: { $lt: epoch - KEEP_EPOCHS } }).catch(() => undefined);
    return true;
  }

  /** Extends our lease; false when a newer epoch exists (someone took over). */
  async renew(now = Date.now()): Promise<boolean> {
    const cur = await this.latest();
    if (!cur || cur._id !== this.epoch || cur.holder !== this.holder) {
      this.validUntil = 0;
      return false;
    }
    await this.col.updateOne({ _id: this.epoch }, { $set: { expiresAt: now + this.ttlMs } });
    this.validUntil = now + this.ttlMs;
    return true;
  }

  /** Hands over at once (graceful stop): a standby need not wait for expiry. */
  async release(): Promise<void> {
    const cur = await this.latest();
    if (cur?._id === this.epoch && cur.holder === this.holder) {
      await this.col.updateOne({ _id: this.epoch }, { $set: { expiresAt: 0 } });
    }
    this.validUntil = 0;
  }

  /** Safe to act as leader: the lease is ours with a margin left. */
  valid(now = Date.now()): boolean {
    return now < this.validUntil - this.margin;
  }

  async current(): Promise<{ holder: string; expiresAt: number } | undefined> {
    const d = await this.latest();
    return d ? { holder: d.holder, expiresAt: d.expiresAt } : undefined;
  }
}
