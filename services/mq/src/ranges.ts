// Sequence-number ranges: acks travel as inclusive ranges, and checkpoints
// store sets of done sequence numbers compactly. Pure.

/** Sorted unique numbers → inclusive [first, last] runs. */
export function toRanges(sorted: Iterable<number>): [number, number][] {
  const out: [number, number][] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else if (!last || s > last[1]) out.push([s, s]);
  }
  return out;
}

/** Numbers (any order, duplicates allowed) → inclusive runs. */
export function compress(nums: Iterable<number>): [number, number][] {
  return toRanges([...new Set(nums)].sort((a, b) => a - b));
}

export function* expand(ranges: Iterable<readonly [number, number]>): Generator<number> {
  for (const [a, b] of ranges) for (let s = a; s <= b; s++) yield s;
}
