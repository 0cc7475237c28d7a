// The in-memory spatial index of a unit: a uniform latitude/longitude grid of
// cells (rows → cells → entries), one entry per user (their latest position).
//
// Why a grid (see docs/location.md for the measurements): positions move all
// the time, so updates must be O(1) (swap-remove from one cell, push into
// another); k-d trees and R-trees pay rebalancing or reinsertion for that. The
// queries are bounded (a radius, a rectangle), so a grid visits only the cells
// the query's bounding box touches; for `nearby` those cells are visited in
// order of a proven lower bound on their distance, and the scan stops as soon as
// the next cell cannot beat the current k-th result.
//
// Entries carry their partition; a query takes the set of partitions it may
// answer for, so a partition being loaded or handed over is invisible without
// a second index per partition (which would multiply the cells every query
// visits by the number of partitions a unit owns).
import {
  aOfAngle,
  capBounds,
  DEG,
  EARTH_RADIUS_M,
  haversineA,
  inRect,
  lonInRange,
  metresOfA,
  type Rect,
} from './geometry.js';

export interface Entry {
  userId: string;
  partition: number;
  lon: number;
  lat: number;
  time: number;
  /** cos(lat), kept so a distance costs two sines. */
  cosLat: number;
  row: number;
  col: number;
  /** Position inside its cell's array (O(1) removal). */
  slot: number;
}

export interface IndexHit {
  userId: string;
  partition: number;
  lon: number;
  lat: number;
  time: number;
  distanceM: number;
}

interface Row {
  cells: Map<number, Entry[]>;
}

/** Partitions a query may answer for (a Set, or a predicate when the caller has one). */
export type PartitionFilter = (partition: number) => boolean;

export const DEFAULT_CELL_DEG = 0.005;

export class GridIndex {
  private readonly rows = new Map<number, Row>();
  private readonly byUser = new Map<string, Entry>();
  private readonly nRows: number;
  private readonly nCols: number;

  constructor(readonly cellDeg = DEFAULT_CELL_DEG) {
    this.nRows = Math.ceil(180 / cellDeg);
    this.nCols = Math.ceil(360 / cellDeg);
  }

  get size(): number {
    return this.byUser.size;
  }

  get(userId: string): Entry | undefined {
    return this.byUser.get(userId);
  }

  /** Sets the user's position (moving the entry between cells when needed). */
  upsert(userId: string, partition: number, lon: number, lat: number, time: number): void {
    const row = this.rowOf(lat);
    const col = this.colOf(lon);
    const e = this.byUser.get(userId);
    if (e) {
      if (e.row !== row || e.col !== col) {
        this.unlink(e);
        e.row = row;
        e.col = col;
        this.link(e);
      }
      e.partition = partition;
      e.lon = lon;
      e.lat = lat;
      e.time = time;
      e.cosLat = Math.cos(lat * DEG);
      return;
    }
    const n: Entry = { userId, partition, lon, lat, time, cosLat: Math.cos(lat * DEG), row, col, slot: 0 };
    this.link(n);
    this.byUser.set(userId, n);
  }

  remove(userId: string): boolean {
    const e = this.byUser.get(userId);
    if (!e) return false;
    this.unlink(e);
    this.byUser.delete(userId);
    return true;
  }

