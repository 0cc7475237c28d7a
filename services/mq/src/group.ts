// A consumer group on a partitioned queue: who is a member, which member owns
// which partition, and the two-step hand-over that keeps ownership exclusive.
// A partition that moves is first revoked from its owner (no more deliveries
// from that moment); only when the owner confirms (or disconnects, or the
// revocation times out) is it assigned to its new owner. Ownership state and
// notices only: delivery, acks and requeueing are the queue's (GroupHost).
import type { Assignment } from '../../../proto/gen/ts/mq.js';
import { stickyAssign } from './assignment.js';
import type { Consumer } from './consumer.js';
import type { Cursor } from './cursor.js';

export interface GroupHost {
  /** Return the member's in-flight deliveries of partition p to the partition (redelivery). */
  releasePartition(group: PartitionGroup, member: Consumer, p: number): void;
  /** Deliveries may be possible: pump soon. */
  wake(): void;
}

export class PartitionGroup {
  readonly name: string;
  readonly cursors: Cursor[];
  readonly members: Consumer[] = [];
  readonly owner: (Consumer | undefined)[];
  /** Partitions being revoked → deadline (ms). The owner keeps them, without deliveries, until then. */
  readonly revoking = new Map<number, number>();
  private target = new Map<number, Consumer>();
  generation = 0;
  private readonly host: GroupHost;
  private readonly revokeTimeoutMs: number;

  constructor(name: string, cursors: Cursor[], host: GroupHost, revokeTimeoutMs: number) {
    this.name = name;
    this.cursors = cursors;
    this.owner = new Array<Consumer | undefined>(cursors.length).fill(undefined);
    this.host = host;
    this.revokeTimeoutMs = revokeTimeoutMs;
  }

  get partitions(): number {
    return this.cursors.length;
  }

  /** May the owner of p receive deliveries now? */
  deliverable(p: number): Consumer | undefined {
    return this.revoking.has(p) ? undefined : this.owner[p];
  }

  owned(m: Consumer): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.owner.length; p++) if (this.owner[p] === m && !this.revoking.has(p)) out.push(p);
    return out;
  }

  join(m: Consumer): void {
    this.members.push(m);
    this.rebalance();
  }

  leave(m: Consumer): void {
    const i = this.members.indexOf(m);
    if (i < 0) return;
    this.members.splice(i, 1);
    for (let p = 0; p < this.owner.length; p++) {
      if (this.owner[p] !== m) continue;
      this.host.releasePartition(this, m, p);
      this.owner[p] = undefined;
      this.revoking.delete(p);
    }
    this.rebalance();
  }

  /** The member finished giving up partition p. Late or unexpected confirmations are ignored. */
  revokeDone(m: Consumer, p: number): void {
    if (this.owner[p] === m && this.revoking.has(p)) this.completeRevoke(p, true);
  }

  /** Forces revocations whose owner did not confirm in time. */
  tick(now: number): void {
    for (const [p, at] of [...this.revoking]) if (at <= now) this.completeRevoke(p, true);
  }

  unowned(): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.owner.length; p++) if (!this.owner[p] || this.revoking.has(p)) out.push(p);
    return out;
  }

  private rebalance(): void {
    const current = new Map<string, number[]>();
    for (const m of this.members) current.set(m.id, this.owned(m));
    const byId = new Map(this.members.map((m) => [m.id, m]));
    const target = stickyAssign(
      this.partitions,
      this.members.map((m) => m.id),
      current,
    );
    this.target = new Map();
    for (const [id, ps] of target) for (const p of ps) this.target.set(p, byId.get(id)!);
    this.generation++;
    const notices = new Map<Consumer, { assigned: number[]; revoked: number[] }>();
    const note = (m: Consumer): { assigned: number[]; revoked: number[] } => {
      let n = notices.get(m);
      if (!n) notices.set(m, (n = { assigned: [], revoked: [] }));
      return n;
    };
    const now = Date.now();
    for (let p = 0; p < this.owner.length; p++) {
      const o = this.owner[p];
      const t = this.target.get(p);
      if (o && o !== t && !this.revoking.has(p)) {
        this.revoking.set(p, now + this.revokeTimeoutMs);
        note(o).revoked.push(p);
      } else if (!o && t) {
        this.owner[p] = t;
        note(t).assigned.push(p);
      }
    }
    // Every member hears the new generation, also when its own set did not change.
    for (const m of this.members) note(m);
    for (const [m, n] of notices) this.notify(m, n.assigned, n.revoked);
    this.host.wake();
  }

  private completeRevoke(p: number, reassign: boolean): void {
    const m = this.owner[p];
    if (m) this.host.releasePartition(this, m, p);
    this.owner[p] = undefined;
    this.revoking.delete(p);
    const t = reassign ? this.target.get(p) : undefined;
    if (t && this.members.includes(t)) {
      this.owner[p] = t;
      this.notify(t, [p], []);
    }
    this.host.wake();
  }

  private notify(m: Consumer, assigned: number[], revoked: number[]): void {
    const a: Assignment = { generation: this.generation, assigned, revoked, owned: this.owned(m) };
    m.sendAssignment(a);
  }
}
