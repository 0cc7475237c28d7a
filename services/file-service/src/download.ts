// GET/HEAD /files/<id>: streamed from GridFS with the HTTP semantics a browser,
// a media player or a resuming client needs — one byte range (RFC 9110),
// ETag = the SHA-256 with If-None-Match → 304, Content-Disposition from the
// stored name, and headers that keep an uploaded file from ever acting as a web
// page (nosniff, a sandboxing CSP, attachment for anything but known-safe types).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Caller } from './auth.js';
import { ClientGone } from './body-reader.js';
import { DamagedFileError, readChunks } from './chunk-reader.js';
import { contentDisposition } from './content-disposition.js';
import { FETCHED_GRACE_MS, type FilesContext } from './context.js';
import { HttpError, notFound } from './http-error.js';
import { decideRange, ifRangeAllows, noneMatchHits } from './range.js';
import type { FileDoc } from './store.js';

/** May this caller read the file? Offline transfers are for their owner and recipient only. */
export function mayRead(file: FileDoc, caller: Caller | undefined): boolean {
  const to = file.metadata.transferTo;
  return caller === undefined || to === undefined || caller.userId === to || caller.userId === file.metadata.owner;
}

export function fileHeaders(file: FileDoc): Record<string, string> {
  return {
    etag: `"${file.metadata.sha256}"`,
    'last-modified': file.uploadDate.toUTCString(),
    'accept-ranges': 'bytes',
    // Content never changes under an id; `private` because reads are authorised per user.
    'cache-control': 'private, max-age=3600',
    'content-type': file.metadata.contentType,
    'content-disposition': contentDisposition(file.filename, file.metadata.contentType),
    'x-content-type-options': 'nosniff',
    'content-security-policy': "sandbox; default-src 'none'",
    'cross-origin-resource-policy': 'same-site',
  };
}

export async function handleDownload(
  ctx: FilesContext,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  query: URLSearchParams,
): Promise<void> {
  const caller = ctx.auth.reader(req, id, query);
  const file = await ctx.store.getFile(id);
  if (!file || !mayRead(file, caller)) throw notFound();
  const headers = fileHeaders(file);
  const size = file.length;
  if (noneMatchHits(req.headers['if-none-match'], headers.etag!)) {
    const { etag, 'last-modified': lm, 'cache-control': cc } = headers;
    res.writeHead(304, { etag: etag!, 'last-modified': lm!, 'cache-control': cc! }).end();
    return;
  }
  // Range is defined for GET only (RFC 9110 §14.2); HEAD describes the whole representation.
  const range =
    req.method === 'GET' && ifRangeAllows(header(req, 'if-range'), headers.etag!)
      ? decideRange(header(req, 'range'), size)
      : ({ kind: 'full' } as const);
  if (range.kind === 'unsatisfiable') {
    throw new HttpError('OUT_OF_RANGE', `range not satisfiable: ${range.reason}`, 416, {
      'content-range': `bytes */${size}`,
      'accept-ranges': 'bytes',
    });
  }
  const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, size - 1];
  if (range.kind === 'partial') {
    res.writeHead(206, {
      ...headers,
      'content-range': `bytes ${start}-${end}/${size}`,
      'content-length': end - start + 1,
    });
  } else {
    res.writeHead(200, { ...headers, 'content-length': size });
  }
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let sent = 0;
  const body = Readable.from(readChunks(ctx.store.c.chunks, file, start, end), {
    objectMode: false,
    highWaterMark: file.chunkSize,
  });
  body.on('data', (b: Buffer) => (sent += b.length));
  try {
    await pipeline(body, res);
  } catch (err) {
    // A reader that hangs up mid-download is routine, not a server error.
    if (!(err instanceof DamagedFileError) && res.destroyed) throw new ClientGone('client closed the download');
    throw err;
  } finally {
    ctx.metrics.bytes.inc({ direction: 'out' }, sent);
  }
  // The recipient has the last byte of an offline transfer: it need not wait for the retention any longer.
  if (caller && end === size - 1 && caller.userId === file.metadata.transferTo) {
    await ctx.store.markFetched(id, FETCHED_GRACE_MS);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
