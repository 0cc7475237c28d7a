// The queues EasyMQ declares at start: the platform's own (mq_gps, partitioned by
// spec.locationUnit.partitions) followed by the Platform's spec.mq.queues.
import { GPS_QUEUE } from '../api/components.js';
import type { Platform, QueueSpec } from '../api/types.js';

export function declaredQueues(platform: Platform): QueueSpec[] {
  const own: QueueSpec = {
    name: GPS_QUEUE,
    kind: 'partitioned',
    durable: true,
    partitions: platform.spec.locationUnit.partitions,
  };
  // Fixed key order so the JSON (and with it the config hash) is byte-identical every time.
  return [own, ...platform.spec.mq.queues].map((q) => ({
    name: q.name,
    kind: q.kind,
    durable: q.durable,
    ...(q.partitions !== undefined ? { partitions: q.partitions } : {}),
  }));
}
