// One partition's messages in memory, in sequence order. Every queue keeps its
// retained messages here (durable ones are also in MongoDB); an entry leaves
// memory once no subscription needs it any more. Sequence numbers start at 1.

export interface Entry {
  seq: number;
  /** The encoded mq.Message, delivered and stored as is. */
  bytes: Uint8Array;
  id: string;
  /** Retaining subscriptions (queue cursor, groups, named subscriptions, or the idle hold) not done with it. */
  need: number;
  /** Ephemeral topic subscribers that have not received it yet. */
  eph: number;
  /** Storage collection number holding it (durable queues), -1 when not stored (yet). */
  col: number;
}

export class PartitionLog {
  readonly partition: number;
  private entries: (Entry | undefined)[] = [];
  private head = 0;
  /** Sequence number of entries[head]. */
  low: number;
  /** Next sequence number to assign. */
  next: number;
  /** Sequence numbers below this may be delivered (appended and accepted; durable ones need not be written yet). */
  ready: number;
  /** Entries held in memory. */
  count = 0;

  constructor(partition: number, start = 1) {
    this.partition = partition;
    this.low = this.next = this.ready = start;
  }

  append(bytes: Uint8Array, id: string, need: number, eph: number): Entry {
    const e: Entry = { seq: this.next++, bytes, id, need, eph, col: -1 };
    this.entries.push(e);
    this.count++;
    return e;
  }

  get(seq: number): Entry | undefined {
    if (seq < this.low || seq >= this.next) return undefined;
    return this.entries[this.head + seq - this.low];
  }

  /** Drops an entry from memory (nobody needs it any more). */
  release(seq: number): void {
    if (seq < this.low || seq >= this.next) return;
    const i = this.head + seq - this.low;
    if (this.entries[i] === undefined) return;
    this.entries[i] = undefined;
    this.count--;
    while (this.head < this.entries.length && this.entries[this.head] === undefined) {
      this.head++;
      this.low++;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** Every entry in memory, in order. */
  *values(): Generator<Entry> {
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (e) yield e;
    }
  }

  /** Rebuilds from stored entries (sorted by seq, holes allowed); `next` continues after them. */
  restore(entries: Entry[], next: number): void {
    const first = entries[0]?.seq ?? next;
    this.entries = [];
    this.head = 0;
    this.low = first;
    this.count = 0;
    for (const e of entries) {
      while (this.low + this.entries.length < e.seq) this.entries.push(undefined);
      this.entries.push(e);
      this.count++;
    }
    this.next = Math.max(next, this.low + this.entries.length);
    while (this.low + this.entries.length < this.next) this.entries.push(undefined);
    this.ready = this.next;
    while (this.head < this.entries.length && this.entries[this.head] === undefined) {
      this.head++;
      this.low++;
    }
  }
}
