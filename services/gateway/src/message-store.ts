// Durable messages in MongoDB, shaped for what both MongoDB and FerretDB 1.x do
// well and correctly:
//  - every hot-path read is a point read by _id (FerretDB scans the whole
//    collection for anything else);
//  - every decision that must hold under concurrency is an insert that the
//    unique _id arbitrates (FerretDB applies updates without isolation — two
//    concurrent $inc on one document can lose one — so no counter is trusted).
// A message lives at _id "<recipient>\n<seq>": a sequence number is taken by
// inserting there; a conflict means it is taken and the writer moves on.
// Counters are only hints that let writers start close to the end.
import crypto from 'node:crypto';
import { MongoBulkWriteError, MongoServerError, type Collection, type Db } from 'mongodb';
import { BatchedLookup } from './batched-lookup.js';
import { storePace, type Semaphore, type StorePace } from './store-pacing.js';

export interface InboxDoc {
  _id: string;
  to: string;
  seq: number;
  from: string;
  mime: string;
  cmid: string;
  msgId: string;
  sentAt: number;
  /** A skipped sequence number (never written by its sender) or a duplicate copy withdrawn. */
  tomb?: boolean;
}

/** Idempotency record: one per (sender, client_msg_id), inserted after the message. */
export interface DedupDoc {
  _id: string;
  to: string;
  seq: number;
  msgId: string;
  sentAt: number;
}

/** Per recipient: the highest sequence written (a hint) and the highest deleted by retention. */
export interface CounterDoc {
  _id: string;
  seq: number;
  trimmed?: number;
}

export interface CursorDoc {
  _id: string;
  acked: number;
  at: number;
}

export const COLLECTIONS = {
  inbox: 'gw_inbox',
  dedup: 'gw_inbox_dedup',
  counters: 'gw_inbox_counters',
  cursors: 'gw_cursors',
} as const;

export const inboxId = (to: string, seq: number): string => `${to}\n${seq}`;
export const dedupId = (from: string, cmid: string): string => `${from}\n${cmid}`;
export const cursorId = (user: string, device: string): string => `${user}\n${device}`;

/**
 * Message ids: derived from (sender, client_msg_id) when the device gave one,
 * so every stored copy of a retried send carries the same id and the SDK can
 * drop a copy it already showed; random otherwise.
 */
export function messageId(from: string, cmid: string): string {
  if (!cmid) return `m_${crypto.randomBytes(16).toString('base64url')}`;
  return `m_${crypto.createHash('sha256').update(`${from}\n${cmid}`).digest('base64url').slice(0, 22)}`;
}

export const isDuplicateKey = (err: unknown): boolean =>
  (err instanceof MongoServerError || err instanceof MongoBulkWriteError) && err.code === 11000;

/** What became of one document of an unordered insertMany. */
export type InsertOutcome = 'inserted' | 'duplicate' | Error;

/**
 * Each document's outcome: inserted, refused for a duplicate key, or its own
 * write error (the others of the batch are not affected). A failure of the
 * whole command (network, the store down) rejects.
 */
export async function insertManyOutcomes<T extends { _id: string }>(
  col: Collection<T>,
  docs: T[],
): Promise<InsertOutcome[]> {
  const out: InsertOutcome[] = docs.map(() => 'inserted');
  if (docs.length === 0) return out;
  try {
    await col.insertMany(docs as never[], { ordered: false });
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError)) throw err;
    const list = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    if (list.length === 0) throw err;
    for (const w of list) {
      out[w.index] =
        w.code === 11000 ? 'duplicate' : new MongoServerError({ code: w.code, errmsg: w.errmsg ?? 'write failed' });
    }
  }
  return out;
}

/** Indexes in `docs` whose insert failed on a duplicate key; rejects on any other failure. */
export async function insertManyConflicts<T extends { _id: string }>(
  col: Collection<T>,
  docs: T[],
): Promise<Set<number>> {
  const outcomes = await insertManyOutcomes(col, docs);
  const failed = outcomes.find((o) => o instanceof Error);
  if (failed) throw failed;
  return new Set(outcomes.flatMap((o, i) => (o === 'duplicate' ? [i] : [])));
}

/** Ids per `$in` read: what the test store pushes down to its index (docs/adr/0003). */
const IDS_PER_READ = 1000;

/** The documents with these ids, one `$in` read per IDS_PER_READ ids, each through the read pace. */
export async function findByIds<T extends { _id: string }>(
  col: Collection<T>,
  ids: readonly string[],
  reads: Semaphore,
): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_READ) {
    const chunk = ids.slice(i, i + IDS_PER_READ);
    out.push(...((await reads.run(() => col.find({ _id: { $in: chunk } } as never).toArray())) as T[]));
  }
  return out;
}

export class MessageStore {
  readonly inbox: Collection<InboxDoc>;
  readonly dedup: Collection<DedupDoc>;
  readonly counters: Collection<CounterDoc>;
  readonly cursors: Collection<CursorDoc>;

  /**
   * Point reads by `_id` that run while another is under way wait and go out
   * together, as one `$in` read: a session start reads a cursor, a counter and
   * the next inbox entries, and a reconnect storm starts hundreds at once. Each
   * command costs the gateway ~0.1–0.2 ms of CPU in the driver and a socket
   * write; per session that was most of the gateway's work.
   */
  private readonly inboxById: BatchedLookup<InboxDoc>;
  private readonly counterById: BatchedLookup<CounterDoc>;
  private readonly cursorById: BatchedLookup<CursorDoc>;

