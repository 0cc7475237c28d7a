// The unit that receives a query coordinates it: the map step runs on every
// unit of the group (this one locally, the others over gRPC) under one
// deadline, the reduce step merges the partials. A unit that does not answer
// in time leaves its partitions missing, and the result says so (partial:
// true + the partitions) — never silently incomplete. Concurrent nearby
// queries share their map calls (one per unit per batch: nearbyMany).
//
// latest(user_ids) needs no fan-out: the user's partition is known, so the
// call goes to the partition's owner, found in an ownership table built from
// every unit's state(), refreshed every 5 s and when an owner turns out to
// have moved. Every step waits at most until the query's deadline, listing
// the units included.
import { CallBatcher } from '../../runtime/src/call-batcher.js';
import { PlatformError } from '../../runtime/src/errors.js';
import type { Logger } from '../../runtime/src/logger.js';
import type { Rect } from './geometry.js';
import type { PeerPool } from './peer-pool.js';
import { byDistance, byUserId, reduce, type Hit, type MapResult, type QueryResult } from './reduce.js';

/** This unit's own map functions (no network). */
export interface LocalUnit {
  addr: string;
  mapNearby(lon: number, lat: number, radiusM: number, limit: number, now: number): MapResult;
  mapWithin(rect: Rect, limit: number, now: number): MapResult;
  mapLatest(userIds: readonly string[]): MapResult;
  ready(): number[];
}

/** One query of nearbyMany, already validated (limit resolved). */
export interface NearbyQuery {
  lon: number;
  lat: number;
  radius_m: number;
  limit: number;
}

/** The gRPC addresses of every unit of the group (this one included). */
export interface Directory {
  members(): Promise<string[]>;
}

export interface CoordinatorOptions {
  partitions: number;
  partitionOf: (userId: string) => number;
  logger: Logger;
  /** Called with the partitions missing from an answer (metrics). */
  onPartial?: (query: string, missing: number[]) => void;
}

