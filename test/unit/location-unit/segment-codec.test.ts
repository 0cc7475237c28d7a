// Write-ahead segments: packing GPS points is lossless (any user id, any
// double), keeps the order, and a damaged segment is an error, not a guess.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodePoints,
  decodeTrack,
  encodePoints,
  encodeTrack,
} from '../../../services/location-unit/src/segment-codec.js';
import type { Point } from '../../../services/location-unit/src/unit-state.js';

const point = fc.record({
  user_id: fc.string({ unit: 'grapheme', maxLength: 40 }),
  lon: fc.double(),
  lat: fc.double(),
  time: fc.maxSafeNat(),
  speed: fc.double(),
  direction: fc.double(),
});

describe('location-unit segment codec', function () {
  it('decodes exactly what it encoded, in order', function () {
    fc.assert(
      fc.property(fc.array(point, { maxLength: 50 }), (points: Point[]) => {
        // Object.is semantics per field: NaN and -0 survive too.
        const back = decodePoints(encodePoints(points));
        assert.equal(back.length, points.length);
        back.forEach((b, i) => {
          const p = points[i]!;
          for (const k of ['lon', 'lat', 'time', 'speed', 'direction'] as const) assert.ok(Object.is(b[k], p[k]), k);
          assert.equal(b.user_id, p.user_id);
        });
      }),
    );
  });

  it('encodes nothing as an empty segment', function () {
    assert.equal(encodePoints([]).length, 0);
    assert.deepEqual(decodePoints(new Uint8Array(0)), []);
  });

  it('decodes a segment given as a plain Uint8Array view (as BSON Binary hands it back)', function () {
    const buf = encodePoints([
      { user_id: 'zoë', lon: 8.5, lat: 47.4, time: 1_700_000_000_000, speed: 3, direction: 90 },
    ]);
    const copy = new Uint8Array(buf.length + 7);
    copy.set(buf, 7);
    assert.deepEqual(decodePoints(copy.subarray(7)), [
      { user_id: 'zoë', lon: 8.5, lat: 47.4, time: 1_700_000_000_000, speed: 3, direction: 90 },
    ]);
  });

  it('refuses a truncated segment with the byte where it ends', function () {
    const buf = encodePoints([
      { user_id: 'a', lon: 1, lat: 2, time: 3, speed: 4, direction: 5 },
      { user_id: 'bb', lon: 1, lat: 2, time: 3, speed: 4, direction: 5 },
    ]);
    assert.throws(() => decodePoints(buf.subarray(0, buf.length - 1)), /^RangeError: segment truncated at byte 45$/);
    assert.throws(() => decodePoints(buf.subarray(0, 44)), /^RangeError: segment truncated at byte 43$/);
  });

  it('refuses a user id longer than 65535 bytes', function () {
    assert.throws(
      () => encodePoints([{ user_id: 'x'.repeat(70_000), lon: 0, lat: 0, time: 0, speed: 0, direction: 0 }]),
      /user id of 70000 bytes does not fit a segment/,
    );
  });

  it('packs a recent track losslessly and refuses a damaged one', function () {
    fc.assert(
      fc.property(
        fc.array(fc.record({ t: fc.maxSafeNat(), lon: fc.double({ noNaN: true }), lat: fc.double({ noNaN: true }) })),
        (track) =>
          assert.deepEqual(
            decodeTrack(encodeTrack(track)),
            track.map((p) => ({ ...p })),
          ),
      ),
    );
    assert.throws(
      () => decodeTrack(new Uint8Array(25)),
      /^RangeError: a packed track is a multiple of 24 bytes, got 25$/,
    );
  });
});
