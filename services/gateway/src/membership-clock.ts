// Orders a connection's group-feed openings against the membership changes
// that arrive while an opening waits for the store. An opening that started
// before the group's latest change must not go on: after a leave it would
// deliver the group to a former member until the device reconnects; after a
// join, the join opens the feed itself.

export class MembershipClock {
  private now = 0;
  private readonly changedAt = new Map<string, number>();

  /** The clock of a connection without one yet (nothing has changed for it). */
  static readonly START = 0;

  /** A join or leave of `group` for this connection; returns the stamp for the join's own opening. */
  change(group: string): number {
    this.now++;
    this.changedAt.set(group, this.now);
    return this.now;
  }

  /** The current time: openings stamped with it are superseded by any later change. */
  stamp(): number {
    return this.now;
  }

  /** True when nothing changed `group` after `stamp`. */
  current(group: string, stamp: number): boolean {
    return (this.changedAt.get(group) ?? MembershipClock.START) <= stamp;
  }
}
