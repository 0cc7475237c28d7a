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

/** A user's entry, as `get` reports it. */
export interface Entry {
  userId: string;
  partition: number;
  lon: number;
  lat: number;
  time: number;
}

export interface IndexHit {
  userId: string;
  partition: number;
  lon: number;
  lat: number;
  time: number;
  distanceM: number;
}

/** Where a user's entry lives (its slot changes when another entry is swap-removed). */
interface Loc {
  userId: string;
  cell: Cell;
  slot: number;
}

/**
 * One grid cell, stored column-wise in typed arrays: a query scans a cell's
 * coordinates as contiguous doubles instead of chasing one object per user
 * (measured: the object layout spent most of a 1M-user query in cache misses).
 */
class Cell {
  n = 0;
  locs: Loc[] = [];
  part = new Int32Array(4);
  lon = new Float64Array(4);
  lat = new Float64Array(4);
  cosLat = new Float64Array(4);
  time = new Float64Array(4);

  constructor(
    readonly row: number,
    readonly col: number,
  ) {}

  add(loc: Loc, partition: number, lon: number, lat: number, time: number): void {
    if (this.n === this.part.length) this.grow();
    const i = this.n++;
    loc.cell = this;
    loc.slot = i;
    this.locs[i] = loc;
    this.set(i, partition, lon, lat, time);
  }

  set(i: number, partition: number, lon: number, lat: number, time: number): void {
    this.part[i] = partition;
    this.lon[i] = lon;
    this.lat[i] = lat;
    this.cosLat[i] = Math.cos(lat * DEG);
    this.time[i] = time;
  }

  /** Swap-remove of slot i: the last entry takes its place. */
  removeAt(i: number): void {
    const last = --this.n;
    if (i !== last) {
      const moved = this.locs[last]!;
      this.locs[i] = moved;
      moved.slot = i;
      this.part[i] = this.part[last]!;
      this.lon[i] = this.lon[last]!;
      this.lat[i] = this.lat[last]!;
      this.cosLat[i] = this.cosLat[last]!;
      this.time[i] = this.time[last]!;
    }
    this.locs.length = last;
  }

  private grow(): void {
    const cap = this.part.length * 2;
    const g = <T extends Int32Array | Float64Array>(a: T, b: T): T => (b.set(a), b);
    this.part = g(this.part, new Int32Array(cap));
    this.lon = g(this.lon, new Float64Array(cap));
    this.lat = g(this.lat, new Float64Array(cap));
    this.cosLat = g(this.cosLat, new Float64Array(cap));
    this.time = g(this.time, new Float64Array(cap));
  }
}

interface Row {
  cells: Map<number, Cell>;
}

/** Partitions a query may answer for (a Set, or a predicate when the caller has one). */
export type PartitionFilter = (partition: number) => boolean;

export const DEFAULT_CELL_DEG = 0.0025;

/** Relative and absolute slack on comparisons against the k-th hit: rounding must never drop a hit. */
const REL = 1 + 1e-9;
const ABS_A = 1e-15;

/** Largest latitude gap (degrees) a point with haversine term ≤ a can have: a ≥ sin²(Δφ/2). */
function latGapOfA(a: number): number {
  return a >= 1 ? Infinity : ((2 * Math.asin(Math.sqrt(a))) / DEG) * REL + 1e-9;
}

