// Great-circle geometry on a sphere of the WGS84 mean radius, and the strict
// validation of every coordinate a caller can send. One haversine formulation
// is shared by the index and by anything that checks it (tests compare
// distances for equality), so both decide "inside the radius" identically.
import { invalidArgument } from '../../runtime/src/errors.js';

/** WGS84 mean radius R1 = (2a + b) / 3, in metres. */
export const EARTH_RADIUS_M = 6_371_008.8;
/** Half the circumference: no two points on the sphere are farther apart. */
export const MAX_RADIUS_M = Math.PI * EARTH_RADIUS_M;
export const DEG = Math.PI / 180;

export interface Rect {
  min_lon: number;
  min_lat: number;
  max_lon: number;
  max_lat: number;
}

/**
 * The haversine term a = sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2). The distance is
 * monotonic in `a`, so the index compares `a` and takes the arcsine only for hits.
 * Callers pass cos φ precomputed (the index stores it per entry).
 */
export function haversineA(
  lat1: number,
  cosLat1: number,
  lon1: number,
  lat2: number,
  cosLat2: number,
  lon2: number,
): number {
  const s1 = Math.sin(((lat2 - lat1) * DEG) / 2);
  const s2 = Math.sin(((lon2 - lon1) * DEG) / 2);
  return s1 * s1 + cosLat1 * cosLat2 * s2 * s2;
}

/** Central angle in radians for a haversine term (clamped: rounding can push `a` past 1 at antipodes). */
export function angleOfA(a: number): number {
  return 2 * Math.asin(Math.sqrt(Math.min(1, Math.max(0, a))));
}

export function metresOfA(a: number): number {
  return EARTH_RADIUS_M * angleOfA(a);
}

/** The haversine term of a central angle (inverse of angleOfA). */
export function aOfAngle(angle: number): number {
  const s = Math.sin(Math.min(Math.PI, angle) / 2);
  return s * s;
}

/** Great-circle distance in metres. Longitudes wrap naturally (sin² of half the difference). */
export function haversineMeters(lon1: number, lat1: number, lon2: number, lat2: number): number {
  return metresOfA(haversineA(lat1, Math.cos(lat1 * DEG), lon1, lat2, Math.cos(lat2 * DEG), lon2));
}

/** Is `lon` inside [min, max]? A rectangle with min_lon > max_lon crosses the antimeridian. */
export function lonInRange(lon: number, min: number, max: number): boolean {
  return min <= max ? lon >= min && lon <= max : lon >= min || lon <= max;
}

export function inRect(lon: number, lat: number, r: Rect): boolean {
  return lat >= r.min_lat && lat <= r.max_lat && lonInRange(lon, r.min_lon, r.max_lon);
}

/**
 * The longitude/latitude box that contains every point within `angle` radians of
 * (lon, lat): lat band clipped at the poles; when the cap contains a pole every
 * longitude is included; otherwise the exact cap half-width asin(sin δ / cos φ),
 * split in two ranges when it crosses the antimeridian.
 */
export function capBounds(
  lon: number,
  lat: number,
  angle: number,
): { minLat: number; maxLat: number; lonRanges: [number, number][] } {
  const d = angle / DEG;
  const minLat = lat - d;
  const maxLat = lat + d;
  if (minLat <= -90 || maxLat >= 90 || d >= 90) {
    return { minLat: Math.max(-90, minLat), maxLat: Math.min(90, maxLat), lonRanges: [[-180, 180]] };
  }
  const ratio = Math.sin(angle) / Math.cos(lat * DEG);
  if (ratio >= 1) return { minLat, maxLat, lonRanges: [[-180, 180]] };
  const half = Math.asin(ratio) / DEG;
  const lo = lon - half;
  const hi = lon + half;
  const lonRanges: [number, number][] =
    lo < -180
      ? [
          [lo + 360, 180],
          [-180, hi],
        ]
      : hi > 180
        ? [
            [lo, 180],
            [-180, hi - 360],
          ]
        : [[lo, hi]];
  return { minLat, maxLat, lonRanges };
}

// ---------------------------------------------------------------- validation

function isNum(v: unknown): v is number {
  return typeof v === 'number' && !Number.isNaN(v);
}

export function checkLon(name: string, v: number): void {
  if (!isNum(v) || v < -180 || v > 180)
    throw invalidArgument(`${name} must be a number between -180 and 180, got ${v}`);
}

export function checkLat(name: string, v: number): void {
  if (!isNum(v) || v < -90 || v > 90) throw invalidArgument(`${name} must be a number between -90 and 90, got ${v}`);
}

export function checkRadius(v: number): void {
  if (!isNum(v) || !(v > 0) || v > MAX_RADIUS_M) {
    throw invalidArgument(
      `radius_m must be greater than 0 and at most ${Math.floor(MAX_RADIUS_M)} (half the earth's circumference), got ${v}`,
    );
  }
}

export function checkRect(r: Rect): void {
  checkLon('rect.min_lon', r.min_lon);
  checkLat('rect.min_lat', r.min_lat);
  checkLon('rect.max_lon', r.max_lon);
  checkLat('rect.max_lat', r.max_lat);
  if (r.min_lat > r.max_lat) {
    throw invalidArgument(`rect.min_lat must not be greater than rect.max_lat, got ${r.min_lat} > ${r.max_lat}`);
  }
}

/** Result limits: 0 means the default; anything else must lie in [1, max]. */
export function resolveLimit(v: number, def: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw invalidArgument(`limit must be an integer between 1 and ${max} (0 for the default ${def}), got ${v}`);
  }
  return v === 0 ? def : v;
}
