// MongoDB persistence of GPS data (works on FerretDB 1.x: plain inserts,
// upserts, finds and indexes only).
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
import { MongoBulkWriteError } from 'mongodb';
import type { TrackPoint } from './track-ring.js';
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
  track: TrackPoint[];
}

export const POINTS = 'location_points';
export const LATEST = 'location_latest';
const DUPLICATE_KEY = 11000;

export class LocationStore {
  readonly points: Collection<PointDoc>;
  readonly latest: Collection<LatestDoc>;
  private readonly tag = Math.random().toString(36).slice(2, 8);
  private seq = 0;

  constructor(db: Db) {
    this.points = db.collection<PointDoc>(POINTS);
    this.latest = db.collection<LatestDoc>(LATEST);
  }

  async ensureIndexes(): Promise<void> {
    await this.points.createIndex({ u: 1, t: 1 }, { name: 'user_time' });
    await this.latest.createIndex({ p: 1 }, { name: 'partition' });
  }

  /** Writes a batch durably: the points (idempotent), then the users' latest records. */
  async write(points: readonly { point: Point; partition: number }[], latest: readonly LatestRecord[]): Promise<void> {
    if (points.length > 0) {
      const docs = points.map(({ point: x, partition }) => ({
        _id: `${x.user_id}|${x.time}`,
        u: x.user_id,
        p: partition,
        t: x.time,
        lon: x.lon,
        lat: x.lat,
        spd: x.speed,
        dir: x.direction,
      }));
      try {
        await this.points.insertMany(docs, { ordered: false });
      } catch (err) {
        // Redelivered points are already stored: only duplicate keys are fine.
        if (!(err instanceof MongoBulkWriteError) || !onlyDuplicates(err)) throw err;
      }
    }
    if (latest.length > 0) {
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
          track: r.track,
        },
      }));
      // The record points to its new version before the insert: a concurrent
      // batch of the same user then supersedes this version, not the one before
      // it. A version left behind (a write that failed or raced) is swept by the
      // next load, which keeps the newest.
      const old: string[] = [];
      for (const v of versions) {
        if (v.r.storedId !== undefined) old.push(v.r.storedId);
        v.r.storedId = v.doc._id;
      }
      await this.latest.insertMany(
        versions.map((v) => v.doc),
        { ordered: false },
      );
      if (old.length > 0) await this.latest.deleteMany({ _id: { $in: old } });
    }
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
        track: d.track ?? [],
        storedId: d._id,
      });
    }
    if (superseded.length > 0) await this.latest.deleteMany({ _id: { $in: superseded } });
    return best.size;
  }

  /** Points of one user with from ≤ time ≤ to, oldest first; one more than `limit` tells whether more follow. */
  async track(user: string, from: number, to: number, limit: number): Promise<PointDoc[]> {
    return this.points
      .find({ u: user, t: { $gte: from, $lte: to } })
      .sort({ t: 1 })
      .limit(limit + 1)
      .toArray();
  }
}

function onlyDuplicates(err: MongoBulkWriteError): boolean {
  const errs = err.writeErrors;
  const list = (Array.isArray(errs) ? errs : [errs]) as { code?: number }[];
  return list.length > 0 && list.every((e) => e.code === DUPLICATE_KEY) && !(err as Document).writeConcernError;
}