export class GridIndex {
  private readonly rows = new Map<number, Row>();
  private readonly byUser = new Map<string, Loc>();
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
    const l = this.byUser.get(userId);
    if (!l) return undefined;
    const c = l.cell;
    const i = l.slot;
    return { userId, partition: c.part[i]!, lon: c.lon[i]!, lat: c.lat[i]!, time: c.time[i]! };
  }

  /** Sets the user's position (moving the entry between cells when needed). */
  upsert(userId: string, partition: number, lon: number, lat: number, time: number): void {
    const row = this.rowOf(lat);
    const col = this.colOf(lon);
    const l = this.byUser.get(userId);
    if (l) {
      if (l.cell.row === row && l.cell.col === col) {
        l.cell.set(l.slot, partition, lon, lat, time);
        return;
      }
      this.unlink(l);
      this.cellAt(row, col).add(l, partition, lon, lat, time);
      return;
    }
    const n: Loc = { userId, cell: undefined as unknown as Cell, slot: 0 };
    this.cellAt(row, col).add(n, partition, lon, lat, time);
    this.byUser.set(userId, n);
  }

  remove(userId: string): boolean {
    const l = this.byUser.get(userId);
    if (!l) return false;
    this.unlink(l);
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
    // Two phases: first a smaller radius guessed from the previous answer (the
    // k-th distance scales with √k at a given density); when that already finds
    // `limit` hits it is the exact answer — every point not looked at is
    // farther than the guess, hence than the k-th hit. Otherwise (sparse area,
    // filters) the full radius. A big radius thus costs the cells the answer
    // needs, not every cell of its bounding box.
    const guessM = this.kthPerSqrtK * Math.sqrt(limit) * 1.5;
    if (guessM > 0 && guessM < radiusM) {
      const heap = this.scanNearby(lon, lat, guessM, limit, minTime, accept);
      if (heap.full) return this.learn(heap, limit).sorted();
    }
    return this.learn(this.scanNearby(lon, lat, radiusM, limit, minTime, accept), limit).sorted();
  }

  /** The k-th distance of the last full answer per √k (0: unknown, or the area was too sparse). */
  private kthPerSqrtK = 0;

  private learn(heap: BoundedHeap, limit: number): BoundedHeap {
    this.kthPerSqrtK = heap.full ? heap.worstD / Math.sqrt(limit) : 0;
    return heap;
  }

  /** The best `limit` hits within radiusM, as a heap. */
  private scanNearby(
    lon: number,
    lat: number,
    radiusM: number,
    limit: number,
    minTime: number,
    accept: PartitionFilter,
  ): BoundedHeap {
    const angle = radiusM / EARTH_RADIUS_M;
    const { minLat, maxLat, lonRanges } = capBounds(lon, lat, angle);
    const cosLat = Math.cos(lat * DEG);
    const candidates: { bound: number; cell: Cell }[] = [];
    this.forEachCell(minLat, maxLat, lonRanges, (cell) => {
      const bound = this.cellLowerBound(lon, lat, cosLat, cell.row, cell.col);
      // Slack on the bound: rounding must never drop a cell that holds a hit.
      if (bound <= angle * REL + 1e-12) candidates.push({ bound, cell });
    });
    candidates.sort((x, y) => x.bound - y.bound);
    // `a` of the radius with a hair of slack: the exact metres test below decides.
    const aMax = aOfAngle(angle) * REL + ABS_A;
    // Anything with a > aLimit cannot enter the answer; |Δlat| > latGap implies a > aLimit,
    // so most far entries are dropped without a sine. Both shrink as the heap fills.
    let aLimit = aMax;
    let latGap = latGapOfA(aLimit);
    const heap = new BoundedHeap(limit);
    for (const { bound, cell } of candidates) {
      if (heap.full && aOfAngle(bound) > aLimit) break;
      const n = cell.n;
      const cLat = cell.lat;
      const cLon = cell.lon;
      const cCos = cell.cosLat;
      const cTime = cell.time;
      const cPart = cell.part;
      for (let i = 0; i < n; i++) {
        const eLat = cLat[i]!;
        const dLat = eLat - lat;
        if (dLat > latGap || -dLat > latGap || cTime[i]! < minTime || !accept(cPart[i]!)) continue;
        const a = haversineA(lat, cosLat, lon, eLat, cCos[i]!, cLon[i]!);
        if (a > aLimit) continue;
        const d = metresOfA(a);
        if (d > radiusM) continue;
        heap.push(a, d, cell.locs[i]!.userId, cPart[i]!, cLon[i]!, eLat, cTime[i]!);
        if (heap.full) {
          const w = Math.min(aMax, heap.worstA * REL + ABS_A);
          if (w < aLimit) {
            aLimit = w;
            latGap = latGapOfA(w);
          }
        }
      }
    }
    return heap;
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
    this.forEachCell(rect.min_lat, rect.max_lat, ranges, (cell) => {
      for (let i = 0; i < cell.n; i++) {
        const eLon = cell.lon[i]!;
        const eLat = cell.lat[i]!;
        if (cell.time[i]! < minTime || !accept(cell.part[i]!) || !inRect(eLon, eLat, rect)) continue;
        heap.push(0, 0, cell.locs[i]!.userId, cell.part[i]!, eLon, eLat, cell.time[i]!);
      }
    });
    return heap.sorted();
  }

  /** Every entry, for sweeps and tests. */
  *entries(): IterableIterator<Entry> {
    for (const u of this.byUser.keys()) yield this.get(u)!;
  }

  // ---------------------------------------------------------------- cells

  private rowOf(lat: number): number {
    return Math.min(this.nRows - 1, Math.max(0, Math.floor((lat + 90) / this.cellDeg)));
  }

  private colOf(lon: number): number {
    return Math.min(this.nCols - 1, Math.max(0, Math.floor((lon + 180) / this.cellDeg)));
  }

  private cellAt(r: number, c: number): Cell {
    let row = this.rows.get(r);
    if (!row) this.rows.set(r, (row = { cells: new Map() }));
    let cell = row.cells.get(c);
    if (!cell) row.cells.set(c, (cell = new Cell(r, c)));
    return cell;
  }

  private unlink(l: Loc): void {
    const cell = l.cell;
    cell.removeAt(l.slot);
    if (cell.n === 0) {
      const row = this.rows.get(cell.row)!;
      row.cells.delete(cell.col);
      if (row.cells.size === 0) this.rows.delete(cell.row);
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
    visit: (cell: Cell) => void,
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
        for (const [c, cell] of row.cells) if (colRanges.some(([a, b]) => c >= a && c <= b)) visit(cell);
      } else {
        for (const [a, b] of colRanges) {
          for (let c = a; c <= b; c++) {
            const cell = row.cells.get(c);
            if (cell) visit(cell);
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

interface HeapItem extends IndexHit {
  a: number;
}

/** A max-heap holding the `cap` best hits seen so far. */
class BoundedHeap {
  private readonly items: HeapItem[] = [];
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

  /** Metres of the worst kept hit (Infinity until full). */
  get worstD(): number {
    return this.full ? this.items[0]!.distanceM : Infinity;
  }

  push(a: number, d: number, userId: string, partition: number, lon: number, lat: number, time: number): void {
    const it = this.items;
    if (it.length < this.cap) {
      it.push({ a, distanceM: d, userId, partition, lon, lat, time });
      this.up(it.length - 1);
      return;
    }
    const top = it[0]!;
    if (!before(d, userId, top.distanceM, top.userId)) return;
    it[0] = { a, distanceM: d, userId, partition, lon, lat, time };
    this.down(0);
  }

  sorted(): IndexHit[] {
    const out = this.items.sort((x, y) => (before(x.distanceM, x.userId, y.distanceM, y.userId) ? -1 : 1));
    if (this.byIdOnly) for (const h of out) h.distanceM = 0;
    return out;
  }

  private worse(i: number, j: number): boolean {
    const x = this.items[i]!;
    const y = this.items[j]!;
    return before(y.distanceM, y.userId, x.distanceM, x.userId);
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