  /**
   * Users within `radiusM` of (lon, lat) whose time ≥ minTime, nearest first
   * (ties by user id), at most `limit`.
   */
  nearby(
    lon: number,
    lat: number,
    radiusM: number,
    limit: number,
    minTime: number,
    accept: PartitionFilter,
  ): IndexHit[] {
    if (limit <= 0) return [];
    const angle = radiusM / EARTH_RADIUS_M;
    const { minLat, maxLat, lonRanges } = capBounds(lon, lat, angle);
    const cosLat = Math.cos(lat * DEG);
    const candidates: { bound: number; cell: Entry[] }[] = [];
    this.forEachCell(minLat, maxLat, lonRanges, (row, col, cell) => {
      const bound = this.cellLowerBound(lon, lat, cosLat, row, col);
      // Slack on the bound: rounding must never drop a cell that holds a hit.
      if (bound <= angle * (1 + 1e-9) + 1e-12) candidates.push({ bound, cell });
    });
    candidates.sort((x, y) => x.bound - y.bound);
    // `a` of the radius with a hair of slack: the exact metres test below decides.
    const aMax = aOfAngle(angle) * (1 + 1e-9) + 1e-15;
    const heap = new BoundedHeap(limit);
    for (const c of candidates) {
      if (heap.full && aOfAngle(c.bound) > heap.worstA * (1 + 1e-9) + 1e-15) break;
      for (const e of c.cell) {
        if (e.time < minTime || !accept(e.partition)) continue;
        const a = haversineA(lat, cosLat, lon, e.lat, e.cosLat, e.lon);
        if (a > aMax || (heap.full && a > heap.worstA * (1 + 1e-9) + 1e-15)) continue;
        const d = metresOfA(a);
        if (d <= radiusM) heap.push(a, d, e);
      }
    }
    return heap.sorted();
  }

  /** Users inside `rect` whose time ≥ minTime, by user id, at most `limit`. */
  within(rect: Rect, limit: number, minTime: number, accept: PartitionFilter): IndexHit[] {
    if (limit <= 0) return [];
    const ranges: [number, number][] =
      rect.min_lon <= rect.max_lon
        ? [[rect.min_lon, rect.max_lon]]
        : [
            [rect.min_lon, 180],
            [-180, rect.max_lon],
          ];
    // Max-heap on user id keeps the `limit` smallest ids without sorting everything.
    const heap = new BoundedHeap(limit, true);
    this.forEachCell(rect.min_lat, rect.max_lat, ranges, (_r, _c, cell) => {
      for (const e of cell) {
        if (e.time < minTime || !accept(e.partition) || !inRect(e.lon, e.lat, rect)) continue;
        heap.push(0, 0, e);
      }
    });
    return heap.sorted();
  }

  /** Every entry, for sweeps and tests. */
  entries(): IterableIterator<Entry> {
    return this.byUser.values();
  }

  // ---------------------------------------------------------------- cells

  private rowOf(lat: number): number {
    return Math.min(this.nRows - 1, Math.max(0, Math.floor((lat + 90) / this.cellDeg)));
  }

  private colOf(lon: number): number {
    return Math.min(this.nCols - 1, Math.max(0, Math.floor((lon + 180) / this.cellDeg)));
  }

  private link(e: Entry): void {
    let row = this.rows.get(e.row);
    if (!row) this.rows.set(e.row, (row = { cells: new Map() }));
    let cell = row.cells.get(e.col);
    if (!cell) row.cells.set(e.col, (cell = []));
    e.slot = cell.length;
    cell.push(e);
  }

  private unlink(e: Entry): void {
    const row = this.rows.get(e.row)!;
    const cell = row.cells.get(e.col)!;
    const last = cell.pop()!;
    if (last !== e) {
      cell[e.slot] = last;
      last.slot = e.slot;
    }
    if (cell.length === 0) {
      row.cells.delete(e.col);
      if (row.cells.size === 0) this.rows.delete(e.row);
    }
  }

  /**
   * Visits the non-empty cells overlapping the lat band × lon ranges. Per row it
   * either probes each column or walks the row's cells, whichever is fewer — so
   * a query around a pole (all longitudes) costs the cells that exist, not 72 000.
   */
  private forEachCell(
    minLat: number,
    maxLat: number,
    lonRanges: [number, number][],
    visit: (row: number, col: number, cell: Entry[]) => void,
  ): void {
    const r0 = this.rowOf(minLat);
    const r1 = this.rowOf(maxLat);
    const colRanges = lonRanges.map(([lo, hi]) => [this.colOf(lo), this.colOf(hi)] as const);
    const span = colRanges.reduce((s, [a, b]) => s + (b - a + 1), 0);
    const walkRows = r1 - r0 + 1 > this.rows.size;
    const rowIds = walkRows ? [...this.rows.keys()].filter((r) => r >= r0 && r <= r1) : range(r0, r1);
    for (const r of rowIds) {
      const row = this.rows.get(r);
      if (!row) continue;
      if (span > row.cells.size) {
        for (const [c, cell] of row.cells) if (colRanges.some(([a, b]) => c >= a && c <= b)) visit(r, c, cell);
      } else {
        for (const [a, b] of colRanges) {
          for (let c = a; c <= b; c++) {
            const cell = row.cells.get(c);
            if (cell) visit(r, c, cell);
          }
        }
      }
    }
  }

