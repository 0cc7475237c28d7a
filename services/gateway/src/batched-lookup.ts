// Lookups by key that share one query: the keys asked in one event-loop turn
// go out together at its end (setImmediate), and while a query runs the keys
// asked meanwhile wait and go out together in the next one. A lone caller waits
// at most that turn; a storm (thousands of devices starting sessions, whose
// upgrades arrive in the same I/O phase) costs a few queries instead of one per
// key (waiting for the turn's end: session setup 446–550/s → 621–696/s). That matters on FerretDB 1.x,
// which answers a query on any field but `_id` by reading and parsing the whole
// collection (a member lookup at 10 000 members: ~250 ms, for one key or for a
// thousand); on MongoDB it is one `$in` on an index instead of many finds.

import { SendLoop } from './send-loop.js';

interface Waiter<V> {
  resolve: (v: V[]) => void;
  reject: (err: unknown) => void;
}

export class BatchedLookup<V> {
  private readonly waiting = new Map<string, Waiter<V>[]>();
  private readonly loop = new SendLoop(() => this.send());

  constructor(
    /** Every value for any of `keys`; `keyOf` says which key a value belongs to. */
    private readonly query: (keys: string[]) => Promise<V[]>,
    private readonly keyOf: (v: V) => string,
    /** At most this many keys per query (the rest go in the next). */
    private readonly maxKeys = 1000,
  ) {}

  /** The values for `key` (empty when there are none). */
  get(key: string): Promise<V[]> {
    const p = this.enqueue(key);
    this.loop.kick();
    return p;
  }

  /** The values for each of `keys`, in order; all of them join the same query. */
  getMany(keys: readonly string[]): Promise<V[][]> {
    const all = Promise.all(keys.map((k) => this.enqueue(k)));
    this.loop.kick();
    return all;
  }

  private enqueue(key: string): Promise<V[]> {
    return new Promise((resolve, reject) => {
      let list = this.waiting.get(key);
      if (!list) this.waiting.set(key, (list = []));
      list.push({ resolve, reject });
    });
  }

  /** Keys waiting for the next query (metrics, tests). */
  get queued(): number {
    return this.waiting.size;
  }

  /** Sends up to maxKeys waiting keys as one query; undefined when none wait. */
  private send(): Promise<void> | undefined {
    if (this.waiting.size === 0) return undefined;
    const batch = new Map<string, Waiter<V>[]>();
    for (const [k, list] of this.waiting) {
      if (batch.size >= this.maxKeys) break;
      batch.set(k, list);
    }
    for (const k of batch.keys()) this.waiting.delete(k);
    const keys = [...batch.keys()];
    // Through a promise: a query that throws instead of rejecting must still answer its callers.
    return Promise.resolve()
      .then(() => this.query(keys))
      .then(
        (values) => {
          const byKey = new Map<string, V[]>();
          try {
            for (const v of values) {
              const k = this.keyOf(v);
              let l = byKey.get(k);
              if (!l) byKey.set(k, (l = []));
              l.push(v);
            }
          } catch (err) {
            for (const list of batch.values()) for (const w of list) w.reject(err);
            return;
          }
          // Each caller its own array: one caller's changes must not show in another's.
          // (The documents in them are shared between callers of one key: read-only.)
          for (const [k, list] of batch) for (const w of list) w.resolve([...(byKey.get(k) ?? [])]);
        },
        (err: unknown) => {
          for (const list of batch.values()) for (const w of list) w.reject(err);
        },
      );
  }
}
