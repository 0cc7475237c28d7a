// Every state change of files, plain uploads and resumable uploads, as small
// conditional writes that are safe when two replicas (or a replica and a
// sweeper) race: each transition is claimed by one atomic update first, and
// chunks are always deleted before the record that accounts for them.
import type { Collections, FileDoc, PendingDoc, UploadDoc } from './store.js';
import { chunkBytes, chunkId } from './store.js';
import { HttpError } from './http-error.js';

export type RemoveResult = 'removed' | 'not-found' | 'forbidden';
export type LockResult = { ok: true; upload: UploadDoc } | { ok: false; why: 'not-found' | 'expired' | 'locked' };

export class FileStore {
  constructor(
    readonly c: Collections,
    private readonly clock: () => number = Date.now,
  ) {}

  // ------------------------------------------------------------ plain uploads

  async beginPending(id: string, owner: string): Promise<void> {
    const now = this.clock();
    await this.c.pending.insertOne({ _id: id, owner, state: 'open', startedAt: now, touchedAt: now });
  }

  /** Keeps the sweeper off a live upload; false when a sweeper already claimed it. */
  async touchPending(id: string): Promise<boolean> {
    const r = await this.c.pending.updateOne({ _id: id, state: 'open' }, { $set: { touchedAt: this.clock() } });
    return r.matchedCount === 1;
  }

  /** Makes a fully written plain upload a file. The claim on the pending record fences off the sweeper. */
  async commitPending(doc: FileDoc): Promise<void> {
    const claimed = await this.c.pending.findOneAndUpdate(
      { _id: doc._id, state: 'open' },
      { $set: { state: 'committing', touchedAt: this.clock() } },
    );
    if (!claimed) throw new HttpError('UNAVAILABLE', 'upload was abandoned by the server; retry', 503);
    await this.c.files.insertOne(doc);
    await this.c.pending.deleteOne({ _id: doc._id });
  }

  /** Removes an aborted plain upload: chunks first, then the record. */
  async discardPending(id: string): Promise<void> {
    await this.c.chunks.deleteMany({ files_id: id });
    await this.c.pending.deleteOne({ _id: id });
  }

  // ------------------------------------------------------------ files

  async getFile(id: string): Promise<FileDoc | null> {
    const f = await this.c.files.findOne({ _id: id });
    return f && f.metadata?.deletingAt === undefined ? f : null;
  }

  /** Deletes a file; with `owner`, only if that user owns it. */
  async removeFile(id: string, owner?: string): Promise<RemoveResult> {
    const filter: Record<string, unknown> = { _id: id, 'metadata.deletingAt': { $exists: false } };
    if (owner !== undefined) filter['metadata.owner'] = owner;
    const claimed = await this.c.files.findOneAndUpdate(filter, { $set: { 'metadata.deletingAt': this.clock() } });
    if (!claimed) {
      if (owner !== undefined && (await this.getFile(id))) return 'forbidden';
      return 'not-found';
    }
    await this.purgeFile(id);
    return 'removed';
  }

  async purgeFile(id: string): Promise<void> {
    await this.c.chunks.deleteMany({ files_id: id });
    await this.c.files.deleteOne({ _id: id });
  }

  /** An offline transfer was fetched by its recipient: keep it only `graceMs` longer. */
  async markFetched(id: string, graceMs: number): Promise<void> {
    const until = this.clock() + graceMs;
    await this.c.files.updateOne(
      { _id: id, 'metadata.transferTo': { $exists: true }, 'metadata.expiresAt': { $gt: until } },
      { $set: { 'metadata.expiresAt': until } },
    );
  }

  // ------------------------------------------------------------ resumable uploads

  async createUpload(doc: UploadDoc): Promise<void> {
    await this.c.uploads.insertOne(doc);
  }

  async getUpload(id: string): Promise<UploadDoc | null> {
    const u = await this.c.uploads.findOne({ _id: id });
    return u && u.deletingAt === undefined ? u : null;
  }

  /** Takes the upload's lock for one PATCH (423 across replicas while another holds it). */
  async lockUpload(id: string, owner: string, by: string, leaseMs: number): Promise<LockResult> {
    const now = this.clock();
    const upload = await this.c.uploads.findOneAndUpdate(
      {
        _id: id,
        owner,
        deletingAt: { $exists: false },
        expiresAt: { $gt: now },
        $or: [{ lock: null }, { 'lock.until': { $lt: now } }],
      },
      { $set: { lock: { by, until: now + leaseMs } } },
      { returnDocument: 'after' },
    );
    if (upload) return { ok: true, upload };
    const u = await this.getUpload(id);
    if (!u || u.owner !== owner) return { ok: false, why: 'not-found' };
    if (u.expiresAt <= now) return { ok: false, why: 'expired' };
    return { ok: false, why: 'locked' };
  }

