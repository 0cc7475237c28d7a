// The device endpoint: HTTP server whose only route is the WebSocket upgrade
// on /ws. Everything that can be decided before a connection exists is decided
// here, with a plain HTTP status: wrong path (404), not an upgrade (426),
// foreign browser Origin (403), bad access token given at connect (401),
// capacity (503). Compression is off (memory per connection, CPU per frame).
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { PlatformError } from '../../runtime/src/errors.js';
import type { Logger } from '../../runtime/src/logger.js';
import type { AccessClaims } from '../../tokens/src/index.js';
import type { Hub } from './hub.js';
import type { GatewayMetrics } from './metrics.js';
import { originAllowed, type OriginPolicy } from './origin-policy.js';

export const WS_PATH = '/ws';

export interface WsServerOptions {
  hub: Hub;
  origins: OriginPolicy;
  maxFrameBytes: number;
  maxConnections: number;
  /** Take the client address from X-Forwarded-For (only behind a trusted proxy). */
  trustProxy: boolean;
  logger: Logger;
  metrics: GatewayMetrics;
}

export interface WsServer {
  server: http.Server;
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting; existing connections are closed by the hub. */
  close(): Promise<void>;
}

const STATUS_TEXT: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  426: 'Upgrade Required',
  503: 'Service Unavailable',
};

function refuse(socket: Duplex, status: number, body: string): void {
  const text = `${body}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

/** The access token given at connect: `Authorization: Bearer …` or `?access_token=…` (browsers cannot set headers). */
export function tokenFromRequest(req: http.IncomingMessage, url: URL): string | undefined {
  const h = req.headers.authorization;
  if (h) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    return m ? m[1] : '';
  }
  return url.searchParams.get('access_token') ?? undefined;
}

export function clientAddress(req: http.IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const v = Array.isArray(xff) ? xff[xff.length - 1] : xff;
    // The right-most entry is the one our proxy appended (the others the client could forge).
    const last = v?.split(',').pop()?.trim();
    if (last) return last;
    const real = req.headers['x-real-ip'];
    if (typeof real === 'string' && real) return real;
  }
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

export function createWsServer(opts: WsServerOptions): WsServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
    skipUTF8Validation: true,
  });
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === WS_PATH) {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket', connection: 'Upgrade' });
      res.end('use a WebSocket (binary frames, docs/protocol.md)\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://gateway.invalid');
    } catch {
      opts.metrics.refused.inc({ reason: 'path' });
      return refuse(socket, 404, 'not found');
    }
    if (url.pathname !== WS_PATH) {
      opts.metrics.refused.inc({ reason: 'path' });
      return refuse(socket, 404, 'not found');
    }
    const origin = req.headers.origin;
    const secure = req.headers['x-forwarded-proto'] === 'https';
    if (!originAllowed(opts.origins, origin, req.headers.host, secure)) {
      opts.metrics.refused.inc({ reason: 'origin' });
      opts.logger.info('Refused a WebSocket from a foreign origin', { origin });
      return refuse(socket, 403, `origin not allowed: ${String(origin).slice(0, 100)}`);
    }
    if (opts.hub.size >= opts.maxConnections) {
      opts.metrics.refused.inc({ reason: 'capacity' });
      return refuse(socket, 503, 'gateway at capacity; try another replica');
    }
    const pushBatch = url.searchParams.get('push_batch');
    if (pushBatch !== null && pushBatch !== '0' && pushBatch !== '1') {
      opts.metrics.refused.inc({ reason: 'query' });
      return refuse(socket, 400, `push_batch must be 0 or 1, not ${JSON.stringify(pushBatch.slice(0, 40))}`);
    }
    let claims: AccessClaims | undefined;
    const token = tokenFromRequest(req, url);
    if (token !== undefined) {
      try {
        claims = opts.hub.verify(token);
      } catch (err) {
        opts.metrics.refused.inc({ reason: 'token' });
        return refuse(socket, 401, err instanceof PlatformError ? err.message : 'invalid access token');
      }
    }
    const peer = clientAddress(req, opts.trustProxy);
    wss.handleUpgrade(req, socket, head, (ws) => {
      opts.hub.accept(ws, socket, peer, claims, pushBatch === '1');
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return {
    server,
    listen: (host, port) =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port, backlog: 4096 }, () => {
          const a = server.address();
          resolve(typeof a === 'object' && a ? a.port : port);
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Upgraded sockets are not the server's any more; idle keep-alive ones are.
        server.closeIdleConnections();
      }),
  };
}