  /**
   * A lower bound (radians) on the distance from (lon, lat) to any point of cell
   * (row, col): the larger of the latitude gap (no path is shorter than its
   * change of latitude) and the distance to the nearer edge meridian's great
   * circle, asin(cos φ · sin Δλ) (a point of the cell lies on such a meridian).
   */
  private cellLowerBound(lon: number, lat: number, cosLat: number, row: number, col: number): number {
    const latLo = row * this.cellDeg - 90;
    const latHi = latLo + this.cellDeg;
    const latGap = lat < latLo ? latLo - lat : lat > latHi ? lat - latHi : 0;
    const lonLo = col * this.cellDeg - 180;
    const lonHi = lonLo + this.cellDeg;
    let lonGap = 0;
    if (!lonInRange(lon, lonLo, lonHi)) {
      const toLo = wrap180(lonLo - lon);
      const toHi = wrap180(lon - lonHi);
      lonGap = Math.min(Math.abs(toLo), Math.abs(toHi));
    }
    const xt = lonGap >= 90 ? 0 : Math.asin(Math.min(1, cosLat * Math.sin(lonGap * DEG)));
    return Math.max(latGap * DEG, xt);
  }
}

function wrap180(d: number): number {
  let x = d % 360;
  if (x > 180) x -= 360;
  if (x < -180) x += 360;
  return x;
}

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}

/**
 * Orders hits by (distance in metres, user id) — by user id alone for
 * rectangles. Metres, not the haversine term: two terms that differ in the last
 * bits can give the same metres, and then the user id must decide, exactly as
 * for anyone re-checking the answer with haversineMeters.
 */
function before(d1: number, u1: string, d2: number, u2: string): boolean {
  return d1 < d2 || (d1 === d2 && u1 < u2);
}

/** A max-heap holding the `cap` best hits seen so far. */
class BoundedHeap {
  private readonly items: { a: number; d: number; e: Entry }[] = [];
  constructor(
    private readonly cap: number,
    private readonly byIdOnly = false,
  ) {}

  get full(): boolean {
    return this.items.length >= this.cap;
  }

  /** `a` of the worst kept hit (Infinity until full). */
  get worstA(): number {
    return this.full ? this.items[0]!.a : Infinity;
  }

  push(a: number, d: number, e: Entry): void {
    const it = this.items;
    if (it.length < this.cap) {
      it.push({ a, d, e });
      this.up(it.length - 1);
      return;
    }
    const top = it[0]!;
    if (!before(d, e.userId, top.d, top.e.userId)) return;
    it[0] = { a, d, e };
    this.down(0);
  }

  sorted(): IndexHit[] {
    return this.items
      .sort((x, y) => (before(x.d, x.e.userId, y.d, y.e.userId) ? -1 : 1))
      .map(({ d, e }) => ({
        userId: e.userId,
        partition: e.partition,
        lon: e.lon,
        lat: e.lat,
        time: e.time,
        distanceM: this.byIdOnly ? 0 : d,
      }));
  }

  private worse(i: number, j: number): boolean {
    const x = this.items[i]!;
    const y = this.items[j]!;
    return before(y.d, y.e.userId, x.d, x.e.userId);
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.worse(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.worse(l, m)) m = l;
      if (r < n && this.worse(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(i: number, j: number): void {
    const t = this.items[i]!;
    this.items[i] = this.items[j]!;
    this.items[j] = t;
  }
}
