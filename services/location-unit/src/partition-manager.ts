// Assignment and revocation of partitions (from the mq consumer group, or a
// static list). Assignment: own the partition (loading, not answered for),
// rebuild its users from the store (latest records, then the write-ahead
// segments not yet compacted), then answer for it. Revocation: stop
// answering at once, make everything queued durable (the next owner rebuilds
// from the store), let a running compaction of it finish, then drop the
// partition's users from memory.
import type { Logger } from '../../runtime/src/logger.js';
import type { IngestPipeline } from './ingest-pipeline.js';
import type { LocationStore } from './location-store.js';
import type { SegmentCompactor } from './segment-compactor.js';
import { decodePoints } from './segment-codec.js';
import type { UnitState } from './unit-state.js';

export class PartitionManager {
  private readonly loads = new Map<number, Promise<void>>();

  constructor(
    private readonly state: UnitState,
    private readonly store: LocationStore,
    private readonly pipeline: IngestPipeline,
    private readonly compactor: SegmentCompactor,
    private readonly logger: Logger,
  ) {}

  /** Resolves once every partition given is loaded (or was revoked meanwhile). */
  async assign(partitions: readonly number[]): Promise<void> {
    await Promise.all(partitions.map((p) => this.assignOne(p)));
  }

  async revoke(partitions: readonly number[]): Promise<void> {
    const revoked = partitions.filter((p) => this.state.ownership.revoke(p));
    if (revoked.length === 0) return;
    this.compactor.release(revoked);
    await this.pipeline.flush();
    await this.compactor.quiesce(revoked);
    let users = 0;
    for (const p of revoked) if (!this.state.ownership.owns(p)) users += this.state.drop(p);
    this.logger.info('Revoked partitions', { partitions: revoked, users });
  }

  /**
   * Ends compaction for good (leaving the group): called before the broker hands
   * the partitions on, so no round of this unit writes or deletes after the next
   * owner started its rebuild.
   */
  async stopCompaction(): Promise<void> {
    await this.compactor.stop();
  }

  /** True while some assigned partition is still being rebuilt. */
  get loading(): boolean {
    return this.state.ownership.loading().length > 0;
  }

  private assignOne(p: number): Promise<void> {
    if (this.state.ownership.owns(p)) return this.loads.get(p) ?? Promise.resolve();
    const generation = this.state.ownership.assign(p);
    const started = Date.now();
    const load = (async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          const n = await this.store.loadPartition(p, (r) => this.state.restore(r));
          // Then the write-ahead segments not compacted yet: points newer than the records.
          const segments = await this.store.loadSegments(p);
          let points = 0;
          for (const s of segments) {
            for (const x of decodePoints(s.data)) {
              this.state.apply(x, p);
              points++;
            }
          }
          if (!this.state.ownership.owns(p)) return;
          this.compactor.add(segments);
          if (this.state.ownership.loaded(p, generation)) {
            this.logger.info('Loaded partition', {
              partition: p,
              users: n,
              segments: segments.length,
              points,
              ms: Date.now() - started,
            });
          }
          return;
        } catch (err) {
          if (!this.state.ownership.owns(p)) return;
          this.logger.warn('Partition load failed; retrying', { partition: p, attempt, err });
          await new Promise((r) => setTimeout(r, Math.min(5000, 200 * attempt)));
        }
      }
    })().finally(() => this.loads.delete(p));
    this.loads.set(p, load);
    return load;
  }
}
