// Which incoming GPS points are usable. A bad point from a device must not
// poison a partition: it is dropped (counted and logged), never retried.

import type { Point } from './unit-state.js';

/** Device clocks drift; a point further ahead than this would pin a user's "latest" for hours. */
export const MAX_FUTURE_MS = 10 * 60_000;
export const MAX_USER_ID_LENGTH = 256;

/** undefined when the point is usable, else why not. */
export function pointProblem(p: Point, now: number): string | undefined {
  if (typeof p.user_id !== 'string' || p.user_id.length === 0) return 'user_id is empty';
  if (p.user_id.length > MAX_USER_ID_LENGTH) return `user_id is longer than ${MAX_USER_ID_LENGTH} characters`;
  if (!(p.lon >= -180 && p.lon <= 180)) return `lon must be between -180 and 180, got ${p.lon}`;
  if (!(p.lat >= -90 && p.lat <= 90)) return `lat must be between -90 and 90, got ${p.lat}`;
  if (!Number.isSafeInteger(p.time) || p.time <= 0)
    return `time must be a positive integer (ms since epoch), got ${p.time}`;
  if (p.time > now + MAX_FUTURE_MS) return `time is more than ${MAX_FUTURE_MS / 60_000} minutes in the future`;
  if (!Number.isFinite(p.speed) || !Number.isFinite(p.direction)) return 'speed and direction must be finite numbers';
  return undefined;
}
