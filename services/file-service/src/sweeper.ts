// Removes what no request will: offline-transfer files past their retention,
// resumable uploads past their expiry, the chunks of plain uploads whose
// process died mid-stream, and upload lock records whose upload is gone. Every
// replica runs one; each removal is claimed by an atomic update first, so two
// sweepers never fight and a live upload is never touched (it refreshes its
// record more often than `staleMs`).
import type { Logger } from '../../runtime/src/logger.js';
import type { FileStore } from './file-store.js';
import type { FilesMetrics } from './files-metrics.js';

const BATCH = 100;

export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: FileStore,
    private readonly opts: { intervalMs: number; staleMs: number; logger: Logger; metrics?: FilesMetrics },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweepOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.opts.logger.warn('Sweep failed', { err }))
        .finally(() => (this.running = undefined));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async sweepOnce(now = Date.now()): Promise<{ files: number; uploads: number; pending: number; locks: number }> {
    const { staleMs } = this.opts;
    const files = await this.store.sweepFiles(now, staleMs, BATCH);
    const uploads = await this.store.sweepUploads(now, staleMs, BATCH);
    const pending = await this.store.sweepPending(now, staleMs, BATCH);
    const locks = await this.store.sweepLocks(now, staleMs, BATCH);
    const m = this.opts.metrics;
    if (m) {
      m.swept.inc({ kind: 'file' }, files);
      m.swept.inc({ kind: 'upload' }, uploads);
      m.swept.inc({ kind: 'pending' }, pending);
      m.swept.inc({ kind: 'lock' }, locks);
    }
    if (files + uploads + pending + locks > 0) this.opts.logger.info('Swept', { files, uploads, pending, locks });
    return { files, uploads, pending, locks };
  }
}
