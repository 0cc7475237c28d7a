// Settings of a location unit (every process also has the common ones).
import { ConfigError, type Schema } from '../../runtime/src/config.js';

export const locationUnitSchema = {
  grpcPort: {
    env: 'TCE_GRPC_PORT',
    type: 'int',
    default: 50053,
    min: 0,
    max: 65535,
    doc: 'Port of the gRPC server (location queries, unit-to-unit calls).',
  },
  mongoUrl: {
    env: 'TCE_MONGO_URL',
    type: 'url',
    protocols: ['mongodb', 'mongodb+srv'],
    secret: true,
    doc: 'MongoDB URL with the database name: GPS points and latest positions.',
  },
  mqAddr: {
    env: 'TCE_MQ_ADDR',
    type: 'string',
    default: '',
    doc: 'host:port of EasyMQ. Units consume `mq_gps` as one consumer group. Empty: static sharding (TCE_LOCATION_PARTITIONS, TCE_LOCATION_PEERS), points only through ingest().',
  },
  gpsPartitions: {
    env: 'TCE_GPS_PARTITIONS',
    type: 'int',
    default: 64,
    min: 1,
    max: 4096,
    doc: 'Partition count of the `mq_gps` queue (the same for every unit; the operator and local mode declare the queue with it).',
  },
  staleAfter: {
    env: 'TCE_LOCATION_STALE_AFTER',
    type: 'duration',
    default: 15 * 60_000,
    min: 1000,
    doc: 'Positions older than this are left out of nearby and within.',
  },
  advertiseAddr: {
    env: 'TCE_ADVERTISE_ADDR',
    type: 'string',
    default: '',
    doc: 'host:port other units reach this unit at (the pod IP and gRPC port in Kubernetes). Empty: <hostname>:TCE_GRPC_PORT.',
  },
  mqPassword: {
    env: 'TCE_LOCATION_MQ_PASSWORD',
    type: 'string',
    default: '',
    secret: true,
    doc: 'Password of the `mq_gps` queue.',
  },
  peers: {
    env: 'TCE_LOCATION_PEERS',
    type: 'list',
    default: [],
    doc: 'Static sharding only: comma-separated gRPC addresses of all units (this one included).',
  },
  ownedPartitions: {
    env: 'TCE_LOCATION_PARTITIONS',
    type: 'string',
    default: 'all',
    pattern: /^(all|\d+(-\d+)?(,\d+(-\d+)?)*)$/,
    doc: 'Static sharding only: the partitions this unit owns, e.g. 0-31,40 or all.',
  },
  trackPoints: {
    env: 'TCE_LOCATION_TRACK_POINTS',
    type: 'int',
    default: 20,
    min: 0,
    max: 1000,
    doc: 'Recent points kept per user in memory (with the latest position).',
  },
  queryTimeout: {
    env: 'TCE_LOCATION_QUERY_TIMEOUT',
    type: 'duration',
    default: 2000,
    min: 10,
    doc: 'Upper bound of a fanned-out query (map + reduce), also when the caller allows longer.',
  },
  flushInterval: {
    env: 'TCE_LOCATION_FLUSH_INTERVAL',
    type: 'duration',
    default: 20,
    min: 1,
    doc: 'Longest a point waits before its batch is written to the store.',
  },
  batchPoints: {
    env: 'TCE_LOCATION_BATCH_POINTS',
    type: 'int',
    default: 2000,
    min: 1,
    max: 100_000,
    doc: 'Most points written to the store in one batch.',
  },
  internalKey: {
    env: 'TCE_INTERNAL_KEY',
    type: 'string',
    default: '',
    secret: true,
    doc: 'Base64 key (≥32 bytes) that verifies caller identities between services.',
  },
} as const satisfies Schema;

/** "0-3,7" → [0,1,2,3,7]; "all" → every partition. Throws on a partition ≥ count. */
export function parsePartitions(spec: string, count: number): number[] {
  if (spec === 'all') return Array.from({ length: count }, (_, i) => i);
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    const hi = b ?? a;
    if (hi < a || hi >= count)
      throw new ConfigError([`TCE_LOCATION_PARTITIONS: '${part}' is not within 0-${count - 1}`]);
    for (let p = a; p <= hi; p++) out.add(p);
  }
  return [...out].sort((x, y) => x - y);
}