  /** Every read and write goes through the process's pace (store-pacing.ts). */
  constructor(
    db: Db,
    readonly pace: StorePace = storePace(),
  ) {
    this.inbox = db.collection<InboxDoc>(COLLECTIONS.inbox);
    this.dedup = db.collection<DedupDoc>(COLLECTIONS.dedup);
    this.counters = db.collection<CounterDoc>(COLLECTIONS.counters);
    this.cursors = db.collection<CursorDoc>(COLLECTIONS.cursors);
    const byId = <T extends { _id: string }>(col: Collection<T>): BatchedLookup<T> =>
      new BatchedLookup<T>(
        (ids) => findByIds(col, ids, pace.reads),
        (d) => d._id,
        IDS_PER_READ,
      );
    this.inboxById = byId(this.inbox);
    this.counterById = byId(this.counters);
    this.cursorById = byId(this.cursors);
  }

  /** Inserts messages; returns the indexes whose sequence number was already taken. */
  insertMessages(docs: InboxDoc[]): Promise<Set<number>> {
    return this.pace.writes.run(() => insertManyConflicts(this.inbox, docs), true);
  }

  /** Inserts idempotency records; returns the indexes whose (sender, client_msg_id) already had one. */
  insertDedup(docs: DedupDoc[]): Promise<Set<number>> {
    return this.pace.writes.run(() => insertManyConflicts(this.dedup, docs), true);
  }

  getDedup(from: string, cmid: string): Promise<DedupDoc | null> {
    return this.pace.reads.run(() => this.dedup.findOne({ _id: dedupId(from, cmid) }));
  }

  async getMessage(to: string, seq: number): Promise<InboxDoc | null> {
    return (await this.inboxById.get(inboxId(to, seq)))[0] ?? null;
  }

  /** The entries at consecutive sequence numbers [from, from+count), null where nothing is stored. */
  async getRange(to: string, from: number, count: number): Promise<(InboxDoc | null)[]> {
    const ids = Array.from({ length: count }, (_, i) => inboxId(to, from + i));
    return (await this.inboxById.getMany(ids)).map((l) => l[0] ?? null);
  }

  /**
   * Marks a sequence number as skipped by inserting a tombstone there. False
   * when a message got there first (the caller reads it instead).
   */
  async tombstone(to: string, seq: number, now = Date.now()): Promise<boolean> {
    try {
      await this.inbox.insertOne({
        _id: inboxId(to, seq),
        to,
        seq,
        from: '',
        mime: '',
        cmid: '',
        msgId: '',
        sentAt: now,
        tomb: true,
      });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /** Withdraws our own copy of a message that a concurrent retry stored first. */
  async withdraw(to: string, seq: number, msgId: string): Promise<void> {
    await this.pace.writes.run(() =>
      this.inbox.updateOne({ _id: inboxId(to, seq), msgId }, { $set: { tomb: true, mime: '' } }),
    );
  }

  /** The recipient's counter hint (0 when none) and how far retention has deleted. */
  async getCounter(to: string): Promise<{ seq: number; trimmed: number }> {
    return (await this.getCounters([to])).get(to)!;
  }

  /** getCounter for many recipients, through the same batched `$in` reads. */
  async getCounters(users: readonly string[]): Promise<Map<string, { seq: number; trimmed: number }>> {
    const docs = await this.counterById.getMany(users);
    return new Map(users.map((u, i) => [u, { seq: docs[i]![0]?.seq ?? 0, trimmed: docs[i]![0]?.trimmed ?? 0 }]));
  }

  /**
   * Raises the counter hint (last writer may win: it is only a hint). `fresh`:
   * the recipient probably has no counter document yet, so the (cheap) insert
   * is tried first; otherwise that insert would only fail (a rolled-back
   * transaction in the store) before the update.
   */
  async raiseCounter(to: string, seq: number, fresh = true): Promise<void> {
    await this.pace.writes.run(() => upsertMax(this.counters, to, 'seq', seq, {}, fresh));
  }

  async raiseTrimmed(to: string, seq: number): Promise<void> {
    await this.pace.writes.run(() => upsertMax(this.counters, to, 'trimmed', seq));
  }

  async getCursor(user: string, device: string): Promise<number> {
    return (await this.cursorById.get(cursorId(user, device)))[0]?.acked ?? 0;
  }

  /** `fresh`: the device has no cursor document yet (its first ack). */
  async advanceCursor(user: string, device: string, acked: number, fresh = false, now = Date.now()): Promise<void> {
    await this.pace.writes.run(() =>
      upsertMax(this.cursors, cursorId(user, device), 'acked', acked, { at: now }, fresh),
    );
  }
}

/**
 * `$max` of one field, creating the document when missing. Shaped for
 * FerretDB 1.x, which finds a document by `_id` for an upsert that matches but
 * scans the collection for an upsert that inserts (measured: ~1 ms vs ~40 ms at
 * 10k documents): when the document is probably new (`fresh`), insert first.
 */
async function upsertMax<T extends { _id: string }>(
  col: Collection<T>,
  id: string,
  field: string,
  value: number,
  set: Record<string, unknown> = {},
  fresh = false,
): Promise<void> {
  if (fresh) {
    try {
      await col.insertOne({ _id: id, [field]: value, ...set } as never);
      return;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }
  const update = { $max: { [field]: value }, ...(Object.keys(set).length ? { $set: set } : {}) } as never;
  try {
    await col.updateOne({ _id: id } as never, update, { upsert: true });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    await col.updateOne({ _id: id } as never, update, { upsert: true });
  }
}
