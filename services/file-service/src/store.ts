// The storage layout: the standard GridFS bucket `fs` (fs.files + fs.chunks,
// readable by any GridFS client) plus two bookkeeping collections that make
// every chunk accountable to a record at all times, so the sweeper can find
// what a dead or aborted upload left behind without ever scanning fs.chunks:
//
// - file_pending: one record per plain upload in progress, written before its
//   first chunk and refreshed while it streams (touchedAt);
// - file_uploads: one record per resumable (tus) upload, holding its offset
//   and its expiry;
// - file_upload_locks: the lock that makes concurrent PATCHes answer 423 across
//   replicas: the newest acquisition (epoch) of an upload, taken by inserting
//   the next epoch, which the unique _id arbitrates (docs/adr/0001); the winner
//   deletes the older ones. Whoever writes an upload record (a PATCH, a DELETE,
//   the sweeper) holds its lock first.
//
// Deletion always removes chunks before the record that owns them.
import type { Binary, Collection, Db } from 'mongodb';

export const BUCKET = 'fs';

export interface FileMeta {
  contentType: string;
  sha256: string; // hex
  owner: string;
  /** Offline transfer: the one user (besides the owner) meant to fetch it. */
  transferTo?: string;
  /** ms since epoch; the sweeper deletes the file after this. */
  expiresAt?: number;
  /** Set when deletion started; readers treat the file as gone. */
  deletingAt?: number;
}

export interface FileDoc {
  _id: string;
  length: number;
  chunkSize: number;
  uploadDate: Date;
  filename: string;
  metadata: FileMeta;
}

export interface ChunkDoc {
  _id: string;
  files_id: string;
  n: number;
  data: Buffer | Binary;
}

export interface PendingDoc {
  _id: string;
  owner: string;
  /** open → committing (the files record is being written) or sweeping (a sweeper claimed it). */
  state: 'open' | 'committing' | 'sweeping';
  startedAt: number;
  touchedAt: number;
}

export interface UploadDoc {
  _id: string;
  owner: string;
  length: number;
  /** Bytes persisted; chunks beyond it may hold garbage from a refused PATCH and are overwritten. */
  offset: number;
  chunkSize: number;
  name: string;
  contentType: string;
  transferTo?: string;
  /** The client's Upload-Metadata, echoed on HEAD as tus asks. */
  metadataHeader?: string;
  createdAt: number;
  expiresAt: number;
  /** Set while a sweeper or a DELETE removes it. */
  deletingAt?: number;
}

/** One acquisition of an upload's lock; the holder is the newest epoch, until `until`. */
export interface UploadLockDoc {
  /** `<upload id>.<epoch>`: two takers of the same epoch collide on it. */
  _id: string;
  upload: string;
  epoch: number;
  /** The holder (a random id per PATCH, DELETE or sweep). */
  by: string;
  /** ms since epoch; 0 once released. */
  until: number;
}

export interface Collections {
  files: Collection<FileDoc>;
  chunks: Collection<ChunkDoc>;
  pending: Collection<PendingDoc>;
  uploads: Collection<UploadDoc>;
  locks: Collection<UploadLockDoc>;
}

export function collections(db: Db): Collections {
  return {
    files: db.collection<FileDoc>(`${BUCKET}.files`),
    chunks: db.collection<ChunkDoc>(`${BUCKET}.chunks`),
    pending: db.collection<PendingDoc>('file_pending'),
    uploads: db.collection<UploadDoc>('file_uploads'),
    locks: db.collection<UploadLockDoc>('file_upload_locks'),
  };
}

/** Indexes ensured at start; `files_id, n` (unique) is what GridFS reads and the chunk upserts rely on. */
export async function ensureIndexes(c: Collections): Promise<void> {
  await c.chunks.createIndex({ files_id: 1, n: 1 }, { unique: true, name: 'files_id_1_n_1' });
  await c.files.createIndex({ filename: 1, uploadDate: 1 }, { name: 'filename_1_uploadDate_1' });
  await c.files.createIndex({ 'metadata.expiresAt': 1 }, { name: 'metadata.expiresAt_1' });
  await c.files.createIndex({ 'metadata.deletingAt': 1 }, { name: 'metadata.deletingAt_1' });
  await c.pending.createIndex({ touchedAt: 1 }, { name: 'touchedAt_1' });
  await c.uploads.createIndex({ expiresAt: 1 }, { name: 'expiresAt_1' });
  await c.locks.createIndex({ upload: 1, epoch: -1 }, { name: 'upload_1_epoch_-1' });
}

/** Chunk ids are derived from (file, n): re-writing a chunk of a resumed upload is an idempotent upsert. */
export function chunkId(fileId: string, n: number): string {
  return `${fileId}.${n}`;
}

export function chunkBytes(data: Buffer | Binary): Buffer {
  if (Buffer.isBuffer(data)) return data;
  const u = data.value();
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
