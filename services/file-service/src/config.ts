// The file service's settings (besides the common ones every process has).
// Names marked "platform" are fixed by ARCHITECTURE.md and set by the operator;
// the TCE_FILES_* ones are this service's own tunables with safe defaults.
import type { Schema } from '../../runtime/src/config.js';
import { verifierSchema } from '../../tokens/src/config.js';

/** The file service's own settings (README rows for component 'file-service'). */
export const fileServiceOwnSchema = {
  httpPort: {
    env: 'TCE_HTTP_PORT',
    type: 'int',
    default: 8081,
    min: 0,
    max: 65535,
    doc: 'HTTP port of the file service (path prefix /files), behind nginx.',
  },
  grpcPort: {
    env: 'TCE_FILES_GRPC_PORT',
    type: 'int',
    default: 50054,
    min: 0,
    max: 65535,
    doc: 'gRPC port of files::IFileMeta (stat, signUrl, remove) for the platform’s own services.',
  },
  mongoUrl: {
    env: 'TCE_MONGO_URL',
    type: 'url',
    protocols: ['mongodb', 'mongodb+srv'],
    secret: true,
    doc: 'MongoDB URL including the database name; files live in its GridFS bucket `fs`.',
  },
  internalKey: {
    env: 'TCE_INTERNAL_KEY',
    type: 'string',
    secret: true,
    doc: 'Base64 key (≥32 bytes) that verifies caller identities on internal gRPC calls.',
  },
  urlSigningKey: {
    env: 'TCE_URL_SIGNING_KEY',
    type: 'string',
    secret: true,
    doc: 'Base64 key (≥32 bytes) for signed, expiring download URLs (?exp=&sig=).',
  },
  maxUploadBytes: {
    env: 'TCE_MAX_UPLOAD_BYTES',
    type: 'int',
    default: 1_073_741_824,
    min: 1,
    max: 1_099_511_627_776,
    doc: 'Largest file accepted, in bytes; larger uploads get 413 and leave nothing behind.',
  },
  retention: {
    env: 'TCE_FILE_RETENTION',
    type: 'duration',
    default: 30 * 86_400_000,
    min: 1000,
    doc: 'How long an offline-transfer file waits for its recipient before it is deleted.',
  },
  uploadExpiry: {
    env: 'TCE_FILES_UPLOAD_EXPIRY',
    type: 'duration',
    default: 86_400_000,
    min: 1000,
    doc: 'How long an unfinished resumable (tus) upload is kept before the sweeper removes it.',
  },
  bodyTimeout: {
    env: 'TCE_FILES_BODY_TIMEOUT',
    type: 'duration',
    default: 30_000,
    min: 100,
    doc: 'An upload body that delivers less than 1 KiB within this much waiting time is answered 408.',
  },
  sweepInterval: {
    env: 'TCE_FILES_SWEEP_INTERVAL',
    type: 'duration',
    default: 60_000,
    min: 100,
    doc: 'How often each replica sweeps expired files, expired uploads, chunks of dead uploads and lock records of gone uploads.',
  },
  chunkBytes: {
    env: 'TCE_FILES_CHUNK_BYTES',
    type: 'int',
    default: 261_120,
    min: 1024,
    max: 4_194_304,
    doc: 'GridFS chunk size for new files (255 KiB, the GridFS default).',
  },
} as const satisfies Schema;

/** Everything the process reads: its own settings plus the token verifier's (TCE_TOKEN_KEYS, TCE_REVOCATION_POLL). */
export const fileServiceSchema = { ...fileServiceOwnSchema, ...verifierSchema } as const satisfies Schema;
