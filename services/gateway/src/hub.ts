// The gateway's connected devices: accepting connections, binding them to a
// verified session, displacing an older connection of the same device (here
// or on another replica), presence, the per-device message feed, routing of
// stored messages and receipts to devices here and on other replicas, and the
// one sweep that does heartbeats and timeouts for every connection.
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { ITerminalInfo } from '../../../proto/gen/ts/messaging.tce.js';
import type { Presence, Receipt, SessionInfo } from '../../../proto/gen/ts/messaging.js';
import { PlatformError } from '../../runtime/src/errors.js';
import type { Logger } from '../../runtime/src/logger.js';
import {
  verifyAccessToken,
  type AccessClaims,
  type KeySet,
  type RevocationList,
  type RevocationRecord,
} from '../../tokens/src/index.js';
import { DeviceConnection, type ConnectionHooks, type ConnectionLimits, type Session } from './device-connection.js';
import { DeviceFeed, toMessage } from './device-feed.js';
import type { Dispatcher } from './dispatcher.js';
import { CloseCode } from './frame.js';
import type { GatewayRegistry } from './gateway-registry.js';
import { GroupFanout } from './group-fanout.js';
import { isGroupId, type GroupStore } from './group-store.js';
import type { InboxDoc, MessageStore } from './message-store.js';
import { MembershipClock } from './membership-clock.js';
import type { GatewayMetrics } from './metrics.js';
import type { Notice, Notifier } from './notices.js';
import { deviceKey, type PresenceDoc, type PresenceStore } from './presence-store.js';
import { presenceEvent, type PresenceWatch } from './presence-watch.js';
import type { CoalescingWriter } from './store-pacing.js';

export interface HubOptions {
  gatewayId: string;
  filesUrl: string;
  keys: KeySet;
  revocations: RevocationList;
  store: MessageStore;
  groups: GroupStore;
  presence: PresenceStore;
  watch: PresenceWatch;
  registry: GatewayRegistry;
  notifier: Notifier;
  logger: Logger;
  metrics: GatewayMetrics;
  limits: ConnectionLimits;
  /** Paces and coalesces delivery-cursor writes. */
  cursors: CoalescingWriter;
  /** A recipient's counter was read (the send pipeline reuses it). */
  counterSeen?(user: string, hint: number): void;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  loginTimeoutMs: number;
  pushTimeoutMs: number;
  pushWindow: number;
  gapTimeoutMs: number;
}

const TERMINAL = ITerminalInfo.fullName;
const M = ITerminalInfo.methods;
/**
 * How long a presence document read for routing is reused. Safe because every
 * device re-reads its inbox this long (plus a margin) after it connects: a
 * message routed by a stale view reaches the device by that read.
 */
export const ROUTE_CACHE_MS = 1000;
/**
 * How long a device's acks may wait before its cursor is written. Cursor
 * writes are one store write per active device per interval and competed with
 * storing sends (bench (b), 500 receivers: ~500 writes/s at 1 s). A crash
 * redelivers at most this much, which the device drops by sequence number.
 */
const CURSOR_DELAY_MS = 5000;
const RECHECK_MARGIN_MS = 250;
/** How long a new connection waits for its device's previous connection's cursor writes (see Hub.flushing). */
const FLUSH_WAIT_MS = 2000;
/** onMessage payloads by stored message, onMessages payloads by offered batch (see FeedDeps.push). */
const pushPayloads = new WeakMap<InboxDoc | readonly InboxDoc[], Uint8Array>();
const RECEIPT_CACHE_MS = 5000;

/** Messages grouped by recipient (user or group), in the order given: one array per feed offer. */
function byRecipient(docs: readonly InboxDoc[]): Map<string, InboxDoc[]> {
  const byTo = new Map<string, InboxDoc[]>();
  for (const d of docs) {
    const l = byTo.get(d.to);
    if (l) l.push(d);
    else byTo.set(d.to, [d]);
  }
  return byTo;
}

