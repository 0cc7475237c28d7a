// location::ILocationReport for devices: a GPS point goes to the partitioned
// queue mq_gps keyed by the reporting user (so one location unit owns each
// user), as an encoded location.GpsPoint with the user id from the session.
import { GpsPoint } from '../../../proto/gen/ts/location.js';
import type { ILocationReportServant } from '../../../proto/gen/ts/location.tce.js';
import type { CallContext } from '../../runtime/src/call-context.js';
import { PlatformError, invalidArgument } from '../../runtime/src/errors.js';
import type { Logger } from '../../runtime/src/logger.js';
import type { MqClient } from '../../mq/src/client/index.js';
import { sessionOf } from './local-invoke.js';
import type { GatewayMetrics } from './metrics.js';

export const GPS_QUEUE = 'mq_gps';
/** Reports more than this far from the gateway's clock are refused (ms). */
const MAX_CLOCK_SKEW_MS = 24 * 3600_000;

export interface GpsPublisher {
  publish(key: string, payload: Uint8Array): Promise<void>;
}

export function mqGpsPublisher(mq: MqClient, password: string): GpsPublisher {
  return {
    publish: async (key, payload) => {
      await mq.publish(GPS_QUEUE, password, { key, payload });
    },
  };
}

/** Validates a report; returns the point to publish. */
export function gpsPoint(
  userId: string,
  lon: number,
  lat: number,
  speed: number,
  direction: number,
  time: number,
  now = Date.now(),
): GpsPoint {
  const bad = (what: string): never => {
    throw invalidArgument(what);
  };
  if (!Number.isFinite(lon) || lon < -180 || lon > 180) bad(`lon must be between -180 and 180, got ${lon}`);
  if (!Number.isFinite(lat) || lat < -90 || lat > 90) bad(`lat must be between -90 and 90, got ${lat}`);
  if (!Number.isFinite(speed) || speed < 0 || speed > 1e5) bad(`speed must be between 0 and 100000 m/s, got ${speed}`);
  if (!Number.isFinite(direction) || direction < 0 || direction >= 360)
    bad(`direction must be in [0, 360), got ${direction}`);
  if (!Number.isSafeInteger(time) || time < 0) bad(`time must be ms since the epoch (0 = now), got ${time}`);
  const t = time === 0 ? now : time;
  if (Math.abs(t - now) > MAX_CLOCK_SKEW_MS) bad('time is more than a day away from the gateway clock');
  return { user_id: userId, lon, lat, time: t, speed, direction };
}

export class GpsServant implements ILocationReportServant {
  constructor(
    private readonly publisher: GpsPublisher | undefined,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
  ) {}

  async reportGps(
    lon: number,
    lat: number,
    speed: number,
    direction: number,
    time: number,
    ctx: CallContext,
  ): Promise<void> {
    const s = sessionOf(ctx);
    const point = gpsPoint(s.userId, lon, lat, speed, direction, time);
    if (!this.publisher)
      throw new PlatformError('UNAVAILABLE', 'GPS reports need EasyMQ (TCE_MQ_ADDR) on this gateway');
    try {
      await this.publisher.publish(s.userId, GpsPoint.encode(point).finish());
      this.metrics.gpsPublished.inc({ outcome: 'ok' });
    } catch (err) {
      this.metrics.gpsPublished.inc({ outcome: 'failed' });
      this.logger.warn('Failed to publish a GPS report', { err, user: s.userId });
      throw new PlatformError('UNAVAILABLE', 'GPS report not accepted; retry');
    }
  }
}
