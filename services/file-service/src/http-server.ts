// The HTTP edge: routes under /files, maps every failure to a status once, and
// keeps the process safe from what clients send. Node's own limits do part of
// it (16 KiB of headers → 431; headers not complete in time → 408); bodies are
// guarded by BodyReader's progress deadline instead of a whole-request timer,
// because a large upload on a slow network may legitimately take hours.
//
// Routes:
//   POST   /files                     plain upload (raw or multipart)
//   GET    /files/<id>, HEAD          download (bearer token or signed URL)
//   DELETE /files/<id>                delete (owner)
//   POST   /files/<id>/sign?ttl=S     a signed, expiring download URL
//   OPTIONS, POST /files/uploads      tus discovery, creation
//   HEAD, PATCH, DELETE, OPTIONS /files/uploads/<id>   tus
import http from 'node:http';
import type { Socket } from 'node:net';
import type { FilesContext } from './context.js';
import { handleDownload, mayRead } from './download.js';
import { ClientGone } from './body-reader.js';
import { badRequest, forbidden, httpStatusOf, methodNotAllowed, notFound } from './http-error.js';
import { isValidId } from './ids.js';
import { MAX_SIGNED_TTL_S, signedQuery } from './signed-url.js';
import { TUS_VERSION } from './tus-headers.js';
import { UPLOADS_PATH, tusCreate, tusHead, tusOptions, tusPatch, tusTerminate } from './tus.js';
import { handleUpload } from './upload.js';

/** Time allowed to receive a request's headers (slowloris guard); Node answers 408. */
const HEADERS_TIMEOUT_MS = 20_000;
/** Longer than nginx's upstream keepalive_timeout (60 s), so nginx closes idle connections first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** After an early answer, how long we keep reading (and dropping) the unread body before closing. */
const LINGER_MS = 2000;

interface Route {
  name: string;
  allow: string[];
  handle(method: string): Promise<void> | void;
}

export function createFilesServer(ctx: FilesContext): http.Server {
  const server = http.createServer(
    { requestTimeout: 0, headersTimeout: HEADERS_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS },
    (req, res) => void serve(ctx, req, res),
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Node's defaults answer 400/408/431 here; keep them, but never let the error escape.
    if (socket.writable && !socket.writableEnded) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    } else socket.destroy();
  });
  return server;
}

async function serve(ctx: FilesContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  let routeName = 'unknown';
  const method = effectiveMethod(req);
  try {
    const url = new URL(req.url ?? '/', 'http://files.invalid');
    const route = routeOf(ctx, req, res, url);
    routeName = route.name;
    if (!route.allow.includes(method)) throw methodNotAllowed(route.allow);
    await route.handle(method);
  } catch (err) {
    sendError(ctx, req, res, err, routeName);
  } finally {
    ctx.metrics.requests.inc({ route: routeName, method, status: String(res.statusCode) });
  }
}

/** tus allows X-HTTP-Method-Override for clients that cannot send PATCH/DELETE. */
function effectiveMethod(req: http.IncomingMessage): string {
  const o = req.headers['x-http-method-override'];
  if (req.method === 'POST' && typeof o === 'string' && (req.url ?? '').startsWith(`${UPLOADS_PATH}/`)) {
    return o.toUpperCase();
  }
  return req.method ?? 'GET';
}

