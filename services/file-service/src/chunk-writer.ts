// Writes a byte stream as GridFS chunks of one file, with backpressure: `write`
// resolves only when the bytes are buffered within a bounded window (at most
// `maxInFlight` chunk inserts outstanding), so a slow store slows the client and
// memory per upload stays at a few chunks whatever the file size.
//
// Why not GridFSBucket.openUploadStream: when an upload is aborted, the driver's
// stream deletes chunks while an insert may still be in flight, and that late
// insert then outlives the delete as an orphan; here `abort` first waits for
// every insert it started. The layout written is exactly GridFS's.
import type { Collection } from 'mongodb';
import { chunkId, type ChunkDoc } from './store.js';
import type { StoreGate } from './store-gate.js';

export interface ChunkWriterOptions {
  chunkSize: number;
  /** Index of the first chunk written (resumed uploads start mid-file). */
  firstN?: number;
  /** Bytes already stored at the start of chunk `firstN` (a resumed upload's partial tail). */
  prefix?: Buffer;
  /** Replace existing chunks (resumable uploads re-write their tail); plain uploads insert. */
  upsert?: boolean;
  maxInFlight?: number;
  /** Shared per-process limit on chunk writes (see store-gate.ts). */
  gate?: StoreGate;
}

export class ChunkWriter {
  private buf: Buffer;
  private pos: number;
  private n: number;
  private readonly inFlight = new Set<Promise<void>>();
  private error: unknown;
  private readonly maxInFlight: number;
  private readonly upsert: boolean;
  private readonly chunkSize: number;
  private readonly gate: StoreGate | undefined;

  constructor(
    private readonly chunks: Collection<ChunkDoc>,
    private readonly fileId: string,
    opts: ChunkWriterOptions,
  ) {
    this.chunkSize = opts.chunkSize;
    this.n = opts.firstN ?? 0;
    this.upsert = opts.upsert ?? false;
    this.maxInFlight = opts.maxInFlight ?? 2;
    this.gate = opts.gate;
    this.buf = Buffer.allocUnsafe(this.chunkSize);
    this.pos = 0;
    if (opts.prefix?.length) {
      opts.prefix.copy(this.buf, 0);
      this.pos = opts.prefix.length;
    }
  }

  async write(data: Buffer): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const take = Math.min(this.chunkSize - this.pos, data.length - off);
      data.copy(this.buf, this.pos, off, off + take);
      this.pos += take;
      off += take;
      if (this.pos === this.chunkSize) {
        this.submit(this.buf);
        this.buf = Buffer.allocUnsafe(this.chunkSize);
        this.pos = 0;
        while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
      }
    }
    if (this.error) throw this.error;
  }

  /** Stores the final partial chunk and waits for every insert; throws the first store error. */
  async finish(): Promise<void> {
    if (this.pos > 0) this.submit(this.buf.subarray(0, this.pos));
    this.pos = 0;
    await this.settle();
    if (this.error) throw this.error;
  }

  /** Waits for every insert started (successful or not): after this no write of ours is in flight. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private submit(data: Buffer): void {
    const n = this.n++;
    const doc: ChunkDoc = { _id: chunkId(this.fileId, n), files_id: this.fileId, n, data };
    const write = (): Promise<unknown> =>
      this.upsert ? this.chunks.replaceOne({ _id: doc._id }, doc, { upsert: true }) : this.chunks.insertOne(doc);
    const p: Promise<void> = (this.gate ? this.gate.run(write) : write()).then(
      () => void this.inFlight.delete(p),
      (err: unknown) => {
        this.error ??= err;
        this.inFlight.delete(p);
      },
    );
    this.inFlight.add(p);
  }
}
