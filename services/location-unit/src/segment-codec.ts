// The packed form of a batch of GPS points, as one write-ahead segment stores
// them: one BSON Binary per (partition, batch) instead of one document per point
// (FerretDB 1.x inserts ~30k documents/s but hundreds of thousands of points/s
// packed). Per point: u16 byte length + UTF-8 user id, then five little-endian
// float64: time, lon, lat, speed, direction (lossless: time is an integer ms
// value well inside 2^53). Latest records keep their recent track packed the
// same way: a BSON array of sub-documents costs FerretDB ~3× the insert time.
import type { TrackPoint } from './track-ring.js';
import type { Point } from './unit-state.js';

const FIXED = 2 + 5 * 8;
const MAX_ID_BYTES = 0xffff;

/** A Buffer view of BSON Binary's bytes (no copy). */
const asBuffer = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function encodePoints(points: readonly Point[]): Buffer {
  const ids = points.map((p) => Buffer.from(p.user_id, 'utf8'));
  let size = 0;
  for (const id of ids) {
    if (id.length > MAX_ID_BYTES) throw new RangeError(`user id of ${id.length} bytes does not fit a segment`);
    size += FIXED + id.length;
  }
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const id = ids[i]!;
    out.writeUInt16LE(id.length, o);
    o += 2;
    o += id.copy(out, o);
    o = out.writeDoubleLE(p.time, o);
    o = out.writeDoubleLE(p.lon, o);
    o = out.writeDoubleLE(p.lat, o);
    o = out.writeDoubleLE(p.speed, o);
    o = out.writeDoubleLE(p.direction, o);
  }
  return out;
}

/** The points of a segment, in the order they were encoded; throws on a truncated buffer. */
export function decodePoints(buf: Uint8Array): Point[] {
  const b = asBuffer(buf);
  const out: Point[] = [];
  let o = 0;
  while (o < b.length) {
    if (o + 2 > b.length) throw new RangeError(`segment truncated at byte ${o}`);
    const n = b.readUInt16LE(o);
    o += 2;
    if (o + n + 40 > b.length) throw new RangeError(`segment truncated at byte ${o}`);
    const user_id = b.toString('utf8', o, o + n);
    o += n;
    out.push({
      user_id,
      time: b.readDoubleLE(o),
      lon: b.readDoubleLE(o + 8),
      lat: b.readDoubleLE(o + 16),
      speed: b.readDoubleLE(o + 24),
      direction: b.readDoubleLE(o + 32),
    });
    o += 40;
  }
  return out;
}

/** A recent track packed for its latest record: three float64 per point (t, lon, lat). */
export function encodeTrack(track: readonly TrackPoint[]): Buffer {
  const out = Buffer.allocUnsafe(track.length * 24);
  let o = 0;
  for (const p of track) {
    o = out.writeDoubleLE(p.t, o);
    o = out.writeDoubleLE(p.lon, o);
    o = out.writeDoubleLE(p.lat, o);
  }
  return out;
}

export function decodeTrack(buf: Uint8Array): TrackPoint[] {
  const b = asBuffer(buf);
  if (b.length % 24 !== 0) throw new RangeError(`a packed track is a multiple of 24 bytes, got ${b.length}`);
  const out: TrackPoint[] = [];
  for (let o = 0; o < b.length; o += 24) {
    out.push({ t: b.readDoubleLE(o), lon: b.readDoubleLE(o + 8), lat: b.readDoubleLE(o + 16) });
  }
  return out;
}
