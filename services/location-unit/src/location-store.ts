// MongoDB persistence of GPS data (works on FerretDB 1.x: plain inserts,
// upserts, finds and indexes only).
//   location_segments the write-ahead log: one document per (partition, batch)
//                    holding the batch's points packed (segment-codec.ts). A
//                    point is durable — and acked to mq — once its segment is
//                    inserted; the compactor expands segments into the two
//                    collections below and then deletes them.
//   location_points  one document per point; _id = "<user>|<time>" makes a
//                    redelivered point a no-op (duplicate key, ignored)
//   location_latest  the latest position + recent track of each user, tagged
//                    with the partition so a new owner loads it by partition.
//                    Written as a new version (insert) and then the previous
//                    version deleted by id: never a moment without a version
//                    (a crash leaves two, and the load keeps the newest and sweeps
//                    the rest). An upsert per user would be the obvious write,
//                    but FerretDB 1.x runs upserts one by one: ~2.5 ms each,
//                    against ~0.05 ms per document for insertMany/deleteMany.
import type { Collection, Db, Document } from 'mongodb';
import { Binary, MongoBulkWriteError } from 'mongodb';
import { decodePoints, decodeTrack, encodePoints, encodeTrack } from './segment-codec.js';
import type { LatestRecord, Point } from './unit-state.js';

export interface PointDoc {
  _id: string;
  u: string;
  p: number;
  t: number;
  lon: number;
  lat: number;
  spd: number;
  dir: number;
}

export interface LatestDoc {
  _id: string;
  u: string;
  p: number;
  t: number;
  lon: number;
  lat: number;
  spd: number;
  dir: number;
  /** Packed (segment-codec.ts encodeTrack). */
  track: Binary;
}

export interface SegmentDoc {
  _id: string;
  p: number;
  n: number;
  data: Binary;
}

/** A segment as the unit holds it until compacted: its id, partition and packed points. */
export interface Segment {
  id: string;
  partition: number;
  count: number;
  data: Buffer;
}

export const POINTS = 'location_points';
export const LATEST = 'location_latest';
export const SEGMENTS = 'location_segments';
const DUPLICATE_KEY = 11000;

export class LocationStore {
  readonly points: Collection<PointDoc>;
  readonly latest: Collection<LatestDoc>;
  readonly segments: Collection<SegmentDoc>;
  private readonly tag = Math.random().toString(36).slice(2, 8);
  private seq = 0;

  constructor(db: Db) {
    this.points = db.collection<PointDoc>(POINTS);
    this.latest = db.collection<LatestDoc>(LATEST);
    this.segments = db.collection<SegmentDoc>(SEGMENTS);
  }

  async ensureIndexes(): Promise<void> {
    await this.points.createIndex({ u: 1, t: 1 }, { name: 'user_time' });
    await this.latest.createIndex({ p: 1 }, { name: 'partition' });
    await this.segments.createIndex({ p: 1 }, { name: 'partition' });
  }

  /** A batch as one segment per partition, with ids fixed once (a retried store writes the same documents). */
  segmentsOf(byPartition: ReadonlyMap<number, readonly Point[]>): Segment[] {
    const segs: Segment[] = [];
    for (const [partition, points] of byPartition) {
      if (points.length === 0) continue;
      // Ids sort in write order within a process; across processes order does not
      // matter (points apply by time).
      segs.push({
        id: `${partition}|${this.nextVersion()}`,
        partition,
        count: points.length,
        data: encodePoints(points),
      });
    }
    return segs;
  }

