// Everything a unit holds in memory for the partitions it owns: the spatial
// index of latest positions, the bounded recent track per user, which users
// belong to which partition, and the ownership status of each partition.
// No I/O here: the ingest pipeline and the rebuild feed it, the servant reads it.
import { GridIndex, type IndexHit } from './grid-index.js';
import type { Rect } from './geometry.js';
import { Ownership } from './ownership.js';
import type { Hit, MapResult } from './reduce.js';
import { addToTrack, type TrackPoint } from './track-ring.js';

export interface Point {
  user_id: string;
  lon: number;
  lat: number;
  time: number;
  speed: number;
  direction: number;
}

/** What is stored per user as the latest position (also the rebuild input). */
export interface LatestRecord {
  userId: string;
  partition: number;
  lon: number;
  lat: number;
  time: number;
  speed: number;
  direction: number;
  track: TrackPoint[];
  /** Id of the stored version of this record (deleted when a newer one is written). */
  storedId?: string;
}

export class UnitState {
  readonly ownership = new Ownership();
  private readonly index: GridIndex;
  private readonly latest = new Map<string, LatestRecord>();
  private readonly users = new Map<number, Set<string>>();

  constructor(
    private readonly trackPoints: number,
    cellDeg?: number,
  ) {
    this.index = new GridIndex(cellDeg);
  }

  get userCount(): number {
    return this.latest.size;
  }

  /**
   * Applies one point of `partition`. The latest position is the point with the
   * greatest time (a redelivered or late point never moves a user back); every
   * point enters the recent track. Returns false when the partition is not owned.
   */
  apply(p: Point, partition: number): boolean {
    if (!this.ownership.owns(partition)) return false;
    const cur = this.latest.get(p.user_id);
    const track = addToTrack(cur?.track ?? [], { t: p.time, lon: p.lon, lat: p.lat }, this.trackPoints);
    if (cur && cur.time > p.time) {
      cur.track = track;
      return true;
    }
    this.put({
      storedId: cur?.storedId,
      userId: p.user_id,
      partition,
      lon: p.lon,
      lat: p.lat,
      time: p.time,
      speed: p.speed,
      direction: p.direction,
      track,
    });
    return true;
  }

  /** Loads a stored record (rebuild): merged with what arrived meanwhile, newest wins. */
  restore(r: LatestRecord): void {
    if (!this.ownership.owns(r.partition)) return;
    const cur = this.latest.get(r.userId);
    if (!cur) return this.put(r);
    let track = cur.track;
    for (const t of r.track) track = addToTrack(track, t, this.trackPoints);
    if (cur.time >= r.time) {
      cur.track = track;
      cur.storedId ??= r.storedId;
    } else this.put({ ...r, track, storedId: cur.storedId ?? r.storedId });
  }

  get(userId: string): LatestRecord | undefined {
    return this.latest.get(userId);
  }

  /** Drops every user of partition `p` (after revocation). */
  drop(p: number): number {
    const set = this.users.get(p);
    if (!set) return 0;
    for (const u of set) {
      this.latest.delete(u);
      this.index.remove(u);
    }
    this.users.delete(p);
    return set.size;
  }

  mapNearby(lon: number, lat: number, radiusM: number, limit: number, minTime: number): MapResult {
    const { list, mask } = this.ownership.readySnapshot();
    const hits = this.index.nearby(lon, lat, radiusM, limit, minTime, (p) => mask[p] === 1).map(toHit);
    return { hits, partitions: [...list] };
  }

  mapWithin(rect: Rect, limit: number, minTime: number): MapResult {
    const { list, mask } = this.ownership.readySnapshot();
    const hits = this.index.within(rect, limit, minTime, (p) => mask[p] === 1).map(toHit);
    return { hits, partitions: [...list] };
  }

  /** Latest positions of those users whose partition is ready here; `partitionOf` maps a user. */
  mapLatest(userIds: readonly string[], partitionOf: (u: string) => number): MapResult {
    const hits: Hit[] = [];
    const answered = new Set<number>();
    for (const u of userIds) {
      const p = partitionOf(u);
      if (!this.ownership.isReady(p)) continue;
      answered.add(p);
      const r = this.latest.get(u);
      if (r) hits.push({ user_id: u, lon: r.lon, lat: r.lat, time: r.time, distance_m: 0, partition: p });
    }
    return { hits, partitions: [...answered].sort((a, b) => a - b) };
  }

  private put(r: LatestRecord): void {
    const old = this.latest.get(r.userId);
    if (old && old.partition !== r.partition) this.users.get(old.partition)?.delete(r.userId);
    this.latest.set(r.userId, r);
    let set = this.users.get(r.partition);
    if (!set) this.users.set(r.partition, (set = new Set()));
    set.add(r.userId);
    this.index.upsert(r.userId, r.partition, r.lon, r.lat, r.time);
  }
}

function toHit(h: IndexHit): Hit {
  return { user_id: h.userId, lon: h.lon, lat: h.lat, time: h.time, distance_m: h.distanceM, partition: h.partition };
}
