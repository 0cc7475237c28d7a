// A stored batch of messages: one binary field holding each encoded mq.Message
// prefixed by its length (varint). One MongoDB document per batch keeps writes
// few and large, which is what both MongoDB and FerretDB handle best.
import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';

export function encodeBatch(messages: readonly Uint8Array[]): Uint8Array {
  const w = new BinaryWriter();
  for (const m of messages) w.bytes(m);
  return w.finish();
}

export function decodeBatch(blob: Uint8Array): Uint8Array[] {
  const r = new BinaryReader(blob);
  const out: Uint8Array[] = [];
  while (r.pos < r.len) out.push(r.bytes().slice());
  return out;
}
