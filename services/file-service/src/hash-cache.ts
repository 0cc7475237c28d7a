// SHA-256 state of resumable uploads, per process. Node cannot serialise a hash
// state, so a replica can continue an upload's hash only if it saw every byte so
// far; when a PATCH lands on another replica (or after a restart) the hash is
// recomputed from the stored chunks at completion instead. The common case — an
// upload that continues where it stopped on the same replica — pays nothing.
import crypto from 'node:crypto';

const MAX_ENTRIES = 10_000;

export class HashCache {
  private readonly states = new Map<string, { offset: number; hash: crypto.Hash }>();

  /** A working copy of the hash for bytes [0, offset), if this process has it (a fresh one at 0). */
  take(id: string, offset: number): crypto.Hash | undefined {
    if (offset === 0) return crypto.createHash('sha256');
    const s = this.states.get(id);
    return s && s.offset === offset ? s.hash.copy() : undefined;
  }

  put(id: string, offset: number, hash: crypto.Hash): void {
    this.states.delete(id);
    this.states.set(id, { offset, hash });
    // Oldest first: Map keeps insertion order.
    while (this.states.size > MAX_ENTRIES) this.states.delete(this.states.keys().next().value!);
  }

  forget(id: string): void {
    this.states.delete(id);
  }
}
