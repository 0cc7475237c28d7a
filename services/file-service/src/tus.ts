// Resumable uploads: tus 1.0 core with the creation, expiration, checksum and
// termination extensions, under /files/uploads. The upload's bytes go straight
// into GridFS chunks under the final file id (a partial last chunk is re-written
// when the next PATCH continues it), and its offset and lock live in MongoDB, so
// a PATCH may land on any replica. A cut connection keeps what arrived (unless
// the PATCH carried a checksum, which can then not be verified); a checksum
// mismatch keeps nothing. When the last byte is stored the upload becomes a
// normal file with the same id: GET /files/<id>.
import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Caller } from './auth.js';
import { BodyReader, ClientGone } from './body-reader.js';
import { readChunks } from './chunk-reader.js';
import { ChunkWriter } from './chunk-writer.js';
import type { FilesContext } from './context.js';
import { checkFileName } from './file-names.js';
import { HttpError, badRequest, tooLarge } from './http-error.js';
import { newId } from './ids.js';
import { normalizeMediaType } from './media-types.js';
import type { FileDoc, UploadDoc } from './store.js';
import {
  OFFSET_CONTENT_TYPE,
  TUS_CHECKSUM_ALGORITHMS,
  TUS_EXTENSIONS,
  TUS_VERSION,
  checkTusResumable,
  httpDate,
  parseCount,
  parseUploadChecksum,
  parseUploadMetadata,
} from './tus-headers.js';
import { checkRecipient, contentLength } from './upload.js';

export const UPLOADS_PATH = '/files/uploads';
/** How long a HEAD waits for a running PATCH to settle, so a resuming client reads a final offset. */
const HEAD_LOCK_WAIT_MS = 2000;

const gone = (): HttpError => new HttpError('NOT_FOUND', 'upload expired', 410);
const missing = (): HttpError => new HttpError('NOT_FOUND', 'no such upload', 404);
const lockLost = (): HttpError => new HttpError('ABORTED', 'the upload lock was lost; retry from HEAD', 409);
const locked = (): HttpError => new HttpError('ABORTED', 'another request is writing to this upload', 423);

function tusHeaders(extra: Record<string, string | number> = {}): Record<string, string | number> {
  return { 'tus-resumable': TUS_VERSION, ...extra };
}

/** OPTIONS: what this server supports (no authentication, as tus clients probe first). */
export function tusOptions(ctx: FilesContext, res: ServerResponse): void {
  res
    .writeHead(
      204,
      tusHeaders({
        'tus-version': TUS_VERSION,
        'tus-max-size': ctx.settings.maxUploadBytes,
        'tus-extension': TUS_EXTENSIONS,
        'tus-checksum-algorithm': TUS_CHECKSUM_ALGORITHMS.join(','),
      }),
    )
    .end();
}