export class Hub {
  readonly connections = new Set<DeviceConnection>();
  private readonly byUser = new Map<string, DeviceConnection[]>();
  private readonly binding = new WeakMap<DeviceConnection, Promise<SessionInfo>>();
  /**
   * Per device ("user\ndevice"): the cursor writes of its connection that just
   * closed here. A new connection of the device waits for them (at most
   * FLUSH_WAIT_MS) before it reads its cursors, so a reconnect to the same
   * gateway — or a displacing one — starts after the last recorded ack
   * instead of pushing acked messages again.
   */
  private readonly flushing = new Map<string, Promise<void>>();
  private dispatcher: Dispatcher | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private shuttingDown = false;
  private routing: Promise<void> = Promise.resolve();
  private readonly routeCache = new Map<string, { at: number; doc: Promise<PresenceDoc | null> }>();
  /** Group fan-outs still offering (big groups are offered in chunks, group-fanout.ts). */
  private readonly fanouts = new Map<string, GroupFanout<DeviceConnection, InboxDoc>>();
  /** Connections here with a feed of each group. */
  private readonly byGroup = new Map<string, Set<DeviceConnection>>();
  /** Connections whose group memberships changed while connected (most never get one). */
  private readonly clocks = new WeakMap<DeviceConnection, MembershipClock>();
  /** Replicas holding members of a group, for routing (reused like presence, ROUTE_CACHE_MS). */
  private readonly groupRouteCache = new Map<string, { at: number; gws: Promise<string[]> }>();
  /** Groups this replica has registered itself for in gw_group_gateways. */
  private readonly registeredGroups = new Map<string, Promise<void>>();
  private readonly o: HubOptions;
  /** One hooks object for every connection (no closures per connection). */
  private readonly hooks: ConnectionHooks = {
    onCall: (c, f) => this.dispatcher?.handle(c, f),
    onClosed: (c, code, reason) => this.onClosed(c, code, reason),
    onProtocolError: (c, reason) =>
      this.o.logger.debug('Device sent a bad frame', { reason, peer: c.peer, user: c.userId }),
  };

  constructor(opts: HubOptions) {
    this.o = opts;
    opts.revocations.on('revoked', (r: RevocationRecord) => this.onRevoked(r));
  }

  setDispatcher(d: Dispatcher): void {
    this.dispatcher = d;
  }

  start(): void {
    const tick = Math.max(50, Math.min(1000, this.o.pingIntervalMs / 2, this.o.loginTimeoutMs / 2));
    this.sweepTimer = setInterval(() => this.sweep(), tick);
    this.sweepTimer.unref();
  }

  get size(): number {
    return this.connections.size;
  }

  /** A new WebSocket: optionally already authenticated by a token given at the upgrade. */
  accept(
    ws: WebSocket,
    socket: Duplex,
    peer: string,
    claims: AccessClaims | undefined,
    pushBatch = false,
  ): DeviceConnection {
    const conn = new DeviceConnection(ws, socket, peer, this.o.limits, this.hooks);
    conn.pushBatch = pushBatch;
    this.connections.add(conn);
    this.o.metrics.opened.inc();
    this.o.metrics.connections.set(this.connections.size);
    if (claims) {
      // A failure is logged, and the connection closed, by doBind.
      this.bindClaims(conn, claims).catch(() => undefined);
    }
    return conn;
  }

  /** Verifies an access token (signature, expiry, revocation); throws UNAUTHENTICATED with the reason. */
  verify(token: string): AccessClaims {
    const claims = verifyAccessToken(this.o.keys, token);
    if (this.o.revocations.isRevoked(claims)) throw new PlatformError('UNAUTHENTICATED', 'access token revoked');
    return claims;
  }

  /** ISession.authenticate, and logins over the connection: binds or renews. */
  authenticate(conn: DeviceConnection, token: string): Promise<SessionInfo> {
    return this.bindClaims(conn, this.verify(token));
  }

  /** The session info once binding (presence, cursor, feed) has finished. */
  async startedSession(conn: DeviceConnection): Promise<SessionInfo> {
    await this.binding.get(conn)?.catch(() => undefined);
    return this.sessionInfo(conn);
  }

  sessionInfo(conn: DeviceConnection): SessionInfo {
    const s = conn.session;
    if (!s) throw new PlatformError('UNAUTHENTICATED', 'login required');
    const feed = conn.feed;
    return {
      user_id: s.userId,
      device_id: s.deviceId,
      username: s.username,
      expires_at: s.expiresAt,
      gateway_id: this.o.gatewayId,
      files_url: this.o.filesUrl,
      acked_seq: feed?.acked ?? 0,
    };
  }

