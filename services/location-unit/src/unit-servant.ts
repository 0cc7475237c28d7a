// The gRPC face of a unit: location::ILocationQuery for callers (the gateway),
// location::ILocationUnit for the other units (the map step, state, direct
// ingest). Arguments are validated here, once, with precise messages; the
// coordinator and the state below trust them.
import type { ILocationUnitServant } from '../../../proto/gen/ts/location.tce.js';
import type { CallContext } from '../../runtime/src/call-context.js';
import { invalidArgument, PlatformError } from '../../runtime/src/errors.js';
import type { Coordinator, NearbyQuery } from './coordinator.js';
import { checkLat, checkLon, checkRadius, checkRect, resolveLimit, type Rect } from './geometry.js';
import type { IngestPipeline } from './ingest-pipeline.js';
import type { LocationStore } from './location-store.js';
import { MAX_USER_ID_LENGTH, pointProblem } from './point-check.js';
import type { MapResult, QueryResult } from './reduce.js';
import type { Point, UnitState } from './unit-state.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;
export const MAX_LATEST_USERS = 1000;
export const MAX_NEARBY_QUERIES = 256;
export const MAX_INGEST_POINTS = 10_000;
export const DEFAULT_TRACK_LIMIT = 100;

export interface UnitServantDeps {
  addr: string;
  partitions: number;
  staleAfterMs: number;
  queryTimeoutMs: number;
  partitionOf: (userId: string) => number;
  state: UnitState;
  pipeline: IngestPipeline;
  store: LocationStore;
  coordinator: Coordinator;
  /** Counts dropped points (metrics). */
  onInvalid?: (n: number) => void;
}

interface TrackPageOut {
  points: Point[];
  next_from: number;
  has_more: boolean;
}

export class UnitServant implements ILocationUnitServant {
  constructor(private readonly d: UnitServantDeps) {}

  // ---------------------------------------------------------------- ILocationQuery

  nearby(lon: number, lat: number, radius_m: number, limit: number, ctx: CallContext): Promise<QueryResult> {
    checkLon('lon', lon);
    checkLat('lat', lat);
    checkRadius(radius_m);
    const n = resolveLimit(limit, DEFAULT_LIMIT, MAX_LIMIT);
    return this.d.coordinator.nearby(lon, lat, radius_m, n, this.deadline(ctx));
  }

  nearbyMany(queries: NearbyQuery[], ctx: CallContext): Promise<QueryResult[]> {
    return this.d.coordinator.nearbyMany(checkNearbyQueries(queries), Date.now(), this.deadline(ctx));
  }

  within(rect: Rect, limit: number, ctx: CallContext): Promise<QueryResult> {
    checkRect(rect);
    const n = resolveLimit(limit, DEFAULT_LIMIT, MAX_LIMIT);
    return this.d.coordinator.within(rect, n, Date.now(), this.deadline(ctx));
  }

  latest(user_ids: string[], ctx: CallContext): Promise<QueryResult> {
    checkUserIds(user_ids);
    return this.d.coordinator.latest(user_ids, this.deadline(ctx));
  }

  async track(user_id: string, from_time: number, to_time: number, limit: number): Promise<TrackPageOut> {
    if (user_id.length === 0) throw invalidArgument('user_id must not be empty');
    if (user_id.length > MAX_USER_ID_LENGTH)
      throw invalidArgument(`user_id is longer than ${MAX_USER_ID_LENGTH} characters`);
    if (!Number.isSafeInteger(from_time) || from_time < 0) {
      throw invalidArgument(`from_time must be a non-negative integer (ms since epoch), got ${from_time}`);
    }
    if (!Number.isSafeInteger(to_time) || to_time < 0) {
      throw invalidArgument(`to_time must be a non-negative integer (ms since epoch; 0 for no end), got ${to_time}`);
    }
    const to = to_time === 0 ? Number.MAX_SAFE_INTEGER : to_time;
    if (from_time > to) throw invalidArgument(`from_time must not be after to_time, got ${from_time} > ${to_time}`);
    const n = resolveLimit(limit, DEFAULT_TRACK_LIMIT, MAX_LIMIT);
    const docs = await this.d.store.track(user_id, this.d.partitionOf(user_id), from_time, to, n);
    const page = docs.slice(0, n);
    const has_more = docs.length > n;
    return {
      points: page.map((x) => ({ user_id: x.u, lon: x.lon, lat: x.lat, time: x.t, speed: x.spd, direction: x.dir })),
      // Times are unique per user (a point's id is user|time), so the next page starts after the last one.
      next_from: has_more ? page[page.length - 1]!.t + 1 : 0,
      has_more,
    };
  }

