// Inserts that share one insertMany: the documents submitted in one
// event-loop turn go out together at its end (setImmediate), and while one
// runs the documents submitted meanwhile wait for the next. A storm
// (thousands of devices registering presence after a gateway restart) costs a
// few commands instead of one per document — on the test store each command is
// ~1 ms of FerretDB's CPU and a socket round trip for the gateway.

import type { InsertOutcome } from './message-store.js';
import { SendLoop } from './send-loop.js';

interface Waiting<T> {
  doc: T;
  resolve: (inserted: boolean) => void;
  reject: (err: unknown) => void;
}

export class BatchedInsert<T> {
  private waiting: Waiting<T>[] = [];
  private readonly loop = new SendLoop(() => this.send());

  constructor(
    /** Inserts unordered; each document's outcome (a failed command rejects). */
    private readonly insertMany: (docs: T[]) => Promise<InsertOutcome[]>,
    /** At most this many documents per command (the rest go in the next). */
    private readonly maxDocs = 1000,
  ) {}

  /**
   * True when inserted; false when a document with its `_id` exists (also one
   * of the same batch). Rejects with the document's own write error, or the
   * command's when the whole insert failed.
   */
  insert(doc: T): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ doc, resolve, reject });
      this.loop.kick();
    });
  }

  /** Sends up to maxDocs waiting documents as one command; undefined when none wait. */
  private send(): Promise<void> | undefined {
    if (this.waiting.length === 0) return undefined;
    const batch = this.waiting.splice(0, this.maxDocs);
    const docs = batch.map((w) => w.doc);
    // Through a promise: an insert that throws instead of rejecting must still answer its callers.
    return Promise.resolve()
      .then(() => this.insertMany(docs))
      .then(
        (outcomes) =>
          batch.forEach((w, i) => {
            const o = outcomes[i];
            if (o instanceof Error) w.reject(o);
            else if (o === undefined) w.reject(new Error('the insert answered fewer outcomes than documents'));
            else w.resolve(o === 'inserted');
          }),
        (err: unknown) => batch.forEach((w) => w.reject(err)),
      );
  }
}
