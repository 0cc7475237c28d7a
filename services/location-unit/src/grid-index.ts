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

/** Fields of an entry in Cell.v, in the order a scan reads them. */
const LAT = 0;
const TIME = 1;
const PART = 2;
const COS = 3;
const LON = 4;
const STRIDE = 5;

/**
 * One grid cell: its entries' numbers interleaved in one Float64Array (an
 * entry's five fields share a cache line), user ids in a parallel array. A
 * query at 1M users is bound by memory latency, not arithmetic: one object per
 * user cost most of it in cache misses, and so did one typed array per field
 * (each a header and a separate store to reach, per cell).
 */
class Cell {
  n = 0;
  locs: Loc[] = [];
  ids: string[] = [];
  v = new Float64Array(4 * STRIDE);

  constructor(
    readonly row: number,
    readonly col: number,
  ) {}

  add(loc: Loc, partition: number, lon: number, lat: number, time: number): void {
    if (this.n * STRIDE === this.v.length) this.grow();
    const i = this.n++;
    loc.cell = this;
    loc.slot = i;
    this.locs[i] = loc;
    this.ids[i] = loc.userId;
    this.set(i, partition, lon, lat, time);
  }

  set(i: number, partition: number, lon: number, lat: number, time: number): void {
    const o = i * STRIDE;
    const v = this.v;
    v[o + LAT] = lat;
    v[o + TIME] = time;
    v[o + PART] = partition;
    v[o + COS] = Math.cos(lat * DEG);
    v[o + LON] = lon;
  }

  lat(i: number): number {
    return this.v[i * STRIDE + LAT]!;
  }
  lon(i: number): number {
    return this.v[i * STRIDE + LON]!;
  }
  time(i: number): number {
    return this.v[i * STRIDE + TIME]!;
  }
  part(i: number): number {
    return this.v[i * STRIDE + PART]!;
  }

  /** Swap-remove of slot i: the last entry takes its place. */
  removeAt(i: number): void {
    const last = --this.n;
    if (i !== last) {
      const moved = this.locs[last]!;
      this.locs[i] = moved;
      this.ids[i] = moved.userId;
      moved.slot = i;
      this.v.copyWithin(i * STRIDE, last * STRIDE, last * STRIDE + STRIDE);
    }
    this.locs.length = last;
    this.ids.length = last;
  }

