// Online/offline events for contacts. A device that asks presence(user_ids)
// watches those users for the life of its connection: when one of them comes
// online (first device) or goes offline (last device), it gets
// ITerminal.onPresence. Across replicas, each watched user has one document
// naming the gateways with watchers (and until when); the gateway that sees the
// change notifies exactly those gateways through their mq topics — never all.
import type { Collection, Db } from 'mongodb';
import type { Presence } from '../../../proto/gen/ts/messaging.js';
import type { Logger } from '../../runtime/src/logger.js';
import type { DeviceConnection } from './device-connection.js';
import { isDuplicateKey } from './message-store.js';
import { storePace, type StorePace } from './store-pacing.js';

export interface WatchDoc {
  _id: string;
  /** gateway id → ms until which it has watchers (renewed while they last). */
  gws: Record<string, number>;
}

export const WATCH_COLLECTION = 'gw_presence_watch';
/** Users one connection may watch. */
export const MAX_WATCHED_PER_CONNECTION = 500;
const WATCH_TTL_MS = 10 * 60_000;

/** Gateway ids become field names: base64url keeps them free of path syntax. */
const gwKey = (id: string): string => `g${Buffer.from(id, 'utf8').toString('base64url')}`;
const gwOf = (key: string): string => Buffer.from(key.slice(1), 'base64url').toString('utf8');

export class PresenceWatch {
  private readonly col: Collection<WatchDoc>;
  private readonly watchers = new Map<string, Set<DeviceConnection>>();
  private readonly byConn = new WeakMap<DeviceConnection, Set<string>>();
  /** When we last registered interest in a user (renewed at half the TTL). */
  private readonly registered = new Map<string, number>();

  constructor(
    db: Db,
    private readonly gatewayId: string,
    private readonly logger: Logger,
    private readonly pace: StorePace = storePace(),
  ) {
    this.col = db.collection<WatchDoc>(WATCH_COLLECTION);
  }

  /** `conn` watches these users from now on. */
  async watch(conn: DeviceConnection, users: readonly string[], now = Date.now()): Promise<void> {
    let mine = this.byConn.get(conn);
    if (!mine) this.byConn.set(conn, (mine = new Set()));
    const fresh: string[] = [];
    for (const u of users) {
      if (mine.has(u) || mine.size >= MAX_WATCHED_PER_CONNECTION) continue;
      mine.add(u);
      let set = this.watchers.get(u);
      if (!set) this.watchers.set(u, (set = new Set()));
      set.add(conn);
      if ((this.registered.get(u) ?? 0) < now - WATCH_TTL_MS / 2) fresh.push(u);
    }
    await Promise.all(fresh.map((u) => this.register(u, now)));
  }

  /** The connection is gone. */
  forget(conn: DeviceConnection): void {
    for (const u of this.byConn.get(conn) ?? []) {
      const set = this.watchers.get(u);
      set?.delete(conn);
      if (set?.size === 0) this.watchers.delete(u);
    }
    this.byConn.delete(conn);
  }

  /** Local connections watching a user. */
  local(user: string): DeviceConnection[] {
    return [...(this.watchers.get(user) ?? [])].filter((c) => !c.closed);
  }

  /** Gateways (other than us) with watchers of `user`, and whether we have any. */
  async gatewaysWatching(user: string, now = Date.now()): Promise<string[]> {
    const doc = await this.pace.reads.run(() => this.col.findOne({ _id: user }));
    return Object.entries(doc?.gws ?? {})
      .filter(([, until]) => until > now)
      .map(([k]) => gwOf(k))
      .filter((g) => g !== this.gatewayId);
  }

  /** Renews our interest in every user still watched here (called periodically). */
  async renew(now = Date.now()): Promise<void> {
    for (const u of this.watchers.keys()) {
      if ((this.registered.get(u) ?? 0) < now - WATCH_TTL_MS / 2) await this.register(u, now);
    }
    for (const [u, at] of this.registered)
      if (!this.watchers.has(u) && at < now - WATCH_TTL_MS) this.registered.delete(u);
  }

  private async register(user: string, now: number): Promise<void> {
    const field = `gws.${gwKey(this.gatewayId)}`;
    const until = now + WATCH_TTL_MS;
    // Updates of one document are not isolated on FerretDB: write, read back, repeat until ours is there.
    for (let i = 0; i < 8; i++) {
      try {
        await this.pace.writes.run(() =>
          this.col.updateOne({ _id: user }, { $set: { [field]: until } }, { upsert: true }),
        );
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        continue;
      }
      const doc = await this.pace.reads.run(() => this.col.findOne({ _id: user }));
      if ((doc?.gws?.[gwKey(this.gatewayId)] ?? 0) >= until) {
        this.registered.set(user, now);
        return;
      }
    }
    this.logger.warn('Could not confirm a presence watch', { user });
  }
}

/** What a presence change looks like to watchers. */
export function presenceEvent(user: string, online: boolean, now = Date.now()): Presence {
  return { user_id: user, online, last_seen: now };
}
