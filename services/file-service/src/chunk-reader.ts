// Reads bytes [start, end] of a GridFS file as a pull stream: one cursor over
// just the chunks that overlap the range, fetched a few at a time, so memory per
// download is bounded (the driver's openDownloadStream lets a cursor batch hold
// up to 16 MiB per download) and a Range request touches only what it returns.
// Chunks are checked for order and size: a damaged file fails loudly.
import type { Collection } from 'mongodb';
import { chunkBytes, type ChunkDoc } from './store.js';

/** Chunks fetched per round trip: 4 × 255 KiB ≈ 1 MiB in memory per download. */
export const READ_BATCH_CHUNKS = 4;

export class DamagedFileError extends Error {
  override name = 'DamagedFileError';
}

export async function* readChunks(
  chunks: Collection<ChunkDoc>,
  file: { _id: string; length: number; chunkSize: number },
  start = 0,
  end = file.length - 1,
): AsyncGenerator<Buffer, void, undefined> {
  if (file.length === 0 || end < start) return;
  const cs = file.chunkSize;
  const firstN = Math.floor(start / cs);
  const lastN = Math.floor(end / cs);
  const lastOfFile = Math.ceil(file.length / cs) - 1;
  const cursor = chunks
    .find({ files_id: file._id, n: { $gte: firstN, $lte: lastN } })
    .sort({ n: 1 })
    .batchSize(READ_BATCH_CHUNKS);
  try {
    let expected = firstN;
    for await (const doc of cursor) {
      if (doc.n !== expected)
        throw new DamagedFileError(`file ${file._id}: chunk ${expected} is missing (got ${doc.n})`);
      const data = chunkBytes(doc.data);
      const want = doc.n === lastOfFile ? file.length - lastOfFile * cs : cs;
      if (data.length !== want) {
        throw new DamagedFileError(`file ${file._id}: chunk ${doc.n} has ${data.length} bytes, expected ${want}`);
      }
      const base = doc.n * cs;
      const from = Math.max(start, base) - base;
      const to = Math.min(end + 1, base + data.length) - base;
      expected++;
      yield from === 0 && to === data.length ? data : data.subarray(from, to);
    }
    if (expected !== lastN + 1) throw new DamagedFileError(`file ${file._id}: chunk ${expected} is missing`);
  } finally {
    await cursor.close();
  }
}
