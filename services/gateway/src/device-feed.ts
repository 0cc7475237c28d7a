// Delivery to one connected device: pushes the recipient's inbox in sequence
// order, from the device's cursor, through ITerminal.onMessage (or, for a
// device that asked for batches, onMessages: consecutive messages in one call);
// the device's return is the ack. Up to `window` messages are in flight; the cursor advances
// over the acked prefix and is persisted (coalesced: one write in flight per
// device). Messages arrive from the push router (already stored, in the notice)
// or, when the feed is behind or sees a hole, from point reads of the store.
// A hole (a sequence number taken but never written — a sender crashed in the
// middle of a batch) is waited for up to gapTimeout, then tombstoned and skipped.
import type { Message } from '../../../proto/gen/ts/messaging.js';
import type { Logger } from '../../runtime/src/logger.js';
import { isGroupId } from './group-store.js';
import type { InboxDoc, MessageStore } from './message-store.js';
import { CoalescingWriter } from './store-pacing.js';

export interface FeedDeps {
  store: MessageStore;
  logger: Logger;
  /**
   * ITerminal.onMessage (one doc) or onMessages (several, consecutive) on the
   * device; resolves when the device returned (the ack of all of them). The
   * docs and, when a whole offered batch goes out, the array itself are the
   * objects shared by every feed they were offered to, so the caller may
   * encode them once.
   */
  push(docs: readonly InboxDoc[]): Promise<void>;
  /** ITerminal.onReset: messages before `firstAvailable` were deleted by retention. */
  reset(firstAvailable: number): Promise<void>;
  /** A message reached the device (delivery receipt). */
  delivered(doc: InboxDoc): void;
  /** The device failed to take a push (error or timeout): the connection is closed by the caller. */
  failed(err: unknown): void;
  window: number;
  /** Messages per push (1: onMessage only; more: the device takes onMessages). Default 1. */
  maxBatch?: number;
  gapTimeoutMs: number;
  /** Offers buffered ahead of the next expected sequence number (beyond: re-read later). */
  maxBuffered?: number;
  /**
   * How long acks may wait before the cursor is written (default 1 s; at once
   * when 64 are waiting). Each write is a store round trip; a crash redelivers
   * at most this much, which the device drops by sequence number.
   */
  cursorDelayMs?: number;
  /** Told what the recipient's counter said (the send pipeline reuses it as its hint). */
  counterSeen?(user: string, hint: number): void;
  /** Shared writer that paces and coalesces cursor writes (default: one per feed). */
  cursors?: CoalescingWriter;
  now?: () => number;
}

interface InFlight {
  seq: number;
  done: boolean;
}

/** How many consecutive sequence numbers one store read looks at. */
export const READ_WINDOW = 32;
/** Sequence numbers probed past the recipient's hint (which may lag by a few). */
export const PROBE_AHEAD = 2;
/** MimeText (in UTF-16 code units, as stored) one onMessages call carries at most; a single longer message goes alone. */
export const MAX_BATCH_CHARS = 256 * 1024;

export function toMessage(d: InboxDoc): Message {
  return {
    msg_id: d.msgId,
    from_user: d.from,
    to_user: d.to,
    seq: d.seq,
    mime_text: d.mime,
    client_msg_id: d.cmid,
    sent_at: d.sentAt,
    group_id: isGroupId(d.to) ? d.to : '',
  };
}

const consecutive = (docs: readonly InboxDoc[]): boolean =>
  docs.every((d, i) => i === 0 || d.seq === docs[i - 1]!.seq + 1);

const mimeChars = (docs: readonly InboxDoc[]): number => docs.reduce((n, d) => n + d.mime.length, 0);

/** Never written to: feeds swap in their own Map before buffering (see buffered()). */
const NO_BUFFER: Map<number, InboxDoc> = new Map();

export class DeviceFeed {
  /** Highest sequence number the device has acked (or that was skipped). */
  acked: number;
  /** Highest sequence number pushed (in flight or acked) or skipped. */
  sent: number;
  private readonly inflight: InFlight[] = [];
  /** Shared empty map until something is buffered (most feeds are idle: no Map each). */
  private buffer: Map<number, InboxDoc> = NO_BUFFER;
  private needRead = true;
  private reading = false;
  private stopped = false;
  private epoch = 0;
  private persistedAcked: number;
  private persistTimer: NodeJS.Timeout | undefined;
  private gap: { seq: number; since: number; tries: number } | undefined;
  private gapTimer: NodeJS.Timeout | undefined;
  private resetting = false;
  private started = false;
  /** Size of the next read after a read that found everything (0: go by the hint). */
  private grow = 0;
  private readonly maxBuffered: number;
  private readonly maxBatch: number;
  private readonly now: () => number;

