// Auth's configuration schema (the runtime's commonSchema is added by runService).
import { ConfigError, type Schema } from '../../runtime/src/config.js';
import { tokenKeysSchema } from '../../tokens/src/config.js';

/** Auth's own settings (README rows for component 'auth'). */
export const authOwnSchema = {
  grpcPort: {
    env: 'TCE_GRPC_PORT',
    type: 'int',
    default: 50051,
    min: 0,
    max: 65535,
    doc: 'Port of the IAuthServer gRPC endpoint.',
  },
  mongoUrl: {
    env: 'TCE_MONGO_URL',
    type: 'url',
    protocols: ['mongodb', 'mongodb+srv'],
    secret: true,
    doc: 'MongoDB URL including the database name (users, sessions, failed logins, revocations).',
  },
  internalKey: {
    env: 'TCE_INTERNAL_KEY',
    type: 'string',
    secret: true,
    doc: 'Base64 key (≥ 32 bytes) that verifies the caller identity the gateway signs into call metadata.',
  },
  accessTokenTtl: {
    env: 'TCE_ACCESS_TOKEN_TTL',
    type: 'duration',
    default: 15 * 60_000,
    min: 10_000,
    doc: 'Lifetime of access tokens; revoked tokens also stop within TCE_REVOCATION_POLL on the verifiers.',
  },
  refreshTokenTtl: {
    env: 'TCE_REFRESH_TOKEN_TTL',
    type: 'duration',
    default: 30 * 86_400_000,
    min: 60_000,
    doc: 'Lifetime of a refresh token; each refresh issues a new one with a fresh lifetime (an unused session ends after this).',
  },
  lockoutThreshold: {
    env: 'TCE_AUTH_LOCKOUT_THRESHOLD',
    type: 'int',
    default: 5,
    min: 1,
    max: 50,
    doc: 'Failed logins per account (per hour) before delays start; per client address it is four times this.',
  },
  lockoutDelay: {
    env: 'TCE_AUTH_LOCKOUT_DELAY',
    type: 'duration',
    default: 1000,
    min: 100,
    doc: 'First delay after the threshold; it doubles with each further failure up to TCE_AUTH_LOCKOUT_MAX_DELAY.',
  },
  lockoutMaxDelay: {
    env: 'TCE_AUTH_LOCKOUT_MAX_DELAY',
    type: 'duration',
    default: 15 * 60_000,
    min: 1000,
    doc: 'Longest delay between login attempts of a throttled account or address (a soft lockout that lifts by itself).',
  },
} as const satisfies Schema;

/** Everything the auth process reads (plus the runtime's commonSchema). */
export const authSchema = { ...authOwnSchema, ...tokenKeysSchema } as const satisfies Schema;

/** TCE_INTERNAL_KEY must be base64 of at least 32 bytes; fail fast naming the variable. */
export function internalKeyFromConfig(raw: string): Buffer {
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(raw.trim()) ? Buffer.from(raw.trim(), 'base64') : Buffer.alloc(0);
  if (key.length < 32) throw new ConfigError(['TCE_INTERNAL_KEY: must be base64 of at least 32 bytes']);
  return key;
}