  private async bindClaims(conn: DeviceConnection, claims: AccessClaims): Promise<SessionInfo> {
    const prev = this.binding.get(conn);
    if (prev) await prev.catch(() => undefined);
    const p = this.doBind(conn, claims);
    this.binding.set(conn, p);
    return p;
  }

  private async doBind(conn: DeviceConnection, claims: AccessClaims): Promise<SessionInfo> {
    if (conn.closed) throw new PlatformError('UNAVAILABLE', 'connection closed');
    const session: Session = {
      userId: claims.sub,
      deviceId: claims.did || 'default',
      username: claims.name,
      sid: claims.sid,
      iat: claims.iat,
      expiresAt: claims.exp * 1000,
    };
    const cur = conn.session;
    if (cur) {
      if (cur.userId !== session.userId || cur.deviceId !== session.deviceId) {
        throw new PlatformError(
          'FAILED_PRECONDITION',
          'this connection belongs to another user or device; open a new connection to log in as someone else',
        );
      }
      conn.session = session; // renewal: new expiry and session
      return this.sessionInfo(conn);
    }
    conn.session = session;
    try {
      return await this.startSession(conn, session);
    } catch (err) {
      // Half a session (no feeds started, groups missing) would never deliver,
      // and a retried authenticate only renews: the device reconnects instead.
      this.o.logger.warn('Failed to start a session', { err, user: session.userId });
      conn.close(CloseCode.INTERNAL_ERROR, 'could not start the session');
      throw err;
    }
  }