  /** Makes segments durable (the write an mq ack waits for); a retry after a partial success is fine. */
  async storeSegments(segs: readonly Segment[]): Promise<void> {
    if (segs.length === 0) return;
    try {
      await this.segments.insertMany(
        segs.map((x) => ({ _id: x.id, p: x.partition, n: x.count, data: new Binary(x.data) })),
        { ordered: false },
      );
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError) || !onlyDuplicates(err)) throw err;
    }
  }

  /** The segments of partition `p` not yet compacted (rebuild). */
  async loadSegments(p: number): Promise<Segment[]> {
    const docs = await this.segments.find({ p }).sort({ _id: 1 }).toArray();
    return docs.map((d) => ({ id: d._id, partition: d.p, count: d.n, data: Buffer.from(d.data.buffer) }));
  }

  async deleteSegments(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.segments.deleteMany({ _id: { $in: [...ids] } });
  }

  /**
   * Writes compacted points (idempotent) and the users' latest records; returns
   * the ids of the versions these superseded, for `deleteLatest` — deletes scan
   * the whole collection on FerretDB 1.x, so the caller batches them.
   */
  async write(
    points: readonly { point: Point; partition: number }[],
    latest: readonly LatestRecord[],
  ): Promise<string[]> {
    const old: string[] = [];
    const versions = latest.map((r) => ({
      r,
      doc: {
        _id: `${r.userId}|${this.nextVersion()}`,
        u: r.userId,
        p: r.partition,
        t: r.time,
        lon: r.lon,
        lat: r.lat,
        spd: r.speed,
        dir: r.direction,
        track: new Binary(encodeTrack(r.track)),
      },
    }));
    // The record points to its new version before the insert: a concurrent
    // batch of the same user then supersedes this version, not the one before
    // it. A version left behind (a write that failed or raced) is swept by the
    // next load, which keeps the newest.
    for (const v of versions) {
      if (v.r.storedId !== undefined) old.push(v.r.storedId);
      v.r.storedId = v.doc._id;
    }
    // The two inserts are independent: on the wire together.
    await Promise.all([
      points.length > 0 ? this.insertPoints(points.map((x) => pointDoc(x.point, x.partition))) : undefined,
      versions.length > 0
        ? this.latest.insertMany(
            versions.map((v) => v.doc),
            { ordered: false },
          )
        : undefined,
    ]);
    return old;
  }

  private async insertPoints(docs: PointDoc[]): Promise<void> {
    try {
      await this.points.insertMany(docs, { ordered: false });
    } catch (err) {
      // Redelivered points are already stored: only duplicate keys are fine.
      if (!(err instanceof MongoBulkWriteError) || !onlyDuplicates(err)) throw err;
    }
  }

  /** Deletes superseded latest versions (see `write`). */
  async deleteLatest(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.latest.deleteMany({ _id: { $in: [...ids] } });
  }

  private nextVersion(): string {
    // Unique per process and increasing: a time stamp, this store's random tag and a counter.
    return `${Date.now().toString(36)}.${this.tag}.${(this.seq++).toString(36)}`;
  }

  /** The stored latest records of one partition (rebuild on assignment); sweeps superseded versions. */
  async loadPartition(p: number, each: (r: LatestRecord) => void): Promise<number> {
    const best = new Map<string, LatestDoc>();
    const superseded: string[] = [];
    for await (const d of this.latest.find({ p }, { batchSize: 5000 })) {
      const cur = best.get(d.u);
      if (!cur) best.set(d.u, d);
      else if (d.t > cur.t || (d.t === cur.t && d._id > cur._id)) {
        superseded.push(cur._id);
        best.set(d.u, d);
      } else superseded.push(d._id);
    }
    for (const d of best.values()) {
      each({
        userId: d.u,
        partition: d.p,
        lon: d.lon,
        lat: d.lat,
        time: d.t,
        speed: d.spd,
        direction: d.dir,
        track: decodeTrack(d.track.buffer),
        storedId: d._id,
      });
    }
    if (superseded.length > 0) await this.latest.deleteMany({ _id: { $in: superseded } });
    return best.size;
  }

  /**
   * Points of one user (of `partition`) with from ≤ time ≤ to, oldest first; one
   * more than `limit` tells whether more follow. Segments not yet compacted count:
   * they are read before the points, so a point a compaction moves from one to
   * the other meanwhile is still seen (once: times are unique per user).
   */
  async track(user: string, partition: number, from: number, to: number, limit: number): Promise<PointDoc[]> {
    const pending: PointDoc[] = [];
    for (const seg of await this.segments.find({ p: partition }).toArray()) {
      for (const x of decodePoints(seg.data.buffer)) {
        if (x.user_id !== user || x.time < from || x.time > to) continue;
        pending.push(pointDoc(x, partition));
      }
    }
    const stored = await this.points
      .find({ u: user, t: { $gte: from, $lte: to } })
      .sort({ t: 1 })
      .limit(limit + 1)
      .toArray();
    if (pending.length === 0) return stored;
    const byTime = new Map<number, PointDoc>();
    for (const d of [...stored, ...pending]) if (!byTime.has(d.t)) byTime.set(d.t, d);
    return [...byTime.values()].sort((a, b) => a.t - b.t).slice(0, limit + 1);
  }
}

function pointDoc(x: Point, partition: number): PointDoc {
  return {
    _id: `${x.user_id}|${x.time}`,
    u: x.user_id,
    p: partition,
    t: x.time,
    lon: x.lon,
    lat: x.lat,
    spd: x.speed,
    dir: x.direction,
  };
}

function onlyDuplicates(err: MongoBulkWriteError): boolean {
  const errs = err.writeErrors;
  const list = (Array.isArray(errs) ? errs : [errs]) as { code?: number }[];
  return list.length > 0 && list.every((e) => e.code === DUPLICATE_KEY) && !(err as Document).writeConcernError;
}
