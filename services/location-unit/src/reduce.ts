// The reduce step of a map-reduce query: partial answers from several units
// become one answer. Each partition counts once (the first unit that answered
// for it wins; a second claim, possible for an instant during a handoff, is
// dropped with its hits); the sorted partials are k-way merged and the limit
// applied globally; partitions nobody answered for make the result partial and
// are named.

export interface Hit {
  user_id: string;
  lon: number;
  lat: number;
  time: number;
  distance_m: number;
  partition: number;
}

export interface MapResult {
  hits: Hit[];
  /** Partitions this unit answered for (its ready partitions at the time of the scan). */
  partitions: number[];
}

export interface QueryResult {
  hits: Hit[];
  partial: boolean;
  missing_partitions: number[];
}

export type HitOrder = (a: Hit, b: Hit) => number;

/** Nearest first, ties by user id (the order every unit's partial is in). */
export const byDistance: HitOrder = (a, b) =>
  a.distance_m - b.distance_m || (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0);

export const byUserId: HitOrder = (a, b) => (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0);

/**
 * Merges partials (each sorted by `order`) into the global first `limit` hits.
 * `expected` are the partitions the answer needs (all of them, or only those
 * of the users asked for).
 */
export function reduce(
  partials: readonly MapResult[],
  expected: readonly number[],
  order: HitOrder,
  limit: number,
): QueryResult {
  const claimedBy = new Map<number, number>();
  partials.forEach((r, i) => {
    for (const p of r.partitions) if (!claimedBy.has(p)) claimedBy.set(p, i);
  });
  const lists = partials.map((r, i) => r.hits.filter((h) => claimedBy.get(h.partition) === i));
  const missing = [...new Set(expected)].filter((p) => !claimedBy.has(p)).sort((a, b) => a - b);
  return { hits: kWayMerge(lists, order, limit), partial: missing.length > 0, missing_partitions: missing };
}

/** Merges sorted lists with a heap of their heads: O(limit · log k). */
export function kWayMerge<T>(lists: readonly (readonly T[])[], order: (a: T, b: T) => number, limit: number): T[] {
  const heads: { list: number; pos: number }[] = [];
  const less = (x: { list: number; pos: number }, y: { list: number; pos: number }): boolean => {
    const c = order(lists[x.list]![x.pos]!, lists[y.list]![y.pos]!);
    return c < 0 || (c === 0 && x.list < y.list);
  };
  const up = (i: number): void => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heads[i]!, heads[p]!)) return;
      [heads[i], heads[p]] = [heads[p]!, heads[i]!];
      i = p;
    }
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heads.length && less(heads[l]!, heads[m]!)) m = l;
      if (r < heads.length && less(heads[r]!, heads[m]!)) m = r;
      if (m === i) return;
      [heads[i], heads[m]] = [heads[m]!, heads[i]!];
      i = m;
    }
  };
  lists.forEach((l, i) => {
    if (l.length > 0) {
      heads.push({ list: i, pos: 0 });
      up(heads.length - 1);
    }
  });
  const out: T[] = [];
  while (out.length < limit && heads.length > 0) {
    const top = heads[0]!;
    out.push(lists[top.list]![top.pos]!);
    if (top.pos + 1 < lists[top.list]!.length) {
      heads[0] = { list: top.list, pos: top.pos + 1 };
    } else {
      heads[0] = heads[heads.length - 1]!;
      heads.pop();
    }
    if (heads.length > 0) down(0);
  }
  return out;
}
