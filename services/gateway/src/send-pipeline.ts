// Storing sent messages durably before the sender gets its answer, in batches
// (group commit): while one batch is being written the next one collects, so
// under load a handful of store round trips carries hundreds of messages.
//
// One batch:
//  1. sends marked as retries look up their idempotency record first;
//  2. each recipient's messages get the next sequence numbers after that
//     recipient's hint (a per-process cache of the highest seq written);
//  3. one unordered insertMany; a duplicate _id means another gateway took that
//     sequence number first — the message is requeued at the front and gets a
//     later one (no holes: the conflicting number is taken);
//  4. one unordered insertMany of idempotency records; a conflict means a
//     concurrent retry of the same send was stored first: our copy is
//     withdrawn (tombstoned) and the sender gets the first copy's answer;
//  5. answers go out, the stored messages go to the push router.
import type { SendResult } from '../../../proto/gen/ts/messaging.js';
import { PlatformError } from '../../runtime/src/errors.js';
import type { Logger } from '../../runtime/src/logger.js';
import { dedupId, inboxId, messageId, type DedupDoc, type InboxDoc, type MessageStore } from './message-store.js';
import { CoalescingWriter } from './store-pacing.js';

export interface SendRequest {
  from: string;
  to: string;
  /** Canonical MimeText JSON. */
  mime: string;
  /** Client message id ('' = none). */
  cmid: string;
  /** The device says this is a retry of an earlier send: check for an earlier copy first. */
  retry: boolean;
}

interface Pending {
  req: SendRequest;
  msgId: string;
  attempts: number;
  resolve(r: SendResult): void;
  reject(err: unknown): void;
}

export interface SendPipelineOptions {
  store: MessageStore;
  logger: Logger;
  /** Called with every newly stored message (not with duplicates), after the senders are answered. */
  onStored(docs: InboxDoc[]): void;
  /** Observes the size of each batch written (metrics). */
  onBatch?(size: number): void;
  maxBatch?: number;
  /** Recipients whose sequence hint is cached in memory. */
  hintCacheSize?: number;
  /** Paces and coalesces bookkeeping writes (shared with the rest of the gateway). */
  writes?: CoalescingWriter;
  now?: () => number;
}

const MAX_ATTEMPTS = 25;
/** See the hint update in flush(): must not exceed the feed's read window (READ_WINDOW). */
export const HINT_BLOCK = 16;
/** How far back from a recipient's end a declared retry looks for a copy that lost its idempotency record. */
export const RETRY_LOOKBACK = 128;

export class SendPipeline {
  private queue: Pending[] = [];
  private flushing = false;
  private readonly hints = new Map<string, number>();
  private readonly opts: Required<Omit<SendPipelineOptions, 'now' | 'onBatch'>> &
    Pick<SendPipelineOptions, 'onBatch'> & { now: () => number };
  /** Per recipient: the highest hint waiting to be written. */
  private readonly pendingHints = new Map<string, number>();
  /**
   * Recipients whose counter document is known to exist (read, or written by
   * this process): their hint writes go straight to the update. Evicted with
   * the hint.
   */
  private readonly counterStored = new Set<string>();
  private idle: (() => void)[] = [];

  constructor(opts: SendPipelineOptions) {
    this.opts = {
      maxBatch: 1024,
      hintCacheSize: 100_000,
      now: Date.now,
      writes: new CoalescingWriter(2, (err) => opts.logger.warn('Failed to raise a sequence hint', { err })),
      ...opts,
    };
  }

