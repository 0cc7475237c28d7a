// Memory stays flat however much is in flight: the resident set of a replica
// while 100 uploads of 20 MB stream through nginx concurrently (2 GB in total,
// ~1 GB per replica) stays within a fixed bound of its resident set during one
// upload. Both figures are printed; docs/file-service.md records them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { bytes, request, startHarness, type Harness } from './harness.js';

const MB = 1024 * 1024;
const FILE = 20 * MB;
const CONCURRENT = 100;
/** The fixed bound: what 100 streams may add to one stream's resident set (vs 2000 MB of data in flight). */
const BOUND = 192 * MB;

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

describe('file-service: memory under concurrent uploads', function () {
  this.timeout(900_000);
  let h: Harness;

  before(async function () {
    h = await startHarness({ env: { TCE_FILES_BODY_TIMEOUT: '60s' } });
  });
  after(async function () {
    await h?.stop();
  });

  /** Peak RSS of each replica while `work` runs (sampled every 50 ms: monitoring, not synchronisation). */
  async function peakRss(work: () => Promise<unknown>): Promise<number[]> {
    const pids = h.replicas.map((r) => r.process.pid!);
    const peak = pids.map(rssOf);
    const timer = setInterval(() => pids.forEach((p, i) => (peak[i] = Math.max(peak[i]!, rssOf(p)))), 50);
    try {
      await work();
    } finally {
      clearInterval(timer);
    }
    pids.forEach((p, i) => (peak[i] = Math.max(peak[i]!, rssOf(p))));
    return peak;
  }

  const piece = bytes(MB, 5);
  async function* twentyMb(): AsyncGenerator<Buffer> {
    for (let i = 0; i < FILE / MB; i++) yield piece;
  }
  const upload = async (): Promise<void> => {
    const res = await request(
      h.base,
      'POST',
      '/files',
      { authorization: `Bearer ${h.token()}`, 'content-type': 'application/octet-stream', 'content-length': FILE },
      twentyMb(),
    );
    assert.equal(res.status, 201, res.body.toString());
  };

  it(`RSS at ${CONCURRENT} concurrent 20 MB uploads stays within ${BOUND / MB} MB of RSS at 1`, async function () {
    // Warm up both replicas (JIT, connection pools) so the single-upload figure is a fair base.
    await Promise.all([upload(), upload()]);
    const one = Math.max(...(await peakRss(upload)));
    const many = Math.max(...(await peakRss(() => Promise.all(Array.from({ length: CONCURRENT }, upload)))));
    console.log(
      `      RSS of a replica: ${(one / MB).toFixed(0)} MB at 1 upload, ${(many / MB).toFixed(0)} MB at ${CONCURRENT} concurrent uploads ` +
        `(+${((many - one) / MB).toFixed(0)} MB for ${(CONCURRENT * FILE) / MB} MB in flight; bound +${BOUND / MB} MB)`,
    );
    assert.ok(many - one <= BOUND, `RSS grew by ${((many - one) / MB).toFixed(0)} MB`);
    assert.equal(await h.db.collection('fs.files').countDocuments(), CONCURRENT + 3);
  });
});
