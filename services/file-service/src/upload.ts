// POST /files: a plain upload, either the raw body (Content-Type, ?name=) or a
// multipart/form-data body with exactly one file part. Bytes stream from the
// socket through a SHA-256 into GridFS chunks with backpressure end to end; the
// file exists only once every byte is stored and checked. Whatever goes wrong —
// too large, too slow, client gone, bad checksum, store failure — the chunks
// written so far are removed before the request ends.
import crypto from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import type { Caller } from './auth.js';
import { BodyReader } from './body-reader.js';
import { ChunkWriter } from './chunk-writer.js';
import { parseContentDigest } from './content-digest.js';
import type { FilesContext } from './context.js';
import { checkFileName } from './file-names.js';
import { HttpError, badRequest, tooLarge } from './http-error.js';
import { newId } from './ids.js';
import { normalizeMediaType } from './media-types.js';
import type { FileDoc } from './store.js';

/** Room for multipart framing on top of the file itself (boundaries, part headers, small fields). */
export const MULTIPART_SLACK_BYTES = 64 * 1024;
const USER_ID = /^[A-Za-z0-9._@:-]{1,128}$/;

export interface UploadRequest {
  name: string;
  contentType: string;
  transferTo?: string;
  expectedSha256?: Buffer;
}

export interface StoredFile {
  id: string;
  size: number;
  sha256: string;
  contentType: string;
  name: string;
  uri: string;
  expiresAt?: number;
}

export function describe(doc: FileDoc): StoredFile {
  return {
    id: doc._id,
    size: doc.length,
    sha256: doc.metadata.sha256,
    contentType: doc.metadata.contentType,
    name: doc.filename,
    uri: `/files/${doc._id}`,
    ...(doc.metadata.expiresAt !== undefined ? { expiresAt: doc.metadata.expiresAt } : {}),
  };
}

/** Content-Length as a number; undefined for a chunked body. */
export function contentLength(req: IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  if (!/^\d{1,16}$/.test(v)) throw badRequest('Content-Length is not a number');
  return Number(v);
}

export function checkRecipient(to: string | null | undefined): string | undefined {
  if (to === null || to === undefined || to === '') return undefined;
  if (!USER_ID.test(to)) throw badRequest('recipient is not a valid user id');
  return to;
}