  /** Presence, cursors and feeds of a connection just bound to `session`. */
  private async startSession(conn: DeviceConnection, session: Session): Promise<SessionInfo> {
    this.o.metrics.sessions.inc();
    const list = this.byUser.get(session.userId) ?? [];
    // A second connection of the same device displaces the first (here).
    for (const other of list.filter((c) => c.session?.deviceId === session.deviceId && c !== conn)) {
      this.kick(other, 'replaced by a newer connection of the same device');
    }
    list.push(conn);
    this.byUser.set(session.userId, list);
    // Presence first, then the catch-up read: a sender stores, then reads
    // presence; we write presence, then read the store — one of us sees the other.
    const previous = await this.o.presence.register(session.userId, {
      d: session.deviceId,
      g: this.o.gatewayId,
      i: this.o.registry.incarnation,
      c: conn.id,
      t: conn.openedAt,
    });
    const key = deviceKey(session.deviceId);
    const before = previous?.devices?.[key];
    const wasOnline = Object.entries(previous?.devices ?? {}).some(
      ([k, e]) => k !== key && this.o.registry.isAlive(e.g, e.i, e.t),
    );
    if (!wasOnline) this.announce(session.userId, true);
    if (
      before &&
      before.c !== conn.id &&
      before.g !== this.o.gatewayId &&
      this.o.registry.mayHold(before.g, before.i, before.t)
    ) {
      this.o.notifier.send(before.g, {
        t: 'kick',
        user: session.userId,
        device: session.deviceId,
        conn: before.c,
        at: conn.openedAt,
      });
      this.o.metrics.notices.inc({ direction: 'out', type: 'kick' });
    }
    if (conn.closed) {
      // Gone while we registered: onClosed may have run before our entry existed.
      await this.o.presence.unregister(session.userId, session.deviceId, conn.id);
      return this.sessionInfo(conn);
    }
    const flushKey = `${session.userId}\n${session.deviceId}`;
    const flush = this.flushing.get(flushKey);
    if (flush) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([flush, new Promise<void>((r) => (timer = setTimeout(r, FLUSH_WAIT_MS)))]);
      clearTimeout(timer);
    }
    const cursor = await this.o.store.getCursor(session.userId, session.deviceId);
    const feed = this.newFeed(conn, session.userId, session.deviceId, cursor);
    if (conn.closed) {
      await feed.stop();
      return this.sessionInfo(conn);
    }
    conn.feed = feed;
    // Stamped before the read: a leave that arrives while the feeds open must win.
    const stamp = this.clocks.get(conn)?.stamp() ?? MembershipClock.START;
    const memberships = await this.o.groups.groupsOf(session.userId);
    await Promise.all(memberships.map((m) => this.openGroupFeed(conn, m.g, m.since, stamp)));
    // Pushes begin after the answer to authenticate or a login has gone out
    // (it is sent in this promise's continuation, before any setImmediate):
    // the device first learns where they start (acked_seq), as docs/protocol.md says.
    // Group feeds opened meanwhile (a join during the login) wait for this too.
    setImmediate(() => {
      if (conn.closed) return;
      conn.pushing = true;
      conn.feed?.start();
      for (const f of conn.groupFeeds?.values() ?? []) f.start();
    });
    // Senders may route by a presence (or group) view up to ROUTE_CACHE_MS old
    // that does not show this connection yet: read once more after that.
    setTimeout(() => {
      if (conn.closed) return;
      feed.recheck();
      for (const f of conn.groupFeeds?.values() ?? []) f.recheck();
    }, ROUTE_CACHE_MS + RECHECK_MARGIN_MS).unref();
    return this.sessionInfo(conn);
  }

  /**
   * A feed of one stream for this connection: the user's inbox, or a group's
   * messages (`cursorKey` then names the device within the group's cursors).
   */
  private newFeed(conn: DeviceConnection, stream: string, cursorKey: string, cursor: number): DeviceFeed {
    const group = isGroupId(stream);
    return new DeviceFeed(stream, cursorKey, cursor, {
      store: this.o.store,
      logger: this.o.logger,
      window: this.o.pushWindow,
      maxBatch: conn.pushBatch ? this.o.pushWindow : 1,
      gapTimeoutMs: this.o.gapTimeoutMs,
      cursors: this.o.cursors,
      cursorDelayMs: CURSOR_DELAY_MS,
      counterSeen: this.o.counterSeen,
      push: async (docs) => {
        this.o.metrics.pushed.inc();
        // A group message (or batch) goes to every member's devices here: encode it once.
        const [first] = docs;
        const single = docs.length === 1 ? first! : undefined;
        const method = single ? M.onMessage! : M.onMessages!;
        const key = single ?? docs;
        let payload = pushPayloads.get(key);
        if (!payload) {
          const request = single ? { msg: toMessage(single) } : { msgs: docs.map(toMessage) };
          pushPayloads.set(key, (payload = method.request.encode(request).finish()));
        }
        await conn.call(TERMINAL, method, payload, this.o.pushTimeoutMs);
      },
      reset: async (first) => {
        // onReset speaks of the user's inbox; for a group the device just continues after the deleted part.
        if (group) return;
        await conn.call(
          TERMINAL,
          M.onReset!,
          M.onReset!.request.encode({ first_available_seq: first }).finish(),
          this.o.pushTimeoutMs,
        );
      },
      delivered: (doc) => {
        this.o.metrics.delivered.inc();
        // No receipts for group messages: one per member per message is a storm, not a signal.
        if (!group) this.routeReceipt(doc);
      },
      failed: (err) => {
        if (conn.closed) return;
        const msg = err instanceof PlatformError ? err.message : 'error';
        conn.close(CloseCode.DELIVERY_FAILED, `delivery failed: ${msg}`.slice(0, 120));
      },
    });
  }

  /**
   * Opens the group's feed for this connection, after the device's cursor (or
   * `since`, when it joined); started at once when the connection's feeds may push already.
   */
  private async openGroupFeed(conn: DeviceConnection, group: string, since: number, stamp: number): Promise<void> {
    const s = conn.session;
    if (!s || conn.closed || conn.groupFeeds?.has(group)) return;
    // Registered before the read, as presence is: a sender stores, then looks up the group's replicas.
    await this.registerForGroup(group);
    const key = `${s.userId}\n${s.deviceId}`;
    const cursor = Math.max(since, await this.o.store.getCursor(group, key));
    if (conn.closed || conn.groupFeeds?.has(group)) return;
    // A join or leave of this group arrived meanwhile: it decides, not this opening.
    if (!(this.clocks.get(conn)?.current(group, stamp) ?? true)) return;
    const feed = this.newFeed(conn, group, key, cursor);
    (conn.groupFeeds ??= new Map()).set(group, feed);
    let set = this.byGroup.get(group);
    if (!set) this.byGroup.set(group, (set = new Set()));
    set.add(conn);
    if (conn.pushing) feed.start();
  }

  private closeGroupFeed(conn: DeviceConnection, group: string): Promise<void> {
    const feed = conn.groupFeeds?.get(group);
    if (!feed) return Promise.resolve();
    conn.groupFeeds!.delete(group);
    const set = this.byGroup.get(group);
    set?.delete(conn);
    if (set?.size === 0) this.byGroup.delete(group);
    return feed.stop();
  }

  private registerForGroup(group: string): Promise<void> {
    let p = this.registeredGroups.get(group);
    if (!p) {
      p = this.o.groups.registerGateway(group, this.o.gatewayId);
      this.registeredGroups.set(group, p);
      p.catch(() => this.registeredGroups.delete(group));
    }
    return p;
  }

  /** Users joined or left a group: their devices here and on other replicas open or close its feed. */
  membershipChanged(users: readonly string[], group: string, joined: boolean, since: number): void {
    if (users.length === 0) return;
    for (const u of users) this.applyMembership(u, group, joined, since);
    // A fresh look (one query for all), not the routing cache: unlike a missed
    // message push, a missed feed opening is not repaired by a later read.
    this.o.presence.getMany(users).then(
      (docs) => {
        for (const user of users) {
          for (const g of this.remoteGateways(docs.get(user) ?? null)) {
            this.o.notifier.send(g, { t: 'member', user, group, joined, since });
            this.o.metrics.notices.inc({ direction: 'out', type: 'member' });
          }
        }
      },
      (err: unknown) => this.o.logger.warn('Membership change not routed', { err, users: users.length, group }),
    );
  }

  private applyMembership(user: string, group: string, joined: boolean, since: number): void {
    for (const c of this.byUser.get(user) ?? []) {
      let clock = this.clocks.get(c);
      if (!clock) this.clocks.set(c, (clock = new MembershipClock()));
      const stamp = clock.change(group);
      const p = joined ? this.openGroupFeed(c, group, since, stamp) : this.closeGroupFeed(c, group);
      p.catch((err: unknown) => {
        this.o.logger.warn('Failed to open or close a group feed', { err, user, group });
        if (joined && !c.closed) c.close(CloseCode.INTERNAL_ERROR, 'could not start a group feed');
      });
    }
  }

  /** Tells the device why (oneway onKicked), then closes with 4001. */
  private kick(conn: DeviceConnection, reason: string): void {
    if (conn.closed) return;
    conn.callOneway(TERMINAL, M.onKicked!, M.onKicked!.request.encode({ reason }).finish());
    conn.close(CloseCode.DISPLACED, reason);
  }

  private onClosed(conn: DeviceConnection, code: number, reason: string): void {
    this.connections.delete(conn);
    this.o.watch.forget(conn);
    this.o.metrics.connections.set(this.connections.size);
    this.o.metrics.closed.inc({ code: String(code) });
    const s = conn.session;
    if (!s) return;
    this.o.metrics.sessions.dec();
    const list = this.byUser.get(s.userId);
    if (list) {
      const rest = list.filter((c) => c !== conn);
      if (rest.length) this.byUser.set(s.userId, rest);
      else this.byUser.delete(s.userId);
    }
    this.o.logger.debug('Device disconnected', { user: s.userId, device: s.deviceId, code, reason });
    const feed = conn.feed;
    const groupStops = [...(conn.groupFeeds?.keys() ?? [])].map((g) => this.closeGroupFeed(conn, g));
    const key = `${s.userId}\n${s.deviceId}`;
    const stops = Promise.all([feed?.stop(), ...groupStops]);
    // Settled either way: a failed cursor write is logged by the writer, and the next connection reads what is there.
    const flushed = stops.then(
      () => undefined,
      () => undefined,
    );
    this.flushing.set(key, flushed);
    void flushed.then(() => {
      if (this.flushing.get(key) === flushed) this.flushing.delete(key);
    });
    void (async () => {
      await stops;
      // On shutdown our liveness record goes away instead: one write, not one per device.
      if (this.shuttingDown) return;
      await this.o.presence.unregister(s.userId, s.deviceId, conn.id);
      await this.announceIfOffline([s.userId]);
    })().catch((err: unknown) => this.o.logger.warn('Failed to record a disconnect', { err, user: s.userId }));
  }

  // ------------------------------------------------------------------ routing

  /** Newly stored messages: to the recipients' devices here, and via notices to other replicas. */
  routeMessages(docs: InboxDoc[]): void {
    const byTo = byRecipient(docs);
    for (const [to, list] of byTo) this.offerLocal(to, list);
    // Batches are routed one after another so notices leave in sequence order
    // (a feed that sees a later number first goes to the store for the gap).
    const presence = this.presenceForRoutingMany([...byTo.keys()].filter((to) => !isGroupId(to)));
    const lookups = [...byTo.keys()].map((to) =>
      isGroupId(to) ? this.groupGatewaysForRouting(to) : presence.get(to)!.then((p) => this.remoteGateways(p)),
    );
    this.routing = this.routing
      .then(async () => {
        const results = await Promise.allSettled(lookups);
        const perGateway = new Map<string, InboxDoc[]>();
        [...byTo].forEach(([to, list], i) => {
          const r = results[i]!;
          if (r.status === 'rejected') {
            this.o.logger.warn('Presence lookup failed; the recipient gets the message on its next read', {
              err: r.reason,
              user: to,
            });
            return;
          }
          for (const g of r.value) perGateway.set(g, [...(perGateway.get(g) ?? []), ...list]);
        });
        for (const [g, list] of perGateway) {
          this.o.notifier.send(g, { t: 'msgs', docs: list });
          this.o.metrics.notices.inc({ direction: 'out', type: 'msgs' });
        }
      })
      // One failed batch must not stop the routing of the next ones.
      .catch((err: unknown) => this.o.logger.warn('Failed to route stored messages', { err }));
  }

  private offerLocal(to: string, docs: InboxDoc[]): void {
    if (isGroupId(to)) {
      const set = this.byGroup.get(to);
      if (!set || set.size === 0) return;
      let f = this.fanouts.get(to);
      if (!f) {
        f = new GroupFanout<DeviceConnection, InboxDoc>(
          (c, list) => c.groupFeeds?.get(to)?.offerMany(list),
          () => this.fanouts.delete(to),
          (c) => !c.closed && (c.groupFeeds?.has(to) ?? false),
        );
        this.fanouts.set(to, f);
      }
      f.add(docs, [...set]);
      return;
    }
    for (const c of this.byUser.get(to) ?? []) c.feed?.offerMany(docs);
  }

  /** Other live replicas registered for a group, reused for ROUTE_CACHE_MS (as presence is). */
  private groupGatewaysForRouting(group: string): Promise<Set<string>> {
    const now = Date.now();
    let hit = this.groupRouteCache.get(group);
    if (!hit || now - hit.at >= ROUTE_CACHE_MS) {
      if (this.groupRouteCache.size >= 10_000) this.groupRouteCache.clear();
      hit = { at: now, gws: this.o.groups.gatewaysOf(group) };
      this.groupRouteCache.set(group, hit);
      hit.gws.catch(() => this.groupRouteCache.delete(group));
    }
    return hit.gws.then((gws) => new Set(gws.filter((g) => g !== this.o.gatewayId && this.o.registry.isAliveId(g))));
  }

  /** Other live replicas holding a device of this user. */
  private remoteGateways(doc: PresenceDoc | null): Set<string> {
    const out = new Set<string>();
    for (const e of Object.values(doc?.devices ?? {})) {
      if (e.g !== this.o.gatewayId && this.o.registry.mayHold(e.g, e.i, e.t)) out.add(e.g);
    }
    return out;
  }

  /** presenceForRouting for a batch: the users not in the cache are read with one query. */
  private presenceForRoutingMany(users: readonly string[]): Map<string, Promise<PresenceDoc | null>> {
    const now = Date.now();
    const out = new Map<string, Promise<PresenceDoc | null>>();
    const missing: string[] = [];
    for (const u of users) {
      const hit = this.routeCache.get(u);
      if (hit && now - hit.at < ROUTE_CACHE_MS) out.set(u, hit.doc);
      else missing.push(u);
    }
    if (missing.length <= 1) {
      for (const u of missing) out.set(u, this.presenceForRouting(u));
      return out;
    }
    this.trimRouteCache(now, missing.length);
    const batch = this.o.presence.getMany(missing);
    for (const u of missing) {
      const doc = batch.then((m) => m.get(u) ?? null);
      this.routeCache.set(u, { at: now, doc });
      doc.catch(() => this.routeCache.delete(u));
      out.set(u, doc);
    }
    return out;
  }

  private trimRouteCache(now: number, adding: number): void {
    if (this.routeCache.size + adding < 100_000) return;
    for (const [k, v] of this.routeCache) if (now - v.at >= ROUTE_CACHE_MS) this.routeCache.delete(k);
    if (this.routeCache.size + adding >= 100_000) this.routeCache.clear();
  }

  /** The user's presence document for routing, reused for ROUTE_CACHE_MS (see there why that is safe). */
  private presenceForRouting(user: string, ttlMs = ROUTE_CACHE_MS): Promise<PresenceDoc | null> {
    const now = Date.now();
    const hit = this.routeCache.get(user);
    if (hit && now - hit.at < ttlMs) return hit.doc;
    this.trimRouteCache(now, 1);
    const doc = this.o.presence.get(user);
    this.routeCache.set(user, { at: now, doc });
    doc.catch(() => this.routeCache.delete(user));
    return doc;
  }

  private routeReceipt(doc: InboxDoc): void {
    if (!doc.from) return;
    const receipt: Receipt = { msg_id: doc.msgId, by_user: doc.to, state: 'delivered', at: Date.now() };
    this.deliverReceipts(doc.from, [receipt]);
    // Receipts are advisory: a staler view of the sender's devices is fine.
    this.presenceForRouting(doc.from, RECEIPT_CACHE_MS).then(
      (p) => {
        for (const g of this.remoteGateways(p)) {
          this.o.notifier.send(g, { t: 'receipts', items: [{ user: doc.from, receipt }] });
          this.o.metrics.notices.inc({ direction: 'out', type: 'receipts' });
        }
      },
      (err: unknown) => this.o.logger.debug('Receipt not routed', { err }),
    );
  }

  private deliverReceipts(user: string, receipts: Receipt[]): void {
    for (const c of this.byUser.get(user) ?? []) {
      for (const receipt of receipts)
        c.callOneway(TERMINAL, M.onReceipt!, M.onReceipt!.request.encode({ receipt }).finish());
    }
  }

  /** Notices from other replicas (mq). */
  onNotices(notices: Notice[]): void {
    for (const n of notices) {
      this.o.metrics.notices.inc({ direction: 'in', type: n.t });
      switch (n.t) {
        case 'msgs': {
          for (const [to, docs] of byRecipient(n.docs)) this.offerLocal(to, docs);
          break;
        }
        case 'receipts':
          for (const it of n.items) this.deliverReceipts(it.user, [it.receipt]);
          break;
        case 'kick':
          for (const c of this.byUser.get(n.user) ?? []) {
            if (c.session?.deviceId === n.device && c.id === n.conn) {
              this.kick(c, 'replaced by a newer connection of the same device');
            }
          }
          break;
        case 'presence':
          for (const ev of n.items) this.deliverPresence(ev);
          break;
        case 'member':
          this.applyMembership(n.user, n.group, n.joined, n.since);
          break;
      }
    }
  }

  /** Notices may have been lost (mq reconnect): every feed re-reads the store once. */
  resync(): void {
    for (const c of this.connections) {
      c.feed?.poke();
      for (const f of c.groupFeeds?.values() ?? []) f.poke();
    }
  }

  // ------------------------------------------------------------------ presence

  /** A user came online (first device) or went offline (last device): tell the watchers, here and elsewhere. */
  private announce(user: string, online: boolean): void {
    const ev = presenceEvent(user, online);
    this.deliverPresence(ev);
    this.o.watch.gatewaysWatching(user).then(
      (gws) => {
        for (const g of gws) {
          if (!this.o.registry.isAliveId(g)) continue;
          this.o.notifier.send(g, { t: 'presence', items: [ev] });
          this.o.metrics.notices.inc({ direction: 'out', type: 'presence' });
        }
      },
      (err: unknown) => this.o.logger.debug('Presence event not routed', { err, user }),
    );
  }

  /** After devices went away: users with no live device left are announced offline. */
  async announceIfOffline(users: readonly string[]): Promise<void> {
    for (const u of users) {
      const doc = await this.o.presence.get(u);
      const online = Object.values(doc?.devices ?? {}).some((e) => this.o.registry.isAlive(e.g, e.i, e.t));
      if (!online) this.announce(u, false);
    }
  }

  private deliverPresence(ev: Presence): void {
    for (const c of this.o.watch.local(ev.user_id)) {
      c.callOneway(TERMINAL, M.onPresence!, M.onPresence!.request.encode({ presence: ev }).finish());
    }
  }

  /** Answers a presence query and subscribes the asking connection to changes of those users. */
  async presenceOf(userIds: readonly string[], conn?: DeviceConnection): Promise<Presence[]> {
    if (conn) await this.o.watch.watch(conn, userIds);
    const now = Date.now();
    const docs = await Promise.all(userIds.map((u) => this.o.presence.get(u)));
    return userIds.map((user_id, i) => {
      const doc = docs[i];
      const entries = Object.values(doc?.devices ?? {});
      const online = entries.some((e) => this.o.registry.isAlive(e.g, e.i, e.t));
      const lastSeen = Math.max(doc?.lastSeen ?? 0, ...entries.map((e) => e.t));
      return { user_id, online, last_seen: online ? now : lastSeen };
    });
  }

  /** Whether this replica holds a device connection of the user (tests, metrics). */
  localDevices(user: string): string[] {
    return (this.byUser.get(user) ?? []).map((c) => c.session!.deviceId);
  }

  // ------------------------------------------------------------------ revocation, sweep, shutdown

  private onRevoked(r: RevocationRecord): void {
    const [kind, id] = [r._id.slice(0, r._id.indexOf(':')), r._id.slice(r._id.indexOf(':') + 1)];
    const victims: DeviceConnection[] = [];
    if (kind === 'user') victims.push(...(this.byUser.get(id) ?? []));
    else if (kind === 'session') for (const c of this.connections) if (c.session?.sid === id) victims.push(c);
    for (const c of victims) {
      const s = c.session!;
      if (this.o.revocations.isRevoked({ sub: s.userId, sid: s.sid, iat: s.iat })) {
        c.close(CloseCode.TOKEN_REVOKED, 'access token revoked');
      }
    }
  }

  /** Heartbeats and timeouts for every connection, in one pass. */
  private sweep(): void {
    const now = Date.now();
    for (const c of this.connections) {
      if (c.closed) continue;
      const s = c.session;
      if (!s) {
        if (now - c.openedAt > this.o.loginTimeoutMs) c.close(CloseCode.LOGIN_TIMEOUT, 'not authenticated in time');
        continue;
      }
      if (now >= s.expiresAt) {
        c.close(
          CloseCode.TOKEN_EXPIRED,
          'access token expired; renew it with ISession.authenticate or IAuthServer.refresh',
        );
        continue;
      }
      const silent = now - c.lastSeen;
      if (silent > this.o.idleTimeoutMs) c.terminate(CloseCode.IDLE_TIMEOUT, 'no heartbeat');
      else if (silent > this.o.pingIntervalMs && !c.pingOutstanding) c.ping();
    }
    // Unauthenticated connections do not answer pings any differently: the login timeout covers them.
  }

  /** Closes every connection (1001) and stops the feeds (cursors persisted). */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    clearInterval(this.sweepTimer);
    const feeds: Promise<void>[] = [];
    for (const c of [...this.connections]) {
      const feed = c.feed;
      if (feed) feeds.push(feed.stop());
      for (const f of c.groupFeeds?.values() ?? []) feeds.push(f.stop());
      c.close(CloseCode.GOING_AWAY, 'gateway shutting down', 1000);
    }
    await Promise.all(feeds);
  }
}

export { deviceKey };