/** POST /files/uploads: creation. */
export async function tusCreate(
  ctx: FilesContext,
  req: IncomingMessage,
  res: ServerResponse,
  caller: Caller,
): Promise<void> {
  checkTusResumable(str(req.headers['tus-resumable']));
  if (req.headers['upload-defer-length'] !== undefined) throw badRequest('Upload-Defer-Length is not supported');
  const length = parseCount(str(req.headers['upload-length']), 'Upload-Length');
  if (length > ctx.settings.maxUploadBytes) throw tooLarge(ctx.settings.maxUploadBytes);
  if ((contentLength(req) ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined) {
    throw badRequest('creation-with-upload is not supported; send the bytes with PATCH');
  }
  const metadataHeader = str(req.headers['upload-metadata']);
  const meta = parseUploadMetadata(metadataHeader);
  const now = Date.now();
  const upload: UploadDoc = {
    _id: newId(),
    owner: caller.userId,
    length,
    offset: 0,
    chunkSize: ctx.settings.chunkBytes,
    name: checkFileName(meta.filename ?? meta.name),
    contentType: normalizeMediaType(meta.filetype ?? meta.type),
    ...(checkRecipient(meta.to) ? { transferTo: meta.to } : {}),
    ...(metadataHeader ? { metadataHeader } : {}),
    createdAt: now,
    expiresAt: now + ctx.settings.uploadExpiryMs,
  };
  await ctx.store.createUpload(upload);
  if (length === 0) await complete(ctx, upload, crypto.createHash('sha256'));
  ctx.logger.info('Created resumable upload', { id: upload._id, length, owner: caller.userId });
  res
    .writeHead(
      201,
      tusHeaders({ location: `${UPLOADS_PATH}/${upload._id}`, 'upload-expires': httpDate(upload.expiresAt) }),
    )
    .end();
}

/** HEAD /files/uploads/<id>: the offset to resume from. */
export async function tusHead(
  ctx: FilesContext,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  caller: Caller,
): Promise<void> {
  checkTusResumable(str(req.headers['tus-resumable']));
  let upload = await ctx.store.getUpload(id);
  const deadline = Date.now() + HEAD_LOCK_WAIT_MS;
  while (upload && Date.now() < deadline && (await ctx.store.uploadLocked(id))) {
    await new Promise((r) => setTimeout(r, 25));
    upload = await ctx.store.getUpload(id);
  }
  const noStore = { 'cache-control': 'no-store' };
  if (!upload) {
    // Finished uploads are files now; a client that lost our last answer learns it is complete.
    const file = await ctx.store.getFile(id);
    if (!file || file.metadata.owner !== caller.userId) throw missing();
    res.writeHead(200, tusHeaders({ ...noStore, 'upload-offset': file.length, 'upload-length': file.length })).end();
    return;
  }
  if (upload.owner !== caller.userId) throw missing();
  if (upload.expiresAt <= Date.now()) throw gone();
  res
    .writeHead(
      200,
      tusHeaders({
        ...noStore,
        'upload-offset': upload.offset,
        'upload-length': upload.length,
        'upload-expires': httpDate(upload.expiresAt),
        ...(upload.metadataHeader ? { 'upload-metadata': upload.metadataHeader } : {}),
      }),
    )
    .end();
}

/** PATCH /files/uploads/<id>: append bytes at Upload-Offset. */
export async function tusPatch(
  ctx: FilesContext,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  caller: Caller,
): Promise<void> {
  checkTusResumable(str(req.headers['tus-resumable']));
  if ((req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() !== OFFSET_CONTENT_TYPE) {
    throw new HttpError('INVALID_ARGUMENT', `Content-Type must be ${OFFSET_CONTENT_TYPE}`, 415);
  }
  const offset = parseCount(str(req.headers['upload-offset']), 'Upload-Offset');
  const checksum = parseUploadChecksum(str(req.headers['upload-checksum']));
  const declared = contentLength(req);
  const { store, settings } = ctx;
  const by = newId();
  const lockedAt = Date.now();
  const lock = await store.lockUpload(id, caller.userId, by, settings.lockLeaseMs);
  if (!lock.ok) throw lock.why === 'expired' ? gone() : lock.why === 'locked' ? locked() : missing();
  const upload = lock.upload;
  // The lease as this PATCH knows it. Renewals run one after another (an older
  // one landing late must not extend the lease past our release); once the
  // lease may have lapsed — a renewal found another holder, or none succeeded
  // in time — the PATCH stops before it writes a chunk over the new holder's.
  let leaseUntil = lockedAt + settings.lockLeaseMs;
  let lost = false;
  let renewing: Promise<void> = Promise.resolve();
  const renew = setInterval(() => {
    renewing = renewing.then(async () => {
      const at = Date.now();
      try {
        if (await store.renewLock(id, by, settings.lockLeaseMs)) leaseUntil = at + settings.lockLeaseMs;
        else lost = true;
      } catch (err) {
        ctx.logger.warn('Failed to renew an upload lock', { id, err });
      }
    });
  }, settings.touchMs);
  const assertLock = (): void => {
    if (lost || Date.now() >= leaseUntil) throw lockLost();
  };
  ctx.metrics.uploadsActive.inc();
  let newOffset: number;
  try {
    if (offset !== upload.offset) {
      throw new HttpError(
        'ABORTED',
        `Upload-Offset ${offset} does not match the upload's offset ${upload.offset}`,
        409,
      );
    }
    if (declared !== undefined && offset + declared > upload.length) {
      throw new HttpError('RESOURCE_EXHAUSTED', 'PATCH would go beyond Upload-Length', 413);
    }
    const cs = upload.chunkSize;
    const firstN = Math.floor(offset / cs);
    const prefix = offset % cs ? (await store.readChunk(id, firstN)).subarray(0, offset % cs) : undefined;
    const writer = new ChunkWriter(store.c.chunks, id, {
      chunkSize: cs,
      firstN,
      prefix,
      upsert: true,
      gate: ctx.writeGate,
    });
    const hash = ctx.hashes.take(id, offset);
    const checker = checksum ? crypto.createHash(checksum.algorithm) : undefined;
    const reader = new BodyReader(req, settings.bodyTimeoutMs);
    let received = 0;
    let interrupted: unknown;
    try {
      for (let b = await reader.next(); b !== null; b = await reader.next()) {
        if (offset + received + b.length > upload.length) {
          throw new HttpError('RESOURCE_EXHAUSTED', 'PATCH would go beyond Upload-Length', 413);
        }
        received += b.length;
        hash?.update(b);
        checker?.update(b);
        assertLock();
        await writer.write(b);
        ctx.metrics.bytes.inc({ direction: 'in' }, b.length);
      }
    } catch (err) {
      if (!(err instanceof ClientGone) && !reader.timedOut) {
        await writer.settle();
        throw err;
      }
      interrupted = err;
    }
    // Data that cannot be verified, or that fails verification, is not kept:
    // the offset stays, and chunks beyond it are overwritten by the next PATCH.
    if (checksum && (interrupted || !checker!.digest().equals(checksum.digest))) {
      await writer.settle();
      if (interrupted) throw interrupted;
      throw new HttpError('INVALID_ARGUMENT', 'Upload-Checksum does not match the received bytes', 460);
    }
    await writer.finish();
    newOffset = offset + received;
    assertLock();
    if (!(await store.commitOffset(id, by, newOffset))) throw lockLost();
    if (hash) ctx.hashes.put(id, newOffset, hash);
    else ctx.hashes.forget(id);
    if (interrupted) {
      if (interrupted instanceof HttpError) interrupted.headers['upload-offset'] = String(newOffset);
      throw interrupted;
    }
    if (newOffset === upload.length) await complete(ctx, { ...upload, offset: newOffset }, hash);
  } finally {
    clearInterval(renew);
    ctx.metrics.uploadsActive.dec();
    // A renewal still in flight would write the lease back after the release.
    await renewing;
    // Released before answering: a client sends its next PATCH the moment it reads our answer.
    await store
      .releaseLock(id, by)
      .catch((err: unknown) => ctx.logger.warn('Failed to release an upload lock', { id, err }));
  }
  res.writeHead(204, tusHeaders({ 'upload-offset': newOffset, 'upload-expires': httpDate(upload.expiresAt) })).end();
}

/** DELETE /files/uploads/<id>: termination. */
export async function tusTerminate(
  ctx: FilesContext,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  caller: Caller,
): Promise<void> {
  checkTusResumable(str(req.headers['tus-resumable']));
  const r = await ctx.store.terminateUpload(id, caller.userId, ctx.settings.lockLeaseMs);
  if (r === 'not-found') throw missing();
  if (r === 'locked') throw locked();
  ctx.hashes.forget(id);
  res.writeHead(204, tusHeaders()).end();
}

/** The last byte is stored: the upload becomes a file (same id). */
async function complete(ctx: FilesContext, upload: UploadDoc, hash: crypto.Hash | undefined): Promise<void> {
  let sha: string;
  if (hash) sha = hash.digest('hex');
  else {
    // The bytes arrived (partly) through another replica: hash what is stored.
    const h = crypto.createHash('sha256');
    for await (const b of readChunks(ctx.store.c.chunks, {
      _id: upload._id,
      length: upload.length,
      chunkSize: upload.chunkSize,
    })) {
      h.update(b);
    }
    sha = h.digest('hex');
  }
  const now = Date.now();
  const doc: FileDoc = {
    _id: upload._id,
    length: upload.length,
    chunkSize: upload.chunkSize,
    uploadDate: new Date(now),
    filename: upload.name,
    metadata: {
      contentType: upload.contentType,
      sha256: sha,
      owner: upload.owner,
      ...(upload.transferTo ? { transferTo: upload.transferTo, expiresAt: now + ctx.settings.retentionMs } : {}),
    },
  };
  await ctx.store.completeUpload(doc);
  ctx.hashes.forget(upload._id);
  ctx.logger.info('Completed resumable upload', { id: upload._id, size: upload.length, owner: upload.owner });
}

function str(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}
