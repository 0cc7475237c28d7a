// Sticky partition assignment for a consumer group (pure). Every member gets
// floor(P/n) or ceil(P/n) partitions; members keep what they own up to their
// quota, so a join or leave moves only the partitions it must. Deterministic:
// the same inputs give the same assignment on every broker.

export type Assignment = Map<string, number[]>;

/**
 * `members` in join order; `current` what each member owns (or is being revoked
 * from) now. Returns the target: member → sorted partitions.
 */
export function stickyAssign(
  partitions: number,
  members: readonly string[],
  current: ReadonlyMap<string, readonly number[]>,
): Assignment {
  const out: Assignment = new Map();
  if (members.length === 0) return out;
  const n = members.length;
  const base = Math.floor(partitions / n);
  const extra = partitions % n;
  // Members that own the most keep the larger quotas: fewer moves. Ties by join order.
  const order = members
    .map((m, i) => ({ m, i, owned: (current.get(m) ?? []).filter((p) => p >= 0 && p < partitions).length }))
    .sort((a, b) => b.owned - a.owned || a.i - b.i);
  const quota = new Map<string, number>();
  order.forEach((o, k) => quota.set(o.m, base + (k < extra ? 1 : 0)));
  const taken = new Set<number>();
  for (const m of members) {
    const keep: number[] = [];
    const q = quota.get(m)!;
    for (const p of [...(current.get(m) ?? [])].sort((a, b) => a - b)) {
      if (keep.length >= q) break;
      if (p < 0 || p >= partitions || taken.has(p)) continue;
      keep.push(p);
      taken.add(p);
    }
    out.set(m, keep);
  }
  const free: number[] = [];
  for (let p = 0; p < partitions; p++) if (!taken.has(p)) free.push(p);
  let f = 0;
  for (const m of members) {
    const list = out.get(m)!;
    const q = quota.get(m)!;
    while (list.length < q && f < free.length) list.push(free[f++]!);
    list.sort((a, b) => a - b);
  }
  return out;
}
