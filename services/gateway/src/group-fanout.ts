// Offering a group's stored messages to the group's connections here, in
// chunks. A big group's fan-out yields to the event loop between chunks, so
// the next message can be read, stored and noticed meanwhile; each connection,
// when its turn comes, is offered everything that arrived since its last turn
// — one offer, which a batch-capable device takes as one onMessages call.
// Without this, group messages sent one after another were pushed to every
// device one by one (bench (c): 0.4× Centrifugo one at a time, ≥ 1× when the
// messages came together).
//
// Model: `docs` are the messages not yet offered to every connection, in
// sequence order; every connection has a mark (docs[0 .. mark) offered). Passes
// over the connections offer docs[mark ..] and move the mark to the end; a pass
// that ends with docs added meanwhile starts another. Every message reaches
// every connection once and in order. A connection that joins (is in a later
// `add`'s list but not yet here) starts at the docs of that add.

export class GroupFanout<C, D> {
  private docs: D[] = [];
  private conns: C[] = [];
  private marks: number[] = [];
  private readonly index = new Map<C, number>();
  /** Next connection of the current pass. */
  private pos = 0;
  /** docs.length when the current pass began: a pass that ends with more needs another. */
  private passFrom = 0;
  /** docs[m ..] per mark m, shared by the connections at the same mark (encoded once). */
  private slices = new Map<number, D[]>();
  private scheduled = false;
  private running = false;

  constructor(
    /** Offers docs to one connection (which may have left the group or closed meanwhile). */
    private readonly offer: (conn: C, docs: readonly D[]) => void,
    /** Called when every connection has been offered everything added (the owner drops this fan-out). */
    private readonly onIdle: () => void = () => undefined,
    /** Whether a connection still takes offers (closed or left ones are dropped at each pass). */
    private readonly live: (conn: C) => boolean = () => true,
    /** Offers per turn of the event loop. */
    private readonly chunk = 512,
    private readonly later: (fn: () => void) => void = setImmediate,
  ) {}

  /** New messages (in sequence order) for `conns`, the group's connections now. */
  add(docs: readonly D[], conns: readonly C[]): void {
    if (docs.length === 0 || conns.length === 0) return;
    const from = this.docs.length;
    const fresh = from === 0 && this.conns.length === 0;
    for (const c of conns) {
      if (this.index.has(c)) continue;
      this.index.set(c, this.conns.length);
      this.conns.push(c);
      this.marks.push(from);
    }
    this.docs.push(...docs);
    this.slices = new Map();
    if (fresh) this.passFrom = this.docs.length;
    if (!this.scheduled && !this.running) this.run(); // a small group is offered at once, as before
  }

  private run(): void {
    this.running = true;
    let budget = this.chunk;
    while (budget > 0) {
      if (this.pos >= this.conns.length) {
        if (this.passFrom === this.docs.length) break; // a whole pass with nothing new: done
        this.nextPass();
      }
      const i = this.pos++;
      const mark = this.marks[i]!;
      if (mark >= this.docs.length) continue;
      let slice = this.slices.get(mark);
      if (!slice) this.slices.set(mark, (slice = this.docs.slice(mark)));
      this.marks[i] = this.docs.length;
      this.offer(this.conns[i]!, slice);
      budget--;
    }
    this.running = false;
    if (this.pos >= this.conns.length && this.passFrom === this.docs.length) {
      this.reset();
      this.onIdle();
    } else if (!this.scheduled) {
      this.scheduled = true;
      this.later(() => {
        this.scheduled = false;
        this.run();
      });
    }
  }

  /**
   * Every connection has been offered at least docs[0 .. passFrom) by the pass
   * that ended: those are dropped (a group that never goes quiet must not keep
   * its whole history here), the marks shift with them.
   */
  private nextPass(): void {
    const drop = this.passFrom;
    this.docs = this.docs.slice(drop);
    // Connections that closed or left meanwhile go too: a group that never goes quiet must not keep them.
    const conns: C[] = [];
    const marks: number[] = [];
    this.index.clear();
    this.conns.forEach((c, i) => {
      if (!this.live(c)) return;
      this.index.set(c, conns.length);
      conns.push(c);
      marks.push(this.marks[i]! - drop);
    });
    this.conns = conns;
    this.marks = marks;
    this.slices = new Map();
    this.pos = 0;
    this.passFrom = this.docs.length;
  }

  private reset(): void {
    this.docs = [];
    this.conns = [];
    this.marks = [];
    this.index.clear();
    this.slices = new Map();
    this.pos = 0;
    this.passFrom = 0;
  }
}
