// Key → partition: FNV-1a (32 bit) over the key's UTF-8 bytes, modulo the
// partition count. Stable across processes, versions and languages, so the
// gateway (publisher) and the location units (owners) agree on where a user lives.

/** FNV-1a 32-bit hash of the UTF-8 bytes of `key`. */
export function fnv1a32(key: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(key, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The partition a key belongs to; messages without a key go to partition 0. */
export function partitionOf(key: string, partitions: number): number {
  if (partitions <= 1 || key === '') return 0;
  return fnv1a32(key) % partitions;
}