  private grow(): void {
    const v = new Float64Array(this.v.length * 2);
    v.set(this.v);
    this.v = v;
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
  private readonly heap = new BoundedHeap();

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
    return { userId, partition: c.part(i), lon: c.lon(i), lat: c.lat(i), time: c.time(i) };
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
    // Cells are looked up in order of their bound and only while they can still
    // matter: at 1M users a lookup (hash probe, then the cell's memory) costs
    // more than the bound, which is arithmetic on the grid position.
    const candidates: { bound: number; row: Row; col: number; cell: Cell | undefined }[] = [];
    this.forEachSlot(minLat, maxLat, lonRanges, (row, r, col, cell) => {
      const bound = this.cellLowerBound(lon, lat, cosLat, r, col);
      // Slack on the bound: rounding must never drop a cell that holds a hit.
      if (bound <= angle * REL + 1e-12) candidates.push({ bound, row, col, cell });
    });
    candidates.sort((x, y) => x.bound - y.bound);
    // `a` of the radius with a hair of slack: the exact metres test below decides.
    const aMax = aOfAngle(angle) * REL + ABS_A;
    // Anything with a > aLimit cannot enter the answer; |Δlat| > latGap implies a > aLimit,
    // so most far entries are dropped without a sine. Both shrink as the heap fills.
    let aLimit = aMax;
    let latGap = latGapOfA(aLimit);
    const heap = this.heap.reset(limit);
    for (const cand of candidates) {
      if (heap.full && aOfAngle(cand.bound) > aLimit) break;
      const cell = cand.cell ?? cand.row.cells.get(cand.col);
      if (!cell) continue;
      const n = cell.n;
      const v = cell.v;
      for (let i = 0, o = 0; i < n; i++, o += STRIDE) {
        const eLat = v[o + LAT]!;
        const dLat = eLat - lat;
        if (dLat > latGap || -dLat > latGap || v[o + TIME]! < minTime || !accept(v[o + PART]!)) continue;
        const a = haversineA(lat, cosLat, lon, eLat, v[o + COS]!, v[o + LON]!);
        if (a > aLimit) continue;
        const d = metresOfA(a);
        if (d > radiusM) continue;
        heap.push(a, d, cell, i);
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
    const heap = this.heap.reset(limit, true);
    this.forEachCell(rect.min_lat, rect.max_lat, ranges, (cell) => {
      for (let i = 0; i < cell.n; i++) {
        if (cell.time(i) < minTime || !accept(cell.part(i)) || !inRect(cell.lon(i), cell.lat(i), rect)) continue;
        heap.push(0, 0, cell, i);
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

  /** Visits the non-empty cells overlapping the lat band × lon ranges. */
  private forEachCell(
    minLat: number,
    maxLat: number,
    lonRanges: [number, number][],
    visit: (cell: Cell) => void,
  ): void {
    this.forEachSlot(minLat, maxLat, lonRanges, (row, _r, c, cell) => {
      const x = cell ?? row.cells.get(c);
      if (x) visit(x);
    });
  }

  /**
   * Visits the grid positions (row, col) overlapping the lat band × lon ranges
   * that may hold a cell: per existing row it either enumerates the columns
   * (`cell` undefined: the caller looks it up only if it still needs it) or
   * walks the row's cells, whichever is fewer — so a query around a pole (all
   * longitudes) costs the cells that exist, not 72 000.
   */
  private forEachSlot(
    minLat: number,
    maxLat: number,
    lonRanges: [number, number][],
    visit: (row: Row, r: number, c: number, cell: Cell | undefined) => void,
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
        for (const [c, cell] of row.cells) if (colRanges.some(([a, b]) => c >= a && c <= b)) visit(row, r, c, cell);
      } else {
        for (const [a, b] of colRanges) for (let c = a; c <= b; c++) visit(row, r, c, undefined);
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
 * A max-heap holding the `cap` best hits seen so far, as references (cell,
 * slot) into the grid: a query is synchronous, so no entry moves while it
 * runs. Hits are ordered by (distance in metres, user id) — by user id alone
 * for rectangles. Metres, not the haversine term: two terms that differ in the
 * last bits can give the same metres, and then the user id must decide, exactly
 * as for anyone re-checking the answer with haversineMeters. The user id is
 * read only on a tie and for the final answer: reading it for every candidate
 * (an object and a string elsewhere in memory) was the scan's largest cost.
 */
class BoundedHeap {
  private n = 0;
  private cap = 0;
  private byIdOnly = false;
  private a = new Float64Array(0);
  private d = new Float64Array(0);
  private slot = new Int32Array(0);
  private cell: Cell[] = [];

  /**
   * Empties the heap for a new scan. One heap serves all of an index's
   * queries (they are synchronous): allocating typed arrays per query cost
   * more than filling them.
   */
  reset(cap: number, byIdOnly = false): this {
    if (cap > this.a.length) {
      this.a = new Float64Array(cap);
      this.d = new Float64Array(cap);
      this.slot = new Int32Array(cap);
    }
    this.n = 0;
    this.cap = cap;
    this.byIdOnly = byIdOnly;
    return this;
  }

  get full(): boolean {
    return this.n >= this.cap;
  }

  /** `a` of the worst kept hit (Infinity until full). */
  get worstA(): number {
    return this.full ? this.a[0]! : Infinity;
  }

  /** Metres of the worst kept hit (Infinity until full). */
  get worstD(): number {
    return this.full ? this.d[0]! : Infinity;
  }

  push(a: number, d: number, cell: Cell, slot: number): void {
    if (this.n < this.cap) {
      const i = this.n++;
      this.put(i, a, d, cell, slot);
      this.up(i);
      return;
    }
    const top = this.d[0]!;
    if (d > top || (d === top && cell.ids[slot]! >= this.userId(0))) return;
    this.put(0, a, d, cell, slot);
    this.down(0);
  }

  /** The kept hits, best first (heap-sorted in place: no comparator calls, no copies). */
  sorted(): IndexHit[] {
    for (let end = this.n - 1; end > 0; end--) {
      this.swap(0, end);
      this.down(0, end);
    }
    const out: IndexHit[] = [];
    for (let i = 0; i < this.n; i++) {
      const c = this.cell[i]!;
      const s = this.slot[i]!;
      out.push({
        userId: c.ids[s]!,
        partition: c.part(s),
        lon: c.lon(s),
        lat: c.lat(s),
        time: c.time(s),
        distanceM: this.byIdOnly ? 0 : this.d[i]!,
      });
    }
    return out;
  }

  private userId(i: number): string {
    return this.cell[i]!.ids[this.slot[i]!]!;
  }

  private put(i: number, a: number, d: number, cell: Cell, slot: number): void {
    this.a[i] = a;
    this.d[i] = d;
    this.cell[i] = cell;
    this.slot[i] = slot;
  }

  /** Is item i ordered after item j (worse)? */
  private worse(i: number, j: number): boolean {
    const di = this.d[i]!;
    const dj = this.d[j]!;
    return di > dj || (di === dj && this.userId(i) > this.userId(j));
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.worse(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  /** Sifts item i down within the first n items. */
  private down(i: number, n = this.n): void {
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

  // Written out per array: a generic swap helper, seeing three array types, ran
  // the whole query ~25% slower (measured).
  private swap(i: number, j: number): void {
    const { a, d, slot, cell } = this;
    const ta = a[i]!;
    a[i] = a[j]!;
    a[j] = ta;
    const td = d[i]!;
    d[i] = d[j]!;
    d[j] = td;
    const ts = slot[i]!;
    slot[i] = slot[j]!;
    slot[j] = ts;
    const tc = cell[i]!;
    cell[i] = cell[j]!;
    cell[j] = tc;
  }
}