export async function handleUpload(
  ctx: FilesContext,
  req: IncomingMessage,
  caller: Caller,
  query: URLSearchParams,
): Promise<StoredFile> {
  const max = ctx.settings.maxUploadBytes;
  const ctype = req.headers['content-type'] ?? '';
  const multipart = /^multipart\/form-data\s*;/i.test(ctype);
  const declared = contentLength(req);
  if (declared !== undefined && declared > max + (multipart ? MULTIPART_SLACK_BYTES : 0)) throw tooLarge(max);
  const transferTo = checkRecipient(query.get('to'));
  const expectedSha256 = parseContentDigest(header(req, 'content-digest'));
  const reader = new BodyReader(req, ctx.settings.bodyTimeoutMs);
  if (multipart) return describe(await uploadMultipart(ctx, req, reader, caller, { transferTo, expectedSha256 }));
  const request: UploadRequest = {
    name: checkFileName(query.get('name') ?? undefined),
    contentType: normalizeMediaType(ctype || undefined),
    transferTo,
    expectedSha256,
  };
  return describe(await storeStream(ctx, caller, request, bodyChunks(reader)));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

async function* bodyChunks(reader: BodyReader): AsyncGenerator<Buffer> {
  for (let b = await reader.next(); b !== null; b = await reader.next()) yield b;
}

/**
 * Streams `source` into a new GridFS file and commits it. `gate`, if given, is
 * awaited after the last byte is stored and before the file is committed (the
 * multipart parser uses it to refuse a second file part).
 */
export async function storeStream(
  ctx: FilesContext,
  caller: Caller,
  r: UploadRequest,
  source: AsyncIterable<Buffer>,
  gate?: () => Promise<void>,
): Promise<FileDoc> {
  const { store, settings, metrics } = ctx;
  const id = newId();
  await store.beginPending(id, caller.userId);
  const writer = new ChunkWriter(store.c.chunks, id, { chunkSize: settings.chunkBytes, gate: ctx.writeGate });
  const hash = crypto.createHash('sha256');
  let size = 0;
  let leaseLost = false;
  const toucher = setInterval(() => {
    store.touchPending(id).then(
      (ok) => (leaseLost ||= !ok),
      (err: unknown) => ctx.logger.warn('Failed to refresh an upload record', { id, err }),
    );
  }, settings.touchMs);
  metrics.uploadsActive.inc();
  try {
    for await (const b of source) {
      size += b.length;
      if (size > settings.maxUploadBytes) throw tooLarge(settings.maxUploadBytes);
      if (leaseLost) throw new HttpError('UNAVAILABLE', 'upload was abandoned by the server; retry', 503);
      hash.update(b);
      await writer.write(b);
      metrics.bytes.inc({ direction: 'in' }, b.length);
    }
    await writer.finish();
    const sha = hash.digest();
    if (r.expectedSha256 && !r.expectedSha256.equals(sha)) {
      throw badRequest('Content-Digest does not match the uploaded bytes');
    }
    await gate?.();
    const now = Date.now();
    const doc: FileDoc = {
      _id: id,
      length: size,
      chunkSize: settings.chunkBytes,
      uploadDate: new Date(now),
      filename: r.name,
      metadata: {
        contentType: r.contentType,
        sha256: sha.toString('hex'),
        owner: caller.userId,
        ...(r.transferTo ? { transferTo: r.transferTo, expiresAt: now + settings.retentionMs } : {}),
      },
    };
    await store.commitPending(doc);
    ctx.logger.info('Stored file', { id, size, owner: caller.userId });
    return doc;
  } catch (err) {
    await writer.settle();
    await store
      .discardPending(id)
      .catch((e: unknown) => ctx.logger.warn('Failed to discard an upload', { id, err: e }));
    throw err;
  } finally {
    clearInterval(toucher);
    metrics.uploadsActive.dec();
  }
}

/** multipart/form-data with exactly one file part; other (small) fields are ignored. */
async function uploadMultipart(
  ctx: FilesContext,
  req: IncomingMessage,
  reader: BodyReader,
  caller: Caller,
  opts: { transferTo?: string; expectedSha256?: Buffer },
): Promise<FileDoc> {
  const max = ctx.settings.maxUploadBytes;
  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: req.headers,
      limits: { files: 2, fileSize: max + 1, fields: 20, fieldSize: 8192, parts: 40, headerPairs: 20 },
    });
  } catch (err) {
    throw badRequest(`malformed multipart body: ${(err as Error).message}`);
  }
  let failure: unknown;
  let fail!: (err: unknown) => void;
  const failed = new Promise<never>((_, reject) => {
    fail = (err) => {
      failure ??= err;
      reject(failure);
    };
  });
  failed.catch(() => undefined);
  let stored: Promise<FileDoc> | undefined;
  let fileStream: Readable | undefined;
  let parsed!: () => void;
  const parsedAll = new Promise<void>((resolve) => (parsed = resolve));

  bb.on('file', (_field: string, stream: Readable, info: busboy.FileInfo) => {
    // Errors on a part stream reach us through the store step or `failed`; never as an unhandled 'error'.
    stream.on('error', () => undefined);
    if (stored) {
      stream.resume();
      fail(badRequest('multipart body has more than one file part'));
      return;
    }
    let request: UploadRequest;
    try {
      request = {
        name: checkFileName(info.filename),
        contentType: normalizeMediaType(info.mimeType),
        ...opts,
      };
    } catch (err) {
      stream.resume();
      fail(err);
      return;
    }
    fileStream = stream;
    stored = storeStream(ctx, caller, request, stream, () => Promise.race([parsedAll, failed]));
    stored.catch((err: unknown) => fail(err));
  });
  bb.on('error', (err: Error) => fail(badRequest(`malformed multipart body: ${err.message}`)));
  bb.on('close', () => parsed());

  let total = 0;
  try {
    for (
      let b = await Promise.race([reader.next(), failed]);
      b !== null;
      b = await Promise.race([reader.next(), failed])
    ) {
      total += b.length;
      if (total > max + MULTIPART_SLACK_BYTES) throw tooLarge(max);
      if (!bb.write(b)) await Promise.race([once(bb, 'drain'), failed]);
    }
    bb.end();
    await Promise.race([parsedAll, failed]);
    if (!stored) throw badRequest('multipart body has no file part');
    return await stored;
  } catch (err) {
    fail(err);
    // Unblock the file part's store step so it sees the failure and removes its chunks before we answer.
    fileStream?.destroy(failure instanceof Error ? failure : new Error(String(failure)));
    bb.destroy();
    // Let the file part's store step see the failure and remove its chunks before we answer.
    await stored?.catch(() => undefined);
    throw failure;
  }
}