const ALL = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export class Coordinator {
  private owners = new Map<number, string>();
  private ownersAt = 0;
  /**
   * Single nearby queries arriving together (the same event-loop turn, or
   * while four batches are out) run as one nearbyMany: with several units each
   * query would otherwise cost one gRPC map call per unit.
   */
  private readonly batched = new CallBatcher<{ query: NearbyQuery; deadline: number }, QueryResult>(
    (reqs) =>
      this.nearbyMany(
        reqs.map((r) => r.query),
        Date.now(),
        Math.min(...reqs.map((r) => r.deadline)),
      ),
    { maxBatch: 64, concurrency: 4 },
  );

  constructor(
    private readonly local: LocalUnit,
    private readonly directory: Directory,
    private readonly peers: PeerPool,
    private readonly opts: CoordinatorOptions,
  ) {}

  /**
   * One nearby query. Concurrent ones travel together (see `batched`): one
   * map call per unit for the whole batch instead of one per query, all with
   * the batch's clock and its earliest deadline.
   */
  nearby(lon: number, lat: number, radiusM: number, limit: number, deadline: number): Promise<QueryResult> {
    return this.batched.submit({ query: { lon, lat, radius_m: radiusM, limit }, deadline });
  }

  /**
   * Several nearby queries with one map call per unit for all of them (instead
   * of one per query): each unit scans once per query and answers the partials
   * in order; each query is reduced on its own.
   */
  async nearbyMany(queries: readonly NearbyQuery[], now: number, deadline: number): Promise<QueryResult[]> {
    if (queries.length === 0) return [];
    const parts = await this.fanOut(
      deadline,
      () => queries.map((q) => this.local.mapNearby(q.lon, q.lat, q.radius_m, q.limit, now)),
      async (addr, timeout) => {
        const peer = this.peers.get(addr);
        try {
          const r = await peer.mapNearbyMany([...queries], now, { timeout });
          if (r.length !== queries.length) throw new Error(`${addr} answered ${r.length} of ${queries.length} queries`);
          return r;
        } catch (err) {
          // A unit of an older release (during a rolling upgrade) has only mapNearby.
          if (!(err instanceof PlatformError && err.code === 'UNIMPLEMENTED')) throw err;
          return Promise.all(queries.map((q) => peer.mapNearby(q.lon, q.lat, q.radius_m, q.limit, now, { timeout })));
        }
      },
    );
    const all = ALL(this.opts.partitions);
    return queries.map((q, i) =>
      this.finish(
        'nearby',
        reduce(
          parts.map((p) => p[i]!),
          all,
          byDistance,
          q.limit,
        ),
      ),
    );
  }

  async within(rect: Rect, limit: number, now: number, deadline: number): Promise<QueryResult> {
    const parts = await this.fanOut(
      deadline,
      () => this.local.mapWithin(rect, limit, now),
      (addr, timeout) => this.peers.get(addr).mapWithin(rect, limit, now, { timeout }),
    );
    return this.finish('within', reduce(parts, ALL(this.opts.partitions), byUserId, limit));
  }

  async latest(userIds: readonly string[], deadline: number): Promise<QueryResult> {
    const users = [...new Set(userIds)];
    const partitionOf = new Map(users.map((u) => [u, this.opts.partitionOf(u)]));
    const expected = [...new Set(partitionOf.values())];
    const parts: MapResult[] = [];
    let pending = users;
    // Round 1 uses the cached owners; a second round after refreshing them
    // catches partitions that moved since (a handoff) or were never seen.
    for (let round = 0; round < 2 && pending.length > 0 && Date.now() < deadline; round++) {
      if (round === 1 || this.owners.size === 0 || Date.now() - this.ownersAt > 5000)
        await this.refreshOwners(deadline);
      const byOwner = new Map<string, string[]>();
      for (const u of pending) {
        const owner = this.ownerOf(partitionOf.get(u)!);
        if (owner === undefined) continue;
        const list = byOwner.get(owner);
        if (list) list.push(u);
        else byOwner.set(owner, [u]);
      }
      const answers = await Promise.allSettled(
        [...byOwner].map(([addr, us]) =>
          addr === this.local.addr
            ? Promise.resolve(this.local.mapLatest(us))
            : this.peers.get(addr).mapLatest(us, { timeout: Math.max(1, deadline - Date.now()) }),
        ),
      );
      for (const a of answers) if (a.status === 'fulfilled') parts.push(a.value);
      const answered = new Set(parts.flatMap((p) => p.partitions));
      pending = pending.filter((u) => !answered.has(partitionOf.get(u)!));
    }
    const merged = reduce(parts, expected, byUserId, users.length);
    // Answer in the order asked (users without a position are left out).
    const byUser = new Map(merged.hits.map((h) => [h.user_id, h]));
    const hits = users.map((u) => byUser.get(u)).filter((h): h is Hit => h !== undefined);
    return this.finish('latest', { ...merged, hits });
  }

  private ownerOf(p: number): string | undefined {
    if (this.local.ready().includes(p)) return this.local.addr;
    return this.owners.get(p);
  }

  /** Asks every unit which partitions it answers for. */
  private async refreshOwners(deadline: number): Promise<void> {
    const members = await this.membersBy(deadline);
    const states = await Promise.allSettled(
      members
        .filter((m) => m !== this.local.addr)
        .map(async (m) => ({
          addr: m,
          st: await this.peers.get(m).state({ timeout: Math.max(1, deadline - Date.now()) }),
        })),
    );
    const owners = new Map<number, string>();
    for (const s of states) if (s.status === 'fulfilled') for (const p of s.value.st.ready) owners.set(p, s.value.addr);
    for (const p of this.local.ready()) owners.set(p, this.local.addr);
    this.owners = owners;
    this.ownersAt = Date.now();
  }

  /** Runs the map step on every member; a member that fails or misses the deadline contributes nothing. */
  private async fanOut<T>(
    deadline: number,
    local: () => T,
    remote: (addr: string, timeoutMs: number) => Promise<T>,
  ): Promise<T[]> {
    const members = await this.membersBy(deadline);
    this.peers.retain(members);
    const calls = members.map((m) =>
      m === this.local.addr ? Promise.resolve(local()) : remote(m, Math.max(1, deadline - Date.now())),
    );
    if (!members.includes(this.local.addr)) calls.push(Promise.resolve(local()));
    const settled = await Promise.allSettled(calls);
    const out: T[] = [];
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled') out.push(s.value);
      else this.opts.logger.debug('Map call failed', { member: members[i], err: s.reason as Error });
    });
    return out;
  }

  /**
   * The group's members, or this unit alone when the directory has not
   * answered by the deadline (the bus is slow or down and nothing is cached):
   * the query then answers in time, partial, instead of waiting for the bus.
   */
  private async membersBy(deadline: number): Promise<string[]> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
    });
    try {
      const members = await Promise.race([this.directory.members(), late]);
      if (members) return members;
      this.opts.logger.warn('The unit directory did not answer before the deadline; answering from this unit alone');
      return [this.local.addr];
    } finally {
      clearTimeout(timer);
    }
  }

  private finish(query: string, r: QueryResult): QueryResult {
    if (r.partial) this.opts.onPartial?.(query, r.missing_partitions);
    return r;
  }
}