  constructor(
    readonly user: string,
    readonly device: string,
    /** The device's persisted cursor. */
    cursor: number,
    private readonly deps: FeedDeps,
  ) {
    this.acked = cursor;
    this.sent = cursor;
    this.persistedAcked = cursor;
    this.maxBuffered = deps.maxBuffered ?? deps.window * 8;
    this.maxBatch = Math.max(1, Math.min(deps.maxBatch ?? 1, deps.window));
    this.now = deps.now ?? Date.now;
  }

  /**
   * Starts delivering: first catches up from the store. Nothing is pushed
   * before (offers are dropped: whatever they carried is stored, so this read
   * finds it): the gateway answers authenticate or a login before pushing.
   */
  start(): void {
    this.started = true;
    this.needRead = true;
    this.pump();
  }

  /** A newly stored message for this user (from the push router). */
  offer(doc: InboxDoc): void {
    if (this.stopped || !this.started || doc.seq <= this.sent) return;
    // The usual case, and the hot one for a group's fan-out: the next message, room in the window.
    if (
      doc.seq === this.sent + 1 &&
      this.buffer.size === 0 &&
      !this.resetting &&
      this.inflight.length < this.deps.window
    ) {
      this.dispatch([doc]);
      this.pump();
      return;
    }
    if (this.buffer.size >= this.maxBuffered && doc.seq !== this.sent + 1) {
      this.needRead = true;
      this.pump();
      return;
    }
    this.buffered().set(doc.seq, doc);
    this.pump();
  }

  /**
   * Newly stored messages of this stream, in seq order (one notice). The hot
   * case — exactly the next ones, nothing buffered, room for all — goes out as
   * one push of the array itself; anything else is buffered and pumped.
   */
  offerMany(docs: readonly InboxDoc[]): void {
    // One message, or a device that takes one per call: the single-offer path (no buffer).
    if (docs.length === 1 || this.maxBatch === 1) {
      for (const d of docs) this.offer(d);
      return;
    }
    if (this.stopped || !this.started || docs.length === 0) return;
    if (
      this.maxBatch >= docs.length &&
      docs[0]!.seq === this.sent + 1 &&
      this.buffer.size === 0 &&
      !this.resetting &&
      this.inflight.length + docs.length <= this.deps.window &&
      consecutive(docs) &&
      mimeChars(docs) <= MAX_BATCH_CHARS
    ) {
      this.dispatch(docs);
      this.pump();
      return;
    }
    for (const doc of docs) {
      if (doc.seq <= this.sent) continue;
      if (this.buffer.size >= this.maxBuffered && doc.seq !== this.sent + 1) {
        this.needRead = true;
        break;
      }
      this.buffered().set(doc.seq, doc);
    }
    this.pump();
  }

  /** The device asks to get everything after `afterSeq` again (ISession/IMessageServer.resume). */
  resume(afterSeq: number): void {
    if (this.stopped) return;
    this.epoch++;
    this.inflight.length = 0;
    this.buffer = NO_BUFFER;
    this.clearGap();
    this.sent = afterSeq;
    this.acked = afterSeq;
    this.needRead = true;
    this.reading = false;
    this.pump();
  }

  /** Reads the store once more (notices may have been lost). */
  poke(): void {
    this.needRead = true;
    this.pump();
  }

  /**
   * A cheap look for a message the notices may have missed: one point read of
   * the next sequence number; a full read only if something is there.
   */
  recheck(): void {
    if (this.stopped || !this.started || this.reading || this.needRead) return;
    const next = this.sent + 1;
    if (this.buffer.has(next)) return;
    const epoch = this.epoch;
    this.deps.store.getMessage(this.user, next).then(
      (d) => {
        if (d && epoch === this.epoch && !this.stopped && this.sent < d.seq) this.poke();
      },
      (err: unknown) => this.deps.logger.debug('Recheck failed', { err, user: this.user }),
    );
  }

