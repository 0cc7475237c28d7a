// The bounded recent track of one user: the last N points by time, oldest
// first. Out-of-order arrivals (mq redelivery) slot into place; a point with a
// time already present is a duplicate and ignored. Persisted with the user's
// latest position, so a unit that takes the partition over restores it.

export interface TrackPoint {
  t: number;
  lon: number;
  lat: number;
}

/** Returns the track with `p` added, keeping the newest `cap` points (a new array; inputs are not mutated). */
export function addToTrack(track: readonly TrackPoint[], p: TrackPoint, cap: number): TrackPoint[] {
  if (cap <= 0) return [];
  let i = track.length;
  while (i > 0 && track[i - 1]!.t > p.t) i--;
  if (i > 0 && track[i - 1]!.t === p.t) return track.slice(Math.max(0, track.length - cap));
  const next = [...track.slice(0, i), p, ...track.slice(i)];
  return next.length > cap ? next.slice(next.length - cap) : next;
}
