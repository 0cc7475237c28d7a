// The gateway's settings (besides the common ones every process has). Names
// without the GATEWAY part are fixed platform-wide (ARCHITECTURE.md) and set by
// the operator; the TCE_GATEWAY_* ones are this service's tunables with safe
// defaults (docs/gateway.md explains each).
import type { ConfigOf, Schema } from '../../runtime/src/config.js';
import { verifierSchema } from '../../tokens/src/config.js';

/** The gateway's own settings (the token verifier's come from services/tokens). */
export const gatewayOwnSchema = {
  wsPort: {
    env: 'TCE_WS_PORT',
    type: 'int',
    default: 8080,
    min: 0,
    max: 65535,
    doc: 'Port of the device WebSocket endpoint (path /ws).',
  },
  mongoUrl: {
    env: 'TCE_MONGO_URL',
    type: 'url',
    protocols: ['mongodb', 'mongodb+srv'],
    secret: true,
    doc: 'MongoDB URL including the database name: inboxes, delivery cursors, presence.',
  },
  internalKey: {
    env: 'TCE_INTERNAL_KEY',
    type: 'string',
    secret: true,
    doc: 'Base64 key (≥32 bytes) that signs the caller identity on calls to internal services.',
  },
  authAddr: {
    env: 'TCE_AUTH_ADDR',
    type: 'string',
    default: '',
    doc: 'host:port of auth (IAuthServer). Empty: login and register over the connection answer UNAVAILABLE.',
  },
  mqAddr: {
    env: 'TCE_MQ_ADDR',
    type: 'string',
    default: '',
    doc: 'host:port of EasyMQ (cross-gateway pushes, GPS). Empty: a single standalone gateway without GPS.',
  },
  mqPasswords: {
    env: 'TCE_MQ_PASSWORDS',
    type: 'string',
    default: '{}',
    secret: true,
    doc: 'JSON map queue → password; the gateway uses the entries for mq_gps and for its push topics (gw.*).',
  },
  mqAdminPassword: {
    env: 'TCE_MQ_ADMIN_PASSWORD',
    type: 'string',
    default: '',
    secret: true,
    doc: 'EasyMQ admin credential: the gateway creates its own push topic gw.<id> and removes those of dead replicas.',
  },
  locationAddr: {
    env: 'TCE_LOCATION_ADDR',
    type: 'string',
    default: '',
    doc: 'host:port of the location units (ILocationQuery). Empty: location queries answer UNAVAILABLE.',
  },
  filesPublicUrl: {
    env: 'TCE_FILES_PUBLIC_URL',
    type: 'string',
    default: '/files',
    doc: 'URL of the file service as devices reach it (told to devices in their SessionInfo).',
  },
  allowedOrigins: {
    env: 'TCE_ALLOWED_ORIGINS',
    type: 'list',
    default: [],
    doc: 'Comma-separated browser Origins allowed to open /ws (same-origin and Origin-less clients always are; * allows all).',
  },
  gatewayId: {
    env: 'TCE_GATEWAY_ID',
    type: 'string',
    default: '',
    pattern: /^[A-Za-z0-9._-]{1,63}$/,
    doc: 'This replica’s unique id in presence records and its push topic name (default: the host name).',
  },
  trustProxy: {
    env: 'TCE_GATEWAY_TRUST_PROXY',
    type: 'bool',
    default: false,
    doc: 'Behind nginx/ingress: take the device address from X-Forwarded-For (auth throttles logins per address).',
  },
  maxFrameBytes: {
    env: 'TCE_GATEWAY_MAX_FRAME',
    type: 'int',
    default: 65_536,
    min: 1024,
    max: 16_777_216,
    doc: 'Largest WebSocket message accepted from a device; larger closes the connection with 1009.',
  },
  maxMessageBytes: {
    env: 'TCE_GATEWAY_MAX_MESSAGE_BYTES',
    type: 'int',
    default: 16_384,
    min: 256,
    max: 1_048_576,
    doc: 'Largest MimeText body (UTF-8 bytes) a message may have.',
  },
  rateLimit: {
    env: 'TCE_GATEWAY_RATE_LIMIT',
    type: 'int',
    default: 200,
    min: 1,
    doc: 'Frames per second a connection may send on average; above the burst the connection closes with 1008.',
  },
  rateBurst: {
    env: 'TCE_GATEWAY_RATE_BURST',
    type: 'int',
    default: 400,
    min: 1,
    doc: 'Frames a connection may send in a burst above its rate limit.',
  },
  pingInterval: {
    env: 'TCE_GATEWAY_PING_INTERVAL',
    type: 'duration',
    default: 25_000,
    min: 100,
    doc: 'A connection silent for this long gets a WebSocket ping.',
  },
  idleTimeout: {
    env: 'TCE_GATEWAY_IDLE_TIMEOUT',
    type: 'duration',
    default: 70_000,
    min: 200,
    doc: 'A connection that sends nothing (not even a pong) for this long is closed (4006).',
  },
  loginTimeout: {
    env: 'TCE_GATEWAY_LOGIN_TIMEOUT',
    type: 'duration',
    default: 30_000,
    min: 100,
    doc: 'A connection must be authenticated within this time after opening, or it is closed (4005).',
  },
  maxSendQueueBytes: {
    env: 'TCE_GATEWAY_MAX_SEND_QUEUE',
    type: 'int',
    default: 1_048_576,
    min: 1024,
    doc: 'Bytes queued towards a slow device before it is disconnected (4004); its messages stay in the inbox.',
  },
  pushTimeout: {
    env: 'TCE_GATEWAY_PUSH_TIMEOUT',
    type: 'duration',
    default: 20_000,
    min: 100,
    doc: 'How long the gateway waits for a device to return an ITerminal call (onMessage = delivery ack).',
  },
  optimizeFor: {
    env: 'TCE_GATEWAY_OPTIMIZE_FOR',
    type: 'enum',
    values: ['speed', 'memory'],
    default: 'speed',
    doc: "V8's trade-off. memory = --optimize-for-size: the heap stays near its live size, ~3× less RSS per idle connection after a connection storm; slower storms and ~0.65× the group fan-out rate (docs/gateway.md).",
  },
  pushWindow: {
    env: 'TCE_GATEWAY_PUSH_WINDOW',
    type: 'int',
    default: 32,
    min: 1,
    max: 1024,
    doc: 'Messages pushed and not yet acked per device (onMessage calls, or messages inside onMessages calls; pipelined in sequence order).',
  },
  gapTimeout: {
    env: 'TCE_GATEWAY_GAP_TIMEOUT',
    type: 'duration',
    default: 3000,
    min: 10,
    doc: 'A hole in a recipient’s sequence (a number below written ones, never written: a writer failed mid-batch) is skipped after this wait.',
  },
  presenceHeartbeat: {
    env: 'TCE_GATEWAY_PRESENCE_HEARTBEAT',
    type: 'duration',
    default: 5000,
    min: 50,
    doc: 'How often the gateway renews its liveness record (its presence records depend on it).',
  },
  presenceTtl: {
    env: 'TCE_GATEWAY_PRESENCE_TTL',
    type: 'duration',
    default: 15_000,
    min: 150,
    doc: 'A gateway silent this long is dead: its devices count as offline and its presence records are swept.',
  },
  inboxRetention: {
    env: 'TCE_GATEWAY_INBOX_RETENTION',
    type: 'duration',
    default: 30 * 86_400_000,
    min: 1000,
    doc: 'Messages older than this are deleted; a device behind them gets ITerminal.onReset.',
  },
  sweepInterval: {
    env: 'TCE_GATEWAY_SWEEP_INTERVAL',
    type: 'duration',
    default: 60_000,
    min: 100,
    doc: 'How often expired inbox entries and dead gateways’ presence records are swept.',
  },
  maxConnections: {
    env: 'TCE_GATEWAY_MAX_CONNECTIONS',
    type: 'int',
    default: 500_000,
    min: 1,
    doc: 'Connections above this are refused at upgrade with 503.',
  },
} as const satisfies Schema;

export const gatewaySchema = { ...gatewayOwnSchema, ...verifierSchema } as const satisfies Schema;

export type GatewayConfig = ConfigOf<typeof gatewaySchema>;
