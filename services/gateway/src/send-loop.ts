// The pacing shared by BatchedLookup and BatchedInsert: one send at a time,
// started at the end of the event-loop turn in which work was first queued
// (setImmediate), so everything queued in that turn — the sessions whose
// upgrades arrived in one I/O phase — goes in it; work queued while a send runs
// goes in the next one, started as soon as it ends.
export class SendLoop {
  private running = false;
  private scheduled = false;

  constructor(
    /** Sends what is queued; undefined when nothing is. Its promise must not reject. */
    private readonly sendQueued: () => Promise<void> | undefined,
  ) {}

  /** There is work queued: send it at the end of this turn, or after the running send. */
  kick(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const sending = this.sendQueued();
      if (!sending) return;
      this.running = true;
      const done = (): void => {
        this.running = false;
        this.kick();
      };
      sending.then(done, done);
    });
  }
}
