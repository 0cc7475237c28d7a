// The demo scenario (`make demo`) as a test: the same function, in-process,
// against a freshly started local platform; every step must check out.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalPlatform, type LocalPlatform } from '../../scripts/local/launcher.js';
import { runScenario } from '../../scripts/local/scenario.js';

describe('demo scenario (make demo)', function () {
  let dir: string;
  let platform: LocalPlatform | undefined;
  let failed = false;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-demo-'));
    platform = await startLocalPlatform({ dir, logLevel: 'info' });
  });

  after(async function () {
    await platform?.stop();
    // Keep the per-process logs of a failed run for the report.
    if (!failed) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`    logs kept in ${dir}/logs`);
  });

  it('runs every step of the scenario through the SDK', async function () {
    const lines: string[] = [];
    const result = await runScenario(platform!, { say: (l) => lines.push(l) });
    failed = !result.ok;
    if (failed) console.log(lines.join('\n'));
    assert.deepEqual(
      result.steps.map((s) => s.title),
      [
        'two users register and log in, each on a different gateway',
        'alice sends bob rich text with an image (upload through /files, message, download, SHA-256)',
        'bob goes offline; alice sends 5 messages; bob comes back and gets them in order',
        'offline file transfer: alice sends bob a file while he is offline',
        'both report GPS; a nearby query (1 km) finds the other with the distance',
        'location units scaled 3 → 4; nearby still answers completely',
      ],
    );
    for (const s of result.steps) assert.ok(s.ok, `${s.title}:\n${s.detail.join('\n')}`);
    assert.equal(result.ok, true);
    assert.equal([...platform!.processes.keys()].filter((n) => n.startsWith('location-unit-')).length, 4);
    assert.ok(
      lines.some((l) => /bob received: #\d+ #\d+ #\d+ #\d+ #\d+/.test(l)),
      'the narration shows the 5 queued messages',
    );
  });
});
