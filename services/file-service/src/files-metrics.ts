// The file service's own Prometheus series, next to the runtime's defaults.
import client from 'prom-client';
import type { Metrics } from '../../runtime/src/metrics.js';

export interface FilesMetrics {
  requests: client.Counter<'route' | 'method' | 'status'>;
  bytes: client.Counter<'direction'>;
  uploadsActive: client.Gauge;
  swept: client.Counter<'kind'>;
}

export function createFilesMetrics(m: Metrics): FilesMetrics {
  const registers = [m.registry];
  return {
    requests: new client.Counter({
      name: 'tce_files_http_requests_total',
      help: 'HTTP requests answered, by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers,
    }),
    bytes: new client.Counter({
      name: 'tce_files_bytes_total',
      help: 'File bytes stored (in) and served (out).',
      labelNames: ['direction'],
      registers,
    }),
    uploadsActive: new client.Gauge({
      name: 'tce_files_uploads_active',
      help: 'Upload bodies being streamed into the store right now.',
      registers,
    }),
    swept: new client.Counter({
      name: 'tce_files_swept_total',
      help: 'Records removed by the sweeper: expired files, expired uploads, dead plain uploads, lock records of gone uploads.',
      labelNames: ['kind'],
      registers,
    }),
  };
}
