// The benchmark's users: spread uniformly over a 50 km square near 47.2 N.

export const LON0 = 8.3;
export const LAT0 = 47.2;
export const SQ_LON = 50_000 / (111_320 * Math.cos(((LAT0 + 0.225) * Math.PI) / 180));
export const SQ_LAT = 50_000 / 110_574;

/**
 * mulberry32: an LCG's consecutive outputs lie on a few lines, which put the
 * "uniform" users into dense stripes (the first runs of this benchmark did).
 */
export function seededRandom(seed = 1): () => number {
  return (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BenchUser {
  user_id: string;
  lon: number;
  lat: number;
  time: number;
  speed: number;
  direction: number;
}

/** `count` users u0…, reported a second ago, drawn from `rnd`. */
export function benchUsers(count: number, rnd: () => number): BenchUser[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => ({
    user_id: `u${i}`,
    lon: LON0 + rnd() * SQ_LON,
    lat: LAT0 + rnd() * SQ_LAT,
    time: now - 1000,
    speed: 0,
    direction: 0,
  }));
}