  async renewLock(id: string, by: string, leaseMs: number): Promise<boolean> {
    const r = await this.c.uploads.updateOne(
      { _id: id, 'lock.by': by },
      { $set: { 'lock.until': this.clock() + leaseMs } },
    );
    return r.matchedCount === 1;
  }

  async commitOffset(id: string, by: string, offset: number): Promise<boolean> {
    const r = await this.c.uploads.updateOne({ _id: id, 'lock.by': by }, { $set: { offset } });
    return r.matchedCount === 1;
  }

  async releaseLock(id: string, by: string): Promise<void> {
    await this.c.uploads.updateOne({ _id: id, 'lock.by': by }, { $set: { lock: null } });
  }

  /** The stored bytes of chunk n (a resumed upload's partial tail). */
  async readChunk(fileId: string, n: number): Promise<Buffer> {
    const doc = await this.c.chunks.findOne({ _id: chunkId(fileId, n) });
    return doc ? chunkBytes(doc.data) : Buffer.alloc(0);
  }

  /** A finished resumable upload becomes a file: files record first, then the upload record goes. */
  async completeUpload(doc: FileDoc): Promise<void> {
    try {
      await this.c.files.insertOne(doc);
    } catch (err) {
      // A retry after a failure between the two writes: the file is already there.
      if ((err as { code?: unknown }).code !== 11000) throw err;
    }
    await this.c.uploads.deleteOne({ _id: doc._id });
  }

  /** tus termination (DELETE) by the owner: chunks, then the record. */
  async terminateUpload(id: string, owner: string): Promise<'removed' | 'not-found' | 'locked'> {
    const now = this.clock();
    const claimed = await this.c.uploads.findOneAndUpdate(
      { _id: id, owner, deletingAt: { $exists: false }, $or: [{ lock: null }, { 'lock.until': { $lt: now } }] },
      { $set: { deletingAt: now } },
    );
    if (!claimed) {
      const u = await this.getUpload(id);
      return u && u.owner === owner ? 'locked' : 'not-found';
    }
    await this.purgeUpload(id);
    return 'removed';
  }

  async purgeUpload(id: string): Promise<void> {
    await this.c.chunks.deleteMany({ files_id: id });
    await this.c.uploads.deleteOne({ _id: id });
  }

  // ------------------------------------------------------------ sweeping

  /** Unfinished uploads past their expiry (and deletions that died half-way). */
  async sweepUploads(now: number, staleMs: number, limit: number): Promise<number> {
    const due = await this.c.uploads
      .find({ $or: [{ expiresAt: { $lt: now } }, { deletingAt: { $lt: now - staleMs } }] }, { projection: { _id: 1 } })
      .limit(limit)
      .toArray();
    let n = 0;
    for (const { _id } of due) {
      const claimed = await this.c.uploads.findOneAndUpdate(
        {
          _id,
          $and: [
            { $or: [{ expiresAt: { $lt: now } }, { deletingAt: { $lt: now - staleMs } }] },
            { $or: [{ lock: null }, { 'lock.until': { $lt: now } }] },
          ],
        },
        { $set: { deletingAt: now, lock: null } },
      );
      if (!claimed) continue;
      await this.purgeUpload(_id);
      n++;
    }
    return n;
  }

  /** Files past their retention (offline transfers) and deletions that died half-way. */
  async sweepFiles(now: number, staleMs: number, limit: number): Promise<number> {
    const due = await this.c.files
      .find(
        { $or: [{ 'metadata.expiresAt': { $lt: now } }, { 'metadata.deletingAt': { $lt: now - staleMs } }] },
        { projection: { _id: 1 } },
      )
      .limit(limit)
      .toArray();
    let n = 0;
    for (const { _id } of due) {
      await this.c.files.updateOne(
        { _id, 'metadata.deletingAt': { $exists: false } },
        { $set: { 'metadata.deletingAt': now } },
      );
      await this.purgeFile(_id);
      n++;
    }
    return n;
  }

  /** Plain uploads whose process died (no touch for staleMs): their chunks go, then the record. */
  async sweepPending(now: number, staleMs: number, limit: number): Promise<number> {
    const due: Pick<PendingDoc, '_id'>[] = await this.c.pending
      .find({ touchedAt: { $lt: now - staleMs } }, { projection: { _id: 1 } })
      .limit(limit)
      .toArray();
    let n = 0;
    for (const { _id } of due) {
      const claimed = await this.c.pending.findOneAndUpdate(
        { _id, touchedAt: { $lt: now - staleMs } },
        { $set: { state: 'sweeping', touchedAt: now } },
      );
      if (!claimed) continue;
      // A commit that got as far as the files record is complete: only the record is left over.
      if (claimed.state === 'committing' && (await this.c.files.countDocuments({ _id }, { limit: 1 })) > 0) {
        await this.c.pending.deleteOne({ _id });
        continue;
      }
      await this.discardPending(_id);
      n++;
    }
    return n;
  }
}