  /** Explicit cumulative ack from the device (IMessageServer.ack). */
  ack(seq: number): void {
    for (const f of this.inflight) if (f.seq <= seq) f.done = true;
    this.advance();
    this.pump();
  }

  /** Stops pushing; persists the cursor one last time. */
  stop(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stopped = true;
    this.clearGap();
    this.buffer = NO_BUFFER;
    return this.flushCursor();
  }

  get inFlight(): number {
    return this.inflight.length;
  }

  /** The buffer, made private to this feed before the first write. */
  private buffered(): Map<number, InboxDoc> {
    if (this.buffer === NO_BUFFER) this.buffer = new Map();
    return this.buffer;
  }

  private pump(): void {
    // Not started: nothing goes out yet (offers, pokes and resumes are picked up by start's read).
    if (this.stopped || !this.started || this.resetting) return;
    while (this.inflight.length < this.deps.window) {
      const first = this.buffer.get(this.sent + 1);
      if (!first) break;
      this.buffer.delete(first.seq);
      const batch = [first];
      const room = Math.min(this.maxBatch, this.deps.window - this.inflight.length);
      let chars = first.mime.length;
      for (let next = this.buffer.get(first.seq + 1); next && batch.length < room;) {
        chars += next.mime.length;
        if (chars > MAX_BATCH_CHARS) break;
        this.buffer.delete(next.seq);
        batch.push(next);
        next = this.buffer.get(next.seq + 1);
      }
      this.dispatch(batch);
    }
    if (this.buffer.size === 0) this.buffer = NO_BUFFER;
    // Offers buffered further ahead: what is missing before them is probably a
    // notice still on its way; give it a moment, then read the store.
    if (this.buffer.size > 0 && !this.buffer.has(this.sent + 1) && !this.needRead) {
      this.scheduleRetry(Math.min(50, this.deps.gapTimeoutMs));
      this.needRead = true;
      return;
    }
    if (this.needRead && !this.reading && !this.gapTimer && this.inflight.length < this.deps.window) {
      void this.read();
    }
  }

  /** Pushes consecutive docs (tombstones are acked here, not sent) as one call. */
  private dispatch(docs: readonly InboxDoc[]): void {
    const last = docs[docs.length - 1]!;
    this.sent = last.seq;
    if (this.gap && this.gap.seq <= last.seq) this.clearGap();
    const entries: InFlight[] = [];
    let tombs = false;
    for (const d of docs) {
      const entry: InFlight = { seq: d.seq, done: !!d.tomb };
      tombs ||= entry.done;
      entries.push(entry);
      this.inflight.push(entry);
    }
    const live = tombs ? docs.filter((d) => !d.tomb) : docs;
    if (tombs) this.advance();
    if (live.length === 0) return;
    const epoch = this.epoch;
    this.deps.push(live).then(
      () => {
        if (epoch !== this.epoch || this.stopped) return;
        for (const e of entries) e.done = true;
        for (const d of live) this.deps.delivered(d);
        this.advance();
        this.pump();
      },
      (err: unknown) => {
        if (epoch !== this.epoch || this.stopped) return;
        this.deps.failed(err);
      },
    );
  }

  private advance(): void {
    let moved = false;
    while (this.inflight.length > 0 && this.inflight[0]!.done) {
      this.acked = this.inflight.shift()!.seq;
      moved = true;
    }
    if (moved) this.persist();
  }

  private persist(): void {
    if (this.acked <= this.persistedAcked || this.stopped) return;
    const delay = this.deps.cursorDelayMs ?? 1000;
    if (this.acked - this.persistedAcked < 64 && delay > 0) {
      this.persistTimer ??= setTimeout(() => {
        this.persistTimer = undefined;
        void this.writeCursor();
      }, delay);
      return;
    }
    void this.writeCursor();
  }

  /** Writes the cursor (the newest value when the write actually runs). */
  private writeCursor(): Promise<void> {
    const writer = (this.deps.cursors ??= new CoalescingWriter(1, (err) =>
      this.deps.logger.warn('Failed to persist delivery cursor', { err, user: this.user }),
    ));
    return writer.submit(`${this.user}\n${this.device}`, async () => {
      const value = this.acked;
      if (value <= this.persistedAcked) return;
      await this.deps.store.advanceCursor(this.user, this.device, value, this.persistedAcked === 0);
      this.persistedAcked = Math.max(this.persistedAcked, value);
    });
  }

