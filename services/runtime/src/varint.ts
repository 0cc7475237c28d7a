// Protobuf varints written in place into a caller's buffer: for hand-encoded
// hot frames (mq deliveries and publishes, the gateway's pushes), where a
// generic encoder's intermediate arrays and chunks showed up as GC.
export function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/**
 * Writes v (a non-negative integer up to 2^53) as a protobuf varint at `pos`
 * (the caller made room: varintSize(v) bytes); returns the position after it.
 */
export function writeVarint(b: Buffer, pos: number, v: number): number {
  while (v >= 128) {
    b[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  b[pos++] = v;
  return pos;
}