function routeOf(ctx: FilesContext, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Route {
  const path = url.pathname;
  const q = url.searchParams;
  if (path === '/files' || path === '/files/') {
    return {
      name: 'upload',
      allow: ['POST'],
      handle: async () => {
        const caller = ctx.auth.bearer(req);
        const stored = await handleUpload(ctx, req, caller, q);
        sendJson(res, 201, stored, { location: stored.uri });
      },
    };
  }
  if (path === UPLOADS_PATH || path === `${UPLOADS_PATH}/`) {
    return {
      name: 'tus-create',
      allow: ['OPTIONS', 'POST'],
      handle: (m) => (m === 'OPTIONS' ? tusOptions(ctx, res) : tusCreate(ctx, req, res, ctx.auth.bearer(req))),
    };
  }
  const parts = path.split('/');
  if (parts.length === 4 && `/${parts[1]}/${parts[2]}` === UPLOADS_PATH) {
    const id = parts[3]!;
    return {
      name: 'tus-upload',
      allow: ['HEAD', 'PATCH', 'DELETE', 'OPTIONS'],
      handle: async (m) => {
        if (m === 'OPTIONS') return tusOptions(ctx, res);
        const caller = ctx.auth.bearer(req);
        if (!isValidId(id)) throw notFound('no such upload');
        if (m === 'HEAD') return tusHead(ctx, req, res, id, caller);
        if (m === 'PATCH') return tusPatch(ctx, req, res, id, caller);
        return tusTerminate(ctx, req, res, id, caller);
      },
    };
  }
  if (parts.length === 3 && parts[1] === 'files') {
    const id = parts[2]!;
    return {
      name: 'file',
      allow: ['GET', 'HEAD', 'DELETE'],
      handle: async (m) => {
        if (!isValidId(id)) throw badRequest('invalid file id');
        if (m === 'DELETE') {
          const caller = ctx.auth.bearer(req);
          const r = await ctx.store.removeFile(id, caller.userId);
          if (r === 'not-found') throw notFound();
          if (r === 'forbidden') throw forbidden('only the owner may delete a file');
          ctx.logger.info('Deleted file', { id, owner: caller.userId });
          res.writeHead(204).end();
          return;
        }
        await handleDownload(ctx, req, res, id, q);
      },
    };
  }
  if (parts.length === 4 && parts[1] === 'files' && parts[3] === 'sign') {
    const id = parts[2]!;
    return {
      name: 'sign',
      allow: ['POST'],
      handle: async () => {
        const caller = ctx.auth.bearer(req);
        if (!isValidId(id)) throw badRequest('invalid file id');
        const ttl = Number(q.get('ttl') ?? '3600');
        if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_SIGNED_TTL_S) {
          throw badRequest(`ttl must be an integer between 1 and ${MAX_SIGNED_TTL_S}`);
        }
        const file = await ctx.store.getFile(id);
        if (!file || !mayRead(file, caller)) throw notFound();
        const exp = Math.floor(Date.now() / 1000) + ttl;
        sendJson(res, 200, {
          url: `/files/${id}?${signedQuery(ctx.settings.signingKey, id, exp)}`,
          expiresAt: exp * 1000,
        });
      },
    };
  }
  return {
    name: 'none',
    allow: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    handle: () => {
      throw notFound('not found');
    },
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      ...headers,
    })
    .end(text);
}

function sendError(
  ctx: FilesContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  err: unknown,
  route: string,
): void {
  if (err instanceof ClientGone) {
    ctx.logger.debug('Client went away', { route, url: req.url });
    res.destroy();
    return;
  }
  const { status, code, message, headers } = httpStatusOf(err);
  if (status >= 500) ctx.logger.error('Request failed', { route, method: req.method, err });
  else ctx.logger.debug('Request refused', { route, method: req.method, status, message });
  if (res.headersSent) {
    // Mid-body failure (e.g. a damaged file while streaming): all we can do is cut the response short.
    res.destroy();
    return;
  }
  const h: Record<string, string> = { ...headers };
  if (route.startsWith('tus')) h['tus-resumable'] = TUS_VERSION;
  if (req.method === 'HEAD' || status === 304) res.writeHead(status, h).end();
  else sendJson(res, status, { error: { code, message } }, h);
  // A body we did not read to its end may be gigabytes: do not read on, but do not slam the door either.
  if (!req.complete) linger(req);
}

/**
 * After an early answer, drains the unread body for a moment, then closes.
 * Closing at once (`Connection: close`) would close a socket with unread input,
 * and the kernel's reset can destroy our answer before the peer (nginx or a
 * client still sending) has read it; a body that ends in time keeps the
 * connection usable.
 */
function linger(req: http.IncomingMessage): void {
  const socket = req.socket;
  req.resume();
  // Checked, not awaited: a body that completed leaves the connection to the next request on it.
  const t = setTimeout(() => {
    if (!req.complete) socket.destroy();
  }, LINGER_MS);
  t.unref();
  socket.once('close', () => clearTimeout(t));
}
