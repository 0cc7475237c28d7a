// The reference the index and the units are checked against: a plain scan of
// every latest position with the same distance function.
import { haversineMeters, inRect, type Rect } from '../../../services/location-unit/src/geometry.js';

export interface Pos {
  userId: string;
  lon: number;
  lat: number;
  time: number;
}

const byId = (a: Pos, b: Pos): number => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0);

export function bruteNearby(
  all: Iterable<Pos>,
  lon: number,
  lat: number,
  r: number,
  limit: number,
  minTime = -Infinity,
): { userId: string; d: number }[] {
  const out: { userId: string; d: number }[] = [];
  for (const p of all) {
    if (p.time < minTime) continue;
    const d = haversineMeters(lon, lat, p.lon, p.lat);
    if (d <= r) out.push({ userId: p.userId, d });
  }
  return out.sort((a, b) => a.d - b.d || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0)).slice(0, limit);
}

export function bruteWithin(all: Iterable<Pos>, rect: Rect, limit: number, minTime = -Infinity): string[] {
  return [...all]
    .filter((p) => p.time >= minTime && inRect(p.lon, p.lat, rect))
    .sort(byId)
    .slice(0, limit)
    .map((p) => p.userId);
}
