// Geometry: haversine on the WGS84 mean radius, the cap bounding box at the
// antimeridian and the poles, and the exact validation messages.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  capBounds,
  checkLat,
  checkLon,
  checkRadius,
  checkRect,
  EARTH_RADIUS_M,
  haversineMeters,
  inRect,
  MAX_RADIUS_M,
  resolveLimit,
} from '../../../services/location-unit/src/geometry.js';
import { PlatformError } from '../../../services/runtime/src/errors.js';

const near = (a: number, b: number, tol: number): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b} (±${tol})`);

describe('location-unit geometry', function () {
  describe('haversineMeters', function () {
    const quarter = (Math.PI / 2) * EARTH_RADIUS_M;
    const cases: [string, [number, number, number, number], number, number][] = [
      ['same point', [13.4, 52.5, 13.4, 52.5], 0, 0],
      ['one degree of latitude', [0, 0, 0, 1], EARTH_RADIUS_M * (Math.PI / 180), 1e-6],
      ['equator to pole', [0, 0, 0, 90], quarter, 1e-6],
      ['pole to pole', [0, 90, 0, -90], Math.PI * EARTH_RADIUS_M, 1e-6],
      ['antipodes on the equator', [0, 0, 180, 0], Math.PI * EARTH_RADIUS_M, 1e-6],
      ['across the antimeridian (179.9 → -179.9)', [179.9, 0, -179.9, 0], EARTH_RADIUS_M * 0.2 * (Math.PI / 180), 1e-6],
      ['-180 and 180 are one meridian', [-180, 10, 180, 10], 0, 1e-6],
      ['at the pole longitude does not matter', [0, 90, 123, 90], 0, 1e-6],
      ['Berlin → Paris ≈ 878 km', [13.405, 52.52, 2.3522, 48.8566], 877_500, 1500],
    ];
    for (const [name, [lon1, lat1, lon2, lat2], want, tol] of cases) {
      it(name, function () {
        near(haversineMeters(lon1, lat1, lon2, lat2), want, tol);
      });
    }

    it('is symmetric and never exceeds half the circumference', function () {
      const lon = fc.double({ min: -180, max: 180, noNaN: true });
      const lat = fc.double({ min: -90, max: 90, noNaN: true });
      fc.assert(
        fc.property(lon, lat, lon, lat, (a, b, c, d) => {
          const x = haversineMeters(a, b, c, d);
          near(x, haversineMeters(c, d, a, b), 1e-6);
          assert.ok(x >= 0 && x <= MAX_RADIUS_M + 1e-6);
        }),
      );
    });
  });

  describe('capBounds', function () {
    it('splits the longitude range at the antimeridian', function () {
      const b = capBounds(179.99, 0, 5000 / EARTH_RADIUS_M);
      assert.equal(b.lonRanges.length, 2);
      assert.equal(b.lonRanges[0]![1], 180);
      assert.equal(b.lonRanges[1]![0], -180);
    });

    it('covers every longitude when the cap contains a pole', function () {
      assert.deepEqual(capBounds(10, 89.99, 5000 / EARTH_RADIUS_M).lonRanges, [[-180, 180]]);
      assert.deepEqual(capBounds(10, -89.99, 5000 / EARTH_RADIUS_M).lonRanges, [[-180, 180]]);
    });

    it('contains every point within the radius (property)', function () {
      fc.assert(
        fc.property(
          fc.double({ min: -180, max: 180, noNaN: true }),
          fc.double({ min: -90, max: 90, noNaN: true }),
          fc.double({ min: 1, max: 3_000_000, noNaN: true }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
          (lon, lat, r, frac, bearing) => {
            // A point at distance frac·r along `bearing` (spherical destination formula).
            const d = (frac * r) / EARTH_RADIUS_M;
            const φ1 = (lat * Math.PI) / 180;
            const φ2 = Math.asin(Math.sin(φ1) * Math.cos(d) + Math.cos(φ1) * Math.sin(d) * Math.cos(bearing));
            const λ2 =
              (lon * Math.PI) / 180 +
              Math.atan2(Math.sin(bearing) * Math.sin(d) * Math.cos(φ1), Math.cos(d) - Math.sin(φ1) * Math.sin(φ2));
            let plon = (λ2 * 180) / Math.PI;
            plon = ((((plon + 180) % 360) + 360) % 360) - 180;
            const plat = (φ2 * 180) / Math.PI;
            const b = capBounds(lon, lat, r / EARTH_RADIUS_M);
            const eps = 1e-7;
            assert.ok(plat >= b.minLat - eps && plat <= b.maxLat + eps, `lat ${plat} outside ${b.minLat}..${b.maxLat}`);
            assert.ok(
              b.lonRanges.some(([lo, hi]) => plon >= lo - eps && plon <= hi + eps) ||
                Math.abs(Math.abs(plon) - 180) < eps,
              `lon ${plon} outside ${JSON.stringify(b.lonRanges)}`,
            );
          },
        ),
        { numRuns: 2000 },
      );
    });
  });

  it('inRect handles a rectangle across the antimeridian (min_lon > max_lon)', function () {
    const r = { min_lon: 170, min_lat: -10, max_lon: -170, max_lat: 10 };
    assert.equal(inRect(175, 0, r), true);
    assert.equal(inRect(-175, 0, r), true);
    assert.equal(inRect(0, 0, r), false);
    assert.equal(inRect(175, 11, r), false);
  });

  describe('validation messages', function () {
    const bad: [string, () => void, string][] = [
      ['lat 91', () => checkLat('lat', 91), 'lat must be a number between -90 and 90, got 91'],
      ['lat -90.5', () => checkLat('lat', -90.5), 'lat must be a number between -90 and 90, got -90.5'],
      ['lat NaN', () => checkLat('lat', NaN), 'lat must be a number between -90 and 90, got NaN'],
      ['lon 180.0001', () => checkLon('lon', 180.0001), 'lon must be a number between -180 and 180, got 180.0001'],
      ['lon -Infinity', () => checkLon('lon', -Infinity), 'lon must be a number between -180 and 180, got -Infinity'],
      [
        'radius 0',
        () => checkRadius(0),
        "radius_m must be greater than 0 and at most 20015114 (half the earth's circumference), got 0",
      ],
      [
        'radius -5',
        () => checkRadius(-5),
        "radius_m must be greater than 0 and at most 20015114 (half the earth's circumference), got -5",
      ],
      [
        'radius 1e9',
        () => checkRadius(1e9),
        "radius_m must be greater than 0 and at most 20015114 (half the earth's circumference), got 1000000000",
      ],
      [
        'radius NaN',
        () => checkRadius(NaN),
        "radius_m must be greater than 0 and at most 20015114 (half the earth's circumference), got NaN",
      ],
      [
        'rect upside down',
        () => checkRect({ min_lon: 0, min_lat: 10, max_lon: 1, max_lat: 5 }),
        'rect.min_lat must not be greater than rect.max_lat, got 10 > 5',
      ],
      [
        'rect max_lat 95',
        () => checkRect({ min_lon: 0, min_lat: 0, max_lon: 1, max_lat: 95 }),
        'rect.max_lat must be a number between -90 and 90, got 95',
      ],
      [
        'limit -1',
        () => resolveLimit(-1, 50, 1000),
        'limit must be an integer between 1 and 1000 (0 for the default 50), got -1',
      ],
      [
        'limit 1001',
        () => resolveLimit(1001, 50, 1000),
        'limit must be an integer between 1 and 1000 (0 for the default 50), got 1001',
      ],
    ];
    for (const [name, fn, message] of bad) {
      it(`${name} → INVALID_ARGUMENT`, function () {
        assert.throws(
          fn,
          (e: PlatformError) => e instanceof PlatformError && e.code === 'INVALID_ARGUMENT' && e.message === message,
        );
      });
    }
    it('accepts the edges (±90, ±180, the largest radius) and limit 0 as the default', function () {
      checkLat('lat', 90);
      checkLat('lat', -90);
      checkLon('lon', 180);
      checkLon('lon', -180);
      checkRadius(MAX_RADIUS_M);
      assert.equal(resolveLimit(0, 50, 1000), 50);
    });
  });
});
