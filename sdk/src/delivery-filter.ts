// What the app has already been shown, so that the platform's at-least-once
// delivery reaches the app exactly once. Pure bookkeeping (no I/O, no clock):
// TceClient asks `isDuplicate` before handing a pushed message to the app and
// calls `handled` after the app took it.
//
// Two independent kinds of sequence arrive on the same ITerminal.onMessage:
// the user's inbox (`seq` per user) and each group's own sequence (`seq` per
// group, `group_id` set). Comparing a group's seq with the inbox cursor would
// drop inbox messages (or group ones) at random, so each has its own high-water
// mark. A retried send can exist twice with one msg_id, hence the id set too.
import type { Message } from '../../proto/gen/ts/messaging.js';

export interface DeliveryFilterOptions {
  /** Highest inbox seq the app has handled (e.g. persisted by the app). */
  lastSeq?: number;
  /** Highest seq handled per group (e.g. persisted by the app). */
  groupSeqs?: Readonly<Record<string, number>>;
  /** How many msg_ids to remember (default 2048). */
  maxRecentIds?: number;
  /** How many groups to remember a cursor for (default 4096); the least recently active is forgotten first. */
  maxGroups?: number;
}

type Delivered = Pick<Message, 'msg_id' | 'seq' | 'group_id'>;

export class DeliveryFilter {
  /** Highest inbox seq handed to the app. */
  lastSeq: number;
  private readonly groupSeq = new Map<string, number>();
  private readonly recentIds = new Set<string>();
  private readonly maxRecentIds: number;
  private readonly maxGroups: number;

  constructor(opts: DeliveryFilterOptions = {}) {
    this.lastSeq = opts.lastSeq ?? 0;
    this.maxRecentIds = opts.maxRecentIds ?? 2048;
    this.maxGroups = opts.maxGroups ?? 4096;
    for (const [g, s] of Object.entries(opts.groupSeqs ?? {})) this.advanceGroup(g, s);
  }

  /** Already handed to the app: a redelivery, or a second stored copy of a retried send. */
  isDuplicate(m: Delivered): boolean {
    if (this.recentIds.has(m.msg_id)) return true;
    return m.group_id ? m.seq <= (this.groupSeq.get(m.group_id) ?? 0) : m.seq <= this.lastSeq;
  }

  /**
   * Records that the app has the message (or that it was a duplicate): its
   * cursor moves up to `seq`, never down.
   */
  handled(m: Delivered, shown: boolean): void {
    if (m.group_id) this.advanceGroup(m.group_id, m.seq);
    else this.lastSeq = Math.max(this.lastSeq, m.seq);
    if (!shown) return;
    this.recentIds.add(m.msg_id);
    if (this.recentIds.size > this.maxRecentIds) this.recentIds.delete(this.recentIds.values().next().value!);
  }

  /** The highest seq handled in a group (0 when unknown). */
  groupCursor(groupId: string): number {
    return this.groupSeq.get(groupId) ?? 0;
  }

  /** Every remembered group cursor, least recently active first (for an app to persist). */
  groupCursors(): Record<string, number> {
    return Object.fromEntries(this.groupSeq);
  }

  /** Forgets everything (another user signed in on this client). */
  clear(): void {
    this.lastSeq = 0;
    this.groupSeq.clear();
    this.recentIds.clear();
  }

  private advanceGroup(groupId: string, seq: number): void {
    const prev = this.groupSeq.get(groupId) ?? 0;
    // Re-insert so Map order is least recently active first: eviction drops a quiet group.
    this.groupSeq.delete(groupId);
    this.groupSeq.set(groupId, Math.max(prev, seq));
    if (this.groupSeq.size > this.maxGroups) this.groupSeq.delete(this.groupSeq.keys().next().value!);
  }
}