  // ---------------------------------------------------------------- ILocationUnit (unit-to-unit)

  mapNearby(lon: number, lat: number, radius_m: number, limit: number, now: number): MapResult {
    checkLon('lon', lon);
    checkLat('lat', lat);
    checkRadius(radius_m);
    const n = resolveLimit(limit, DEFAULT_LIMIT, MAX_LIMIT);
    return this.d.state.mapNearby(lon, lat, radius_m, n, this.minTime(now));
  }

  mapNearbyMany(queries: NearbyQuery[], now: number): MapResult[] {
    const minTime = this.minTime(now);
    return checkNearbyQueries(queries).map((q) => this.d.state.mapNearby(q.lon, q.lat, q.radius_m, q.limit, minTime));
  }

  mapWithin(rect: Rect, limit: number, now: number): MapResult {
    checkRect(rect);
    const n = resolveLimit(limit, DEFAULT_LIMIT, MAX_LIMIT);
    return this.d.state.mapWithin(rect, n, this.minTime(now));
  }

  mapLatest(user_ids: string[]): MapResult {
    checkUserIds(user_ids);
    return this.d.state.mapLatest(user_ids, this.d.partitionOf);
  }

  state(): { addr: string; ready: number[]; loading: number[]; partition_count: number; users: number } {
    const o = this.d.state.ownership;
    return {
      addr: this.d.addr,
      ready: o.ready(),
      loading: o.loading(),
      partition_count: this.d.partitions,
      users: this.d.state.userCount,
    };
  }

  async ingest(points: Point[]): Promise<{ accepted: number; invalid: number; not_owned: string[] }> {
    if (points.length > MAX_INGEST_POINTS) {
      throw invalidArgument(`at most ${MAX_INGEST_POINTS} points per ingest call, got ${points.length}`);
    }
    const now = Date.now();
    let invalid = 0;
    const notOwned = new Set<string>();
    const durable: Promise<boolean>[] = [];
    const users: string[] = [];
    for (const p of points) {
      if (pointProblem(p, now) !== undefined) {
        invalid++;
        continue;
      }
      durable.push(this.d.pipeline.submit(p, this.d.partitionOf(p.user_id)));
      users.push(p.user_id);
    }
    if (invalid > 0) this.d.onInvalid?.(invalid);
    let accepted = 0;
    try {
      (await Promise.all(durable)).forEach((ok, i) => (ok ? accepted++ : notOwned.add(users[i]!)));
    } catch (err) {
      throw new PlatformError('UNAVAILABLE', 'the unit is stopping; points were not stored', { cause: err });
    }
    return { accepted, invalid, not_owned: [...notOwned] };
  }

  // ---------------------------------------------------------------- helpers

  /** One deadline for the whole fan-out: the caller's, capped by TCE_LOCATION_QUERY_TIMEOUT. */
  private deadline(ctx: CallContext): number {
    return Math.min(ctx.deadline - 20, Date.now() + this.d.queryTimeoutMs);
  }

  private minTime(now: number): number {
    // The coordinator's clock decides staleness, so every unit applies the same cut.
    return (Number.isSafeInteger(now) && now > 0 ? now : Date.now()) - this.d.staleAfterMs;
  }
}

/** Validates every query (messages name its index) and resolves its limit. */
function checkNearbyQueries(queries: NearbyQuery[]): NearbyQuery[] {
  if (queries.length > MAX_NEARBY_QUERIES) {
    throw invalidArgument(`at most ${MAX_NEARBY_QUERIES} queries per call, got ${queries.length}`);
  }
  return queries.map((q, i) => {
    try {
      checkLon('lon', q.lon);
      checkLat('lat', q.lat);
      checkRadius(q.radius_m);
      return { lon: q.lon, lat: q.lat, radius_m: q.radius_m, limit: resolveLimit(q.limit, DEFAULT_LIMIT, MAX_LIMIT) };
    } catch (err) {
      if (err instanceof PlatformError) throw invalidArgument(`queries[${i}]: ${err.message}`);
      throw err;
    }
  });
}

function checkUserIds(ids: string[]): void {
  if (ids.length > MAX_LATEST_USERS)
    throw invalidArgument(`at most ${MAX_LATEST_USERS} user_ids per call, got ${ids.length}`);
  for (const u of ids) {
    if (u.length === 0) throw invalidArgument('user_ids must not contain an empty id');
    if (u.length > MAX_USER_ID_LENGTH)
      throw invalidArgument(`user_ids: an id is longer than ${MAX_USER_ID_LENGTH} characters`);
  }
}