  private async flushCursor(): Promise<void> {
    clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    await this.writeCursor();
  }

  private async read(): Promise<void> {
    this.reading = true;
    this.needRead = false;
    const epoch = this.epoch;
    // Start after what is already buffered in order.
    let last = this.sent;
    while (this.buffer.has(last + 1)) last++;
    const from = last + 1;
    try {
      const c = await this.deps.store.getCounter(this.user);
      if (epoch !== this.epoch || this.stopped) return;
      this.deps.counterSeen?.(this.user, Math.max(c.seq, c.trimmed));
      if (c.trimmed >= from) await this.onTrimmed(c.trimmed, epoch);
      else await this.readRange(from, last, c.seq, epoch);
    } catch (err) {
      this.deps.logger.warn('Failed to read the inbox', { err, user: this.user });
      if (epoch === this.epoch) this.needRead = true;
      this.scheduleRetry(500);
    } finally {
      if (epoch === this.epoch) this.reading = false;
    }
    if (epoch === this.epoch) this.pump();
  }

  /** Reads [from, …] past the recipient's hint; buffers what is there; notices holes. */
  private async readRange(from: number, last: number, hint: number, epoch: number): Promise<void> {
    // The hint may lag a little behind the truth (lost bookkeeping updates): look a bit past it.
    const upper = Math.max(hint, last) + PROBE_AHEAD;
    // After a full read the hint is evidently behind: read twice as far each time until a miss
    // (growing, not jumping to a whole window: usually only a few are missing).
    const count = Math.min(READ_WINDOW, Math.max(upper - from + 1, this.grow));
    const docs = await this.deps.store.getRange(this.user, from, count);
    if (epoch !== this.epoch || this.stopped) return;
    let firstMissing = -1;
    let lastFound = -1;
    docs.forEach((d, i) => {
      if (d) {
        lastFound = i;
        if (d.seq > this.sent) this.buffered().set(d.seq, d);
      } else if (firstMissing < 0) firstMissing = i;
    });
    this.grow = firstMissing < 0 ? count * 2 : 0;
    if (firstMissing < 0) {
      this.needRead = true; // all there: there may be more
      return;
    }
    const missing = from + firstMissing;
    // A hole: later numbers exist (found, or the hint says they were written).
    if (lastFound > firstMissing || hint > missing) await this.onHole(missing, epoch);
    else if (hint === missing) this.needRead = true; // written while we read
  }

  /** `seq` is missing while later ones exist: wait a while for its writer, then skip it. */
  private async onHole(seq: number, epoch: number): Promise<void> {
    const now = this.now();
    if (!this.gap || this.gap.seq !== seq) this.gap = { seq, since: now, tries: 0 };
    const waited = now - this.gap.since;
    if (waited >= this.deps.gapTimeoutMs) {
      const skipped = await this.deps.store.tombstone(this.user, seq, now);
      if (epoch !== this.epoch || this.stopped) return;
      if (skipped) this.deps.logger.warn('Skipped a sequence number never written', { user: this.user, seq });
      this.gap = undefined;
      this.needRead = true;
      return;
    }
    this.gap.tries++;
    this.needRead = true;
    this.scheduleRetry(Math.min(this.deps.gapTimeoutMs - waited, 20 * 2 ** Math.min(this.gap.tries, 6)));
  }

  /** Retention deleted what the device has not seen: tell it, then continue after the deleted part. */
  private async onTrimmed(trimmed: number, epoch: number): Promise<void> {
    this.resetting = true;
    try {
      await this.deps.reset(trimmed + 1);
    } catch (err) {
      if (epoch === this.epoch && !this.stopped) this.deps.failed(err);
      return;
    } finally {
      this.resetting = false;
    }
    if (epoch !== this.epoch || this.stopped) return;
    this.inflight.length = 0;
    this.buffer = NO_BUFFER;
    this.sent = Math.max(this.sent, trimmed);
    this.acked = Math.max(this.acked, trimmed);
    this.persist();
    this.needRead = true;
  }

  private scheduleRetry(ms: number): void {
    if (this.gapTimer || this.stopped) return;
    this.gapTimer = setTimeout(
      () => {
        this.gapTimer = undefined;
        this.pump();
      },
      Math.max(1, ms),
    );
  }

  private clearGap(): void {
    this.gap = undefined;
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }
}
