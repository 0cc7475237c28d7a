// Every state change of files, plain uploads and resumable uploads, as small
// conditional writes that are safe when two replicas (or a replica and a
// sweeper) race: each transition is claimed by one atomic update first, and
// chunks are always deleted before the record that accounts for them.
// Resumable uploads are written only under their lock, which is taken by an
// insert arbitrated by a unique _id, never by a conditional update: FerretDB
// 1.x runs an update as a read and a separate write, so several PATCHes could
// "take" one lock at once (docs/adr/0001).
import type { Collections, FileDoc, PendingDoc, UploadDoc, UploadLockDoc } from './store.js';
import { chunkBytes, chunkId } from './store.js';
import { isDuplicateKey } from '../../runtime/src/mongo-errors.js';
import { HttpError } from './http-error.js';
import { newId } from './ids.js';

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

  /**
   * Takes the upload's lock for one PATCH (423 across replicas while another
   * holds it) and returns the record as it is under the lock.
   */
  async lockUpload(id: string, owner: string, by: string, leaseMs: number): Promise<LockResult> {
    const u = await this.getUpload(id);
    if (!u || u.owner !== owner) return { ok: false, why: 'not-found' };
    if (u.expiresAt <= this.clock()) return { ok: false, why: 'expired' };
    if (!(await this.acquireLock(id, by, leaseMs))) return { ok: false, why: 'locked' };
    // Read again: the previous holder committed its offset before it released the lock.
    const upload = await this.getUpload(id);
    if (!upload) {
      // Completed or removed meanwhile; nobody will ever release a lock of a gone upload.
      await this.c.locks.deleteOne({ upload: id, by });
      return { ok: false, why: 'not-found' };
    }
    return { ok: true, upload };
  }

  /** True while someone (a PATCH, a DELETE, the sweeper) holds the upload's lock. */
  async uploadLocked(id: string): Promise<boolean> {
    const cur = await this.newestLock(id);
    return cur !== null && cur.until >= this.clock();
  }

  /** Extends our lock; false when it is no longer ours (it expired and another took it). */
  async renewLock(id: string, by: string, leaseMs: number): Promise<boolean> {
    const cur = await this.newestLock(id);
    if (cur?.by !== by) return false;
    // Only the holder writes its own lock record, so this update races nobody.
    await this.c.locks.updateOne({ _id: cur._id, by }, { $set: { until: this.clock() + leaseMs } });
    return true;
  }

  /** Records the upload's new offset; false when the lock is no longer ours. */
  async commitOffset(id: string, by: string, offset: number): Promise<boolean> {
    if ((await this.newestLock(id))?.by !== by) return false;
    const r = await this.c.uploads.updateOne({ _id: id, deletingAt: { $exists: false } }, { $set: { offset } });
    return r.matchedCount === 1;
  }

  /** Gives the lock up (callers make sure no renewal of theirs is still in flight). */
  async releaseLock(id: string, by: string): Promise<void> {
    await this.c.locks.updateOne({ upload: id, by }, { $set: { until: 0 } });
  }

  /**
   * The lock is the newest epoch's record; taking it inserts the next epoch,
   * so of several takers exactly one succeeds (the others hit the unique _id).
   */
  private async acquireLock(id: string, by: string, leaseMs: number): Promise<boolean> {
    const now = this.clock();
    const cur = await this.newestLock(id);
    if (cur && cur.until >= now) return false;
    const epoch = (cur?.epoch ?? 0) + 1;
    const lockId = `${id}.${epoch}`;
    try {
      await this.c.locks.insertOne({ _id: lockId, upload: id, epoch, by, until: now + leaseMs });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Another took this epoch first — or the driver retried our own insert that had landed.
      if ((await this.c.locks.findOne({ _id: lockId }))?.by !== by) return false;
    }
    // A taker that read an old newest record may insert an epoch that was tidied
    // away below, and so not be the newest: it must give up, not hold the lock.
    if ((await this.newestLock(id))?.by !== by) {
      await this.c.locks.deleteOne({ _id: lockId, by });
      return false;
    }
    // Ours is the newest: older epochs are history (at most a few records per upload).
    if (epoch > 1) await this.c.locks.deleteMany({ upload: id, epoch: { $lt: epoch } });
    return true;
  }

  private async newestLock(id: string): Promise<UploadLockDoc | null> {
    return this.c.locks.find({ upload: id }).sort({ epoch: -1 }).limit(1).next();
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
      if (!isDuplicateKey(err)) throw err;
    }
    await this.c.uploads.deleteOne({ _id: doc._id });
    await this.c.locks.deleteMany({ upload: doc._id });
  }

  /** tus termination (DELETE) by the owner, under the upload's lock: chunks, then the record. */
  async terminateUpload(id: string, owner: string, leaseMs: number): Promise<'removed' | 'not-found' | 'locked'> {
    const u = await this.getUpload(id);
    if (!u || u.owner !== owner) return 'not-found';
    const by = newId();
    if (!(await this.acquireLock(id, by, leaseMs))) return 'locked';
    const claimed = await this.c.uploads.findOneAndUpdate(
      { _id: id, deletingAt: { $exists: false } },
      { $set: { deletingAt: this.clock() } },
    );
    if (!claimed) {
      await this.c.locks.deleteOne({ upload: id, by });
      return 'not-found';
    }
    await this.purgeUpload(id);
    return 'removed';
  }

  /**
   * Removes an upload: chunks first, then the records — but not the chunks of
   * an upload that already became a file (a completion that died between its
   * files insert and its upload delete): they are that file's now.
   */
  async purgeUpload(id: string): Promise<void> {
    const file = await this.c.files.findOne({ _id: id }, { projection: { _id: 1 } });
    if (!file) await this.c.chunks.deleteMany({ files_id: id });
    await this.c.uploads.deleteOne({ _id: id });
    await this.c.locks.deleteMany({ upload: id });
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
      // A live PATCH (or DELETE) holds the lock: leave the upload to it.
      const by = newId();
      if (!(await this.acquireLock(_id, by, staleMs))) continue;
      const claimed = await this.c.uploads.findOneAndUpdate(
        { _id, $or: [{ expiresAt: { $lt: now } }, { deletingAt: { $lt: now - staleMs } }] },
        { $set: { deletingAt: now } },
      );
      if (!claimed) {
        // Gone meanwhile (another sweeper purged it): nothing else would ever remove our record.
        await this.c.locks.deleteOne({ upload: _id, by });
        continue;
      }
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

  /**
   * Lock records of uploads that are gone: left when a process died between an
   * upload's delete and its locks' delete (completion, DELETE, sweep). Only an
   * upload that no longer exists loses its records — a live one keeps its
   * newest epoch, which the next taker counts on (reusing a smaller epoch
   * could make a stale holder the holder again).
   */
  async sweepLocks(now: number, staleMs: number, limit: number): Promise<number> {
    const lapsed = await this.c.locks
      .find({ until: { $lt: now - staleMs } }, { projection: { upload: 1 } })
      .limit(limit)
      .toArray();
    const uploads = [...new Set(lapsed.map((l) => l.upload))];
    if (uploads.length === 0) return 0;
    const alive = new Set(
      (await this.c.uploads.find({ _id: { $in: uploads } }, { projection: { _id: 1 } }).toArray()).map((u) => u._id),
    );
    const gone = uploads.filter((u) => !alive.has(u));
    if (gone.length === 0) return 0;
    return (await this.c.locks.deleteMany({ upload: { $in: gone } })).deletedCount;
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
