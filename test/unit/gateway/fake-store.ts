// An in-memory stand-in for MessageStore with the same arbitration rules
// (insert conflicts on _id, counters as lossy hints) for unit tests of the
// delivery and send logic. Never used outside unit tests.
import {
  inboxId,
  type DedupDoc,
  type InboxDoc,
  type MessageStore,
} from '../../../services/gateway/src/message-store.js';

export class FakeStore {
  readonly inbox = new Map<string, InboxDoc>();
  readonly dedup = new Map<string, DedupDoc>();
  readonly counters = new Map<string, { seq: number; trimmed: number }>();
  readonly cursors = new Map<string, number>();
  reads = 0;
  /** Hook run before each inbox insert batch (to simulate a concurrent writer). */
  beforeInsert: (() => void) | undefined;

  asStore(): MessageStore {
    return this as unknown as MessageStore;
  }

  put(doc: Omit<InboxDoc, '_id'>): void {
    this.inbox.set(inboxId(doc.to, doc.seq), { ...doc, _id: inboxId(doc.to, doc.seq) });
  }

  async insertMessages(docs: InboxDoc[]): Promise<Set<number>> {
    this.beforeInsert?.();
    const c = new Set<number>();
    docs.forEach((d, i) => (this.inbox.has(d._id) ? c.add(i) : this.inbox.set(d._id, { ...d })));
    return c;
  }

  /** Idempotency inserts that fail (the store fails between a batch's two inserts). */
  failDedup = 0;

  async insertDedup(docs: DedupDoc[]): Promise<Set<number>> {
    if (this.failDedup > 0) {
      this.failDedup--;
      throw new Error('store connection reset');
    }
    const c = new Set<number>();
    docs.forEach((d, i) => (this.dedup.has(d._id) ? c.add(i) : this.dedup.set(d._id, { ...d })));
    return c;
  }

  async getDedup(from: string, cmid: string): Promise<DedupDoc | null> {
    return this.dedup.get(`${from}\n${cmid}`) ?? null;
  }

  async getMessage(to: string, seq: number): Promise<InboxDoc | null> {
    this.reads++;
    return this.inbox.get(inboxId(to, seq)) ?? null;
  }

  /** One read, as MessageStore's `$in` read. */
  async getRange(to: string, from: number, count: number): Promise<(InboxDoc | null)[]> {
    this.reads++;
    return Array.from({ length: count }, (_, i) => this.inbox.get(inboxId(to, from + i)) ?? null);
  }

  async tombstone(to: string, seq: number, now = Date.now()): Promise<boolean> {
    if (this.inbox.has(inboxId(to, seq))) return false;
    this.put({ to, seq, from: '', mime: '', cmid: '', msgId: '', sentAt: now, tomb: true });
    return true;
  }

  async withdraw(to: string, seq: number, msgId: string): Promise<void> {
    const d = this.inbox.get(inboxId(to, seq));
    if (d && d.msgId === msgId) Object.assign(d, { tomb: true, mime: '' });
  }

  async getCounter(to: string): Promise<{ seq: number; trimmed: number }> {
    return this.counters.get(to) ?? { seq: 0, trimmed: 0 };
  }

  async getCounters(users: readonly string[]): Promise<Map<string, { seq: number; trimmed: number }>> {
    return new Map(await Promise.all(users.map(async (u) => [u, await this.getCounter(u)] as const)));
  }

  /** Every raiseCounter call, with its guess whether the counter document was missing. */
  readonly hintWrites: { to: string; seq: number; fresh: boolean }[] = [];

  /** While set, hint writes wait for it (a busy bookkeeping writer). */
  hintGate: Promise<void> | undefined;

  async raiseCounter(to: string, seq: number, fresh = true): Promise<void> {
    await this.hintGate;
    this.hintWrites.push({ to, seq, fresh });
    const c = this.counters.get(to) ?? { seq: 0, trimmed: 0 };
    this.counters.set(to, { ...c, seq: Math.max(c.seq, seq) });
  }

  async raiseTrimmed(to: string, seq: number): Promise<void> {
    const c = this.counters.get(to) ?? { seq: 0, trimmed: 0 };
    this.counters.set(to, { ...c, trimmed: Math.max(c.trimmed, seq) });
  }

  async getCursor(user: string, device: string): Promise<number> {
    return this.cursors.get(`${user}\n${device}`) ?? 0;
  }

  async advanceCursor(user: string, device: string, acked: number, _fresh = false): Promise<void> {
    const k = `${user}\n${device}`;
    this.cursors.set(k, Math.max(this.cursors.get(k) ?? 0, acked));
  }
}

export function doc(to: string, seq: number, from = 'alice'): InboxDoc {
  return {
    _id: inboxId(to, seq),
    to,
    seq,
    from,
    mime: `[{"type":"text","text":"m${seq}"}]`,
    cmid: '',
    msgId: `id${seq}`,
    sentAt: 1,
  };
}
