// Presence: which gateway holds which device of a user. One document per user
// (found by a point read on every send), one entry per device naming the
// gateway, the gateway's incarnation and the connection. An entry counts only
// while its gateway incarnation is alive (gateway-registry.ts), so a crashed
// gateway's devices read as offline as soon as its liveness lapses, and the
// sweeper removes the entries later.
//
// FerretDB applies updates to one document without isolation, so two devices
// of one user connecting at once through two gateways could lose one entry.
// Every writer therefore reads its entry back and repeats its write until it
// sees it (each writer checks its own change, so all converge).
import type { Collection, Db } from 'mongodb';
import type { Logger } from '../../runtime/src/logger.js';
import { BatchedInsert } from './batched-insert.js';
import { findByIds, insertManyOutcomes, isDuplicateKey } from './message-store.js';
import { storePace, type StorePace } from './store-pacing.js';

export interface PresenceEntry {
  /** Device id. */
  d: string;
  /** Gateway id and incarnation. */
  g: string;
  i: string;
  /** Connection id (a newer connection of the same device replaces the entry). */
  c: string;
  /** Connected at (ms). */
  t: number;
}

export interface PresenceDoc {
  _id: string;
  devices: Record<string, PresenceEntry>;
  /** When the user's last device went away (ms). */
  lastSeen?: number;
}

export const PRESENCE_COLLECTION = 'gw_presence';

/** Device ids become field names: keep them free of '.', '$' and other path syntax. */
export function deviceKey(deviceId: string): string {
  return `d${Buffer.from(deviceId, 'utf8').toString('base64url')}`;
}

const MAX_TRIES = 8;

export class PresenceStore {
  readonly col: Collection<PresenceDoc>;
  /** First registrations of concurrent session starts share one insertMany. */
  private readonly firstInserts: BatchedInsert<PresenceDoc>;

  constructor(
    db: Db,
    private readonly logger: Logger,
    private readonly pace: StorePace = storePace(),
  ) {
    this.col = db.collection<PresenceDoc>(PRESENCE_COLLECTION);
    this.firstInserts = new BatchedInsert((docs) => pace.writes.run(() => insertManyOutcomes(this.col, docs), true));
  }

  get(user: string): Promise<PresenceDoc | null> {
    return this.pace.reads.run(() => this.col.findOne({ _id: user }));
  }

  /** Several users' documents in `$in` reads instead of one read per user (findByIds). */
  async getMany(users: readonly string[]): Promise<Map<string, PresenceDoc>> {
    return new Map((await findByIds(this.col, users, this.pace.reads)).map((d) => [d._id, d]));
  }

  /**
   * Records that `entry.d` of `user` is connected through `entry.g`; returns
   * the document as it was before (the entry it replaced, the user's other devices).
   */
  async register(user: string, entry: PresenceEntry): Promise<PresenceDoc | null> {
    const key = deviceKey(entry.d);
    // Insert first: a user's first device is one write instead of a read and a write.
    // (Chosen when FerretDB's SQLite backend scanned for a missing `_id` — 47 ms at 10k
    // users against 1.8 ms for a duplicate-key insert; docs/adr/0003 indexes the read now.)
    if (await this.firstInserts.insert({ _id: user, devices: { [key]: entry } })) return null;
    const before = await this.get(user);
    for (let i = 0; i < MAX_TRIES; i++) {
      try {
        await this.pace.writes.run(
          () => this.col.updateOne({ _id: user }, { $set: { [`devices.${key}`]: entry } }, { upsert: true }),
          true,
        );
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        continue; // two first-time upserts raced: the document exists now
      }
      const now = (await this.get(user))?.devices?.[key];
      if (now && now.c === entry.c) return before;
      // A newer connection of the same device won: fine, it owns the entry.
      if (now && now.t > entry.t) return before;
    }
    this.logger.warn('Could not confirm a presence entry', { user });
    return before;
  }

  /** Removes the device's entry if it still names this connection. */
  async unregister(user: string, deviceId: string, connId: string, now = Date.now()): Promise<void> {
    const key = deviceKey(deviceId);
    for (let i = 0; i < MAX_TRIES; i++) {
      if (!(await this.removeIfOwned(user, key, connId, now))) return;
      const e = (await this.get(user))?.devices?.[key];
      if (!e || e.c !== connId) return;
    }
    this.logger.warn('Could not confirm a presence removal', { user });
  }

  /**
   * Removes the entry if it still names `connId`: read and write back to back in
   * one write slot, filtering by `_id` only — FerretDB scans the whole
   * collection for an update filtered on other fields, and does not isolate
   * updates anyway, so a condition in the filter would buy nothing.
   */
  private removeIfOwned(user: string, key: string, connId: string, now: number, max = false): Promise<boolean> {
    return this.pace.writes.run(async () => {
      const doc = await this.col.findOne({ _id: user });
      if (doc?.devices?.[key]?.c !== connId) return false;
      const stamp = max ? { $max: { lastSeen: now } } : { $set: { lastSeen: now } };
      await this.col.updateOne({ _id: user }, { $unset: { [`devices.${key}`]: '' }, ...stamp }, { upsert: true });
      return true;
    });
  }

  /**
   * Removes every entry whose gateway incarnation is not alive. Scans the
   * collection (not a hot path: runs on the sweeper when a gateway died).
   */
  async sweep(
    isAlive: (g: string, i: string, t: number) => boolean,
    now = Date.now(),
  ): Promise<{ removed: number; users: string[] }> {
    let removed = 0;
    const users: string[] = [];
    for await (const doc of this.col.find({})) {
      const dead = Object.entries(doc.devices ?? {}).filter(([, e]) => !isAlive(e.g, e.i, e.t));
      for (const [key, e] of dead) {
        if (await this.removeIfOwned(doc._id, key, e.c, now, true)) removed++;
      }
      if (dead.length > 0) users.push(doc._id);
    }
    return { removed, users };
  }
}