  submit(req: SendRequest): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      this.queue.push({ req, msgId: messageId(req.from, req.cmid), attempts: 0, resolve, reject });
      this.kick();
    });
  }

  /** Resolves when nothing is queued or being written (shutdown). */
  async drained(): Promise<void> {
    if (this.flushing || this.queue.length > 0) await new Promise<void>((r) => this.idle.push(r));
    await this.opts.writes.drained();
  }

  get depth(): number {
    return this.queue.length;
  }

  private kick(): void {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    const batch = this.queue.splice(0, this.opts.maxBatch);
    this.flush(batch)
      .catch((err: unknown) => {
        this.opts.logger.error('Failed to store messages', { err, count: batch.length });
        const e = new PlatformError('UNAVAILABLE', 'message store unavailable; retry with the same client_msg_id');
        for (const p of batch) p.reject(e);
      })
      .finally(() => {
        this.flushing = false;
        if (this.queue.length > 0) this.kick();
        else for (const r of this.idle.splice(0)) r();
      });
  }

  private async flush(batch: Pending[]): Promise<void> {
    const { store } = this.opts;
    // 1. Declared retries: answer from the first copy when there is one.
    const retries = batch.filter((p) => p.req.retry && p.req.cmid && p.attempts === 0);
    if (retries.length > 0) {
      const recovered: InboxDoc[] = [];
      const found = await Promise.all(
        retries.map(
          async (p) => (await store.getDedup(p.req.from, p.req.cmid)) ?? (await this.recoverRecord(p, recovered)),
        ),
      );
      const answered = new Set<Pending>();
      retries.forEach((p, i) => {
        const d = found[i];
        if (d) {
          this.answerDuplicate(p, d);
          answered.add(p);
        }
      });
      if (recovered.length > 0) this.opts.onStored(recovered);
      if (answered.size) batch = batch.filter((p) => !answered.has(p));
    }
    // A retry racing its original inside one batch: keep the first, answer the rest from it.
    const firstByKey = new Map<string, Pending>();
    const followers: [Pending, Pending][] = [];
    batch = batch.filter((p) => {
      if (!p.req.cmid) return true;
      const k = dedupId(p.req.from, p.req.cmid);
      const first = firstByKey.get(k);
      if (!first) {
        firstByKey.set(k, p);
        return true;
      }
      followers.push([p, first]);
      return false;
    });
    if (batch.length === 0) return this.settleFollowers(followers, new Map());

    // 2. Sequence numbers after each recipient's hint.
    const recipients = [...new Set(batch.map((p) => p.req.to))];
    const unknown = recipients.filter((r) => !this.hints.has(r));
    if (unknown.length > 0) {
      const counters = await store.getCounters(unknown);
      for (const [r, c] of counters) {
        this.setHint(r, Math.max(c.seq, c.trimmed));
        if (c.seq > 0 || c.trimmed > 0) this.counterStored.add(r);
      }
    }
    const now = this.opts.now();
    const hintBefore = new Map(recipients.map((r) => [r, this.hints.get(r)!]));
    const next = new Map(hintBefore);
    const docs: InboxDoc[] = batch.map((p) => {
      const seq = next.get(p.req.to)! + 1;
      next.set(p.req.to, seq);
      const { from, to, mime, cmid } = p.req;
      return { _id: inboxId(to, seq), to, seq, from, mime, cmid, msgId: p.msgId, sentAt: now };
    });

    // 3. Take the numbers by inserting; conflicts go round again.
    this.opts.onBatch?.(docs.length);
    const conflicts = await store.insertMessages(docs);
    const stored: { p: Pending; doc: InboxDoc }[] = [];
    const again: Pending[] = [];
    docs.forEach((doc, i) => {
      const p = batch[i]!;
      if (conflicts.has(i)) {
        p.attempts++;
        if (p.attempts >= MAX_ATTEMPTS) {
          p.reject(
            new PlatformError(
              'UNAVAILABLE',
              'could not store the message (contention); retry with the same client_msg_id',
            ),
          );
        } else again.push(p);
      } else stored.push({ p, doc });
      this.setHint(doc.to, Math.max(this.hints.get(doc.to) ?? 0, doc.seq));
    });
    if (again.length > 0) this.queue.unshift(...again);
    // The hint is written when it moves into the next block of HINT_BLOCK numbers:
    // readers look a whole window past it, so a hint less than a window behind is as
    // good as an exact one, at a fraction of the writes.
    const before = new Map(recipients.map((r) => [r, hintBefore.get(r)!]));
    for (const { doc } of stored) {
      if (Math.floor(doc.seq / HINT_BLOCK) > Math.floor(before.get(doc.to)! / HINT_BLOCK))
        this.queueHint(doc.to, doc.seq);
    }
    // Numbers taken by another writer: our hint was stale. Find the end before the next round.
    const conflicted = new Map<string, number>();
    docs.forEach((doc, i) => {
      if (conflicts.has(i)) conflicted.set(doc.to, Math.max(conflicted.get(doc.to) ?? 0, doc.seq));
    });
    if (conflicted.size > 0) {
      await Promise.all([...conflicted].map(async ([to, seq]) => this.setHint(to, await findEnd(store, to, seq))));
    }

    // 4. Idempotency records; a concurrent retry that got there first wins.
    const withCmid = stored.filter(({ doc }) => doc.cmid);
    const records: DedupDoc[] = withCmid.map(({ doc }) => ({
      _id: dedupId(doc.from, doc.cmid),
      to: doc.to,
      seq: doc.seq,
      msgId: doc.msgId,
      sentAt: doc.sentAt,
    }));
    const lost = await store.insertDedup(records);
    const withdrawn = new Set<InboxDoc>();
    const results = new Map<string, SendResult | PlatformError>();
    for (const i of lost) {
      const { p, doc } = withCmid[i]!;
      const first = await store.getDedup(doc.from, doc.cmid);
      if (first && first.seq === doc.seq && first.to === doc.to) continue; // ours after all
      await store.withdraw(doc.to, doc.seq, doc.msgId);
      withdrawn.add(doc);
      if (first) {
        const r = this.answerDuplicate(p, first);
        results.set(dedupId(doc.from, doc.cmid), r);
      } else p.reject(new PlatformError('UNAVAILABLE', 'message store changed underneath; retry'));
    }

    // 5. Answers, then pushes.
    const pushed: InboxDoc[] = [];
    for (const { p, doc } of stored) {
      if (withdrawn.has(doc)) continue;
      const r: SendResult = { msg_id: doc.msgId, seq: doc.seq, sent_at: doc.sentAt, duplicate: false };
      if (doc.cmid) results.set(dedupId(doc.from, doc.cmid), { ...r, duplicate: true });
      p.resolve(r);
      pushed.push(doc);
    }
    this.settleFollowers(followers, results);
    if (pushed.length > 0) this.opts.onStored(pushed);
  }

  /**
   * A declared retry without an idempotency record: either the first copy was
   * never stored, or it was and its record was not (the store failed, or the
   * gateway died, between the two inserts — the sender then got no answer and
   * retries). The second case leaves the copy near the recipient's end
   * (found from the stored hint and this process's, whichever is further,
   * by probing: another gateway may have written far past both), so the last
   * RETRY_LOOKBACK numbers are read back — one `$in` read — and a copy found
   * there gets its record now and answers the retry. Only declared retries
   * pay for this. `push` collects a recovered copy whose push may never have
   * gone out (the gateway that stored it died).
   */
  private async recoverRecord(p: Pending, push: InboxDoc[]): Promise<DedupDoc | null> {
    const { store } = this.opts;
    const { from, to, cmid } = p.req;
    const c = await store.getCounter(to);
    const end = await findEnd(store, to, Math.max(this.hints.get(to) ?? 0, c.seq, c.trimmed));
    // What was just learnt also numbers this batch's sends to `to` (no second counter read, no conflict round).
    this.setHint(to, end);
    if (c.seq > 0 || c.trimmed > 0) this.counterStored.add(to);
    const lo = Math.max(1, end - RETRY_LOOKBACK + 1);
    const docs = await store.getRange(to, lo, end - lo + 1);
    const copy = docs.find((d) => d && !d.tomb && d.msgId === p.msgId && d.from === from && d.cmid === cmid);
    if (!copy) return null;
    const record: DedupDoc = { _id: dedupId(from, cmid), to, seq: copy.seq, msgId: copy.msgId, sentAt: copy.sentAt };
    const lost = await store.insertDedup([record]);
    // A concurrent retry wrote it first: answer as that record says (and push only the copy it names).
    const winner = lost.size > 0 ? await store.getDedup(from, cmid) : record;
    if (winner && winner.to === to && winner.seq === copy.seq) push.push(copy);
    return winner;
  }

  private settleFollowers(followers: [Pending, Pending][], results: Map<string, SendResult | PlatformError>): void {
    for (const [p, first] of followers) {
      const r = results.get(dedupId(first.req.from, first.req.cmid));
      if (r !== undefined && !(r instanceof PlatformError) && p.req.to !== first.req.to)
        p.reject(
          new PlatformError(
            'ALREADY_EXISTS',
            `client_msg_id '${p.req.cmid}' was already used for a message to another user`,
          ),
        );
      else if (r === undefined)
        this.queue.unshift(p); // the first went round again: so does its retry
      else if (r instanceof PlatformError) p.reject(r);
      else p.resolve(r);
    }
  }

  private answerDuplicate(p: Pending, d: DedupDoc): SendResult | PlatformError {
    if (d.to !== p.req.to) {
      const e = new PlatformError(
        'ALREADY_EXISTS',
        `client_msg_id '${p.req.cmid}' was already used for a message to another user`,
      );
      p.reject(e);
      return e;
    }
    const r: SendResult = { msg_id: d.msgId, seq: d.seq, sent_at: d.sentAt, duplicate: true };
    p.resolve(r);
    return r;
  }

  /** A hint learnt elsewhere (a feed read the counter): saves a read on the first send to that user. */
  primeHint(to: string, seq: number): void {
    if (this.hints.has(to)) return;
    this.setHint(to, seq);
    if (seq > 0) this.counterStored.add(to);
  }

  /**
   * Records the highest number written in the recipient's counter, in the
   * background, one write at a time and coalesced per recipient: it is only a
   * hint (for other gateways and catching-up readers), so it may lag. The
   * insert is tried first only while the counter document is not known to
   * exist (a guess either way: the write is an upsert).
   */
  private queueHint(to: string, seq: number): void {
    this.pendingHints.set(to, Math.max(this.pendingHints.get(to) ?? 0, seq));
    void this.opts.writes.submit(`hint\n${to}`, async () => {
      const value = this.pendingHints.get(to);
      this.pendingHints.delete(to);
      if (value === undefined) return;
      await this.opts.store.raiseCounter(to, value, !this.counterStored.has(to));
      if (this.hints.has(to)) this.counterStored.add(to);
    });
  }

  private setHint(to: string, seq: number): void {
    if (this.hints.has(to)) this.hints.delete(to);
    else if (this.hints.size >= this.opts.hintCacheSize) {
      const oldest = this.hints.keys().next().value;
      if (oldest !== undefined) {
        this.hints.delete(oldest);
        this.counterStored.delete(oldest);
      }
    }
    this.hints.set(to, seq);
  }
}

/**
 * The highest sequence number stored for `to`, knowing `known` is taken:
 * exponential probing, then bisection (numbers are dense: holes only come from
 * failed writers and are rare). O(log n) point reads.
 */
export async function findEnd(store: MessageStore, to: string, known: number): Promise<number> {
  let lo = known;
  let step = 1;
  while (await store.getMessage(to, lo + step)) {
    lo += step;
    step *= 2;
  }
  let hi = lo + step; // missing
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await store.getMessage(to, mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
