// Partition ownership bookkeeping of one unit. A partition assigned to this
// unit is `loading` until its state has been rebuilt from the store, then
// `ready`; only ready partitions are answered for. Every assignment gets a new
// generation, so a load that finishes after the partition was revoked (or
// revoked and assigned again) is recognised as stale and discarded.

export type PartitionStatus = 'loading' | 'ready';

export class Ownership {
  private readonly status = new Map<number, { status: PartitionStatus; generation: number }>();
  private nextGeneration = 1;
  /** ready() and its membership mask, recomputed only after a change (queries read them on every call). */
  private readyCache: { list: number[]; mask: Uint8Array } | undefined;

  /** Starts owning `p` (loading). Returns the generation to hand to `loaded`. */
  assign(p: number): number {
    const generation = this.nextGeneration++;
    this.status.set(p, { status: 'loading', generation });
    this.readyCache = undefined;
    return generation;
  }

  /** Marks `p` ready if this load is still the current one; false when it is stale. */
  loaded(p: number, generation: number): boolean {
    const s = this.status.get(p);
    if (!s || s.generation !== generation) return false;
    s.status = 'ready';
    this.readyCache = undefined;
    return true;
  }

  /** Stops owning `p` (answering stops at once). */
  revoke(p: number): boolean {
    this.readyCache = undefined;
    return this.status.delete(p);
  }

  owns(p: number): boolean {
    return this.status.has(p);
  }

  isReady(p: number): boolean {
    return this.status.get(p)?.status === 'ready';
  }

  /** Partitions answered for, ascending. */
  ready(): number[] {
    return [...this.readySnapshot().list];
  }

  /**
   * The ready partitions and a mask (mask[p] === 1 when p is ready) of one
   * moment; both must not be modified.
   */
  readySnapshot(): { readonly list: readonly number[]; readonly mask: Uint8Array } {
    if (!this.readyCache) {
      const list = this.with('ready');
      const mask = new Uint8Array(list.length > 0 ? list[list.length - 1]! + 1 : 0);
      for (const p of list) mask[p] = 1;
      this.readyCache = { list, mask };
    }
    return this.readyCache;
  }

  loading(): number[] {
    return this.with('loading');
  }

  owned(): number[] {
    return [...this.status.keys()].sort((a, b) => a - b);
  }

  private with(st: PartitionStatus): number[] {
    const out: number[] = [];
    for (const [p, s] of this.status) if (s.status === st) out.push(p);
    return out.sort((a, b) => a - b);
  }
}
