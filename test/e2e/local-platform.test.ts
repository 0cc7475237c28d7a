// The local platform as `make run` starts it: every built service ready behind
// nginx, endpoints written, everything stopped afterwards.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalPlatform, type LocalPlatform } from '../../scripts/local/launcher.js';
import { waitFor } from '../support/wait.js';

describe('local platform (make run)', function () {
  let dir: string;
  let platform: LocalPlatform;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-local-'));
    const webRoot = path.join(dir, 'web');
    fs.mkdirSync(webRoot);
    fs.writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>tce</title>');
    platform = await startLocalPlatform({ dir, logLevel: 'warn', webRoot });
  });

  after(async function () {
    await platform?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes endpoints.json with the ws and http URLs behind nginx', function () {
    const e = JSON.parse(fs.readFileSync(path.join(dir, 'endpoints.json'), 'utf8')) as Record<string, string>;
    assert.match(e.ws!, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    assert.match(e.http!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(e, { ...platform.endpoints });
  });

  it('serves the web root and routes /files to the file services through nginx', async function () {
    const res = await fetch(`${platform.endpoints.http}/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<title>tce<\/title>/);
    // No token: the file service itself (not nginx) must answer 401.
    const files = await fetch(`${platform.endpoints.files}`, { method: 'POST', body: 'x' });
    assert.equal(files.status, 401);
  });

  it('has every started service ready on /readyz', async function () {
    // Readiness follows live checks (store, liveness record, bus), which may dip
    // briefly on a loaded machine; every service must be ready within the deadline.
    for (const [name, proc] of platform.processes) {
      await waitFor(
        `${name} /readyz`,
        async () => {
          const res = await fetch(`http://127.0.0.1:${proc.opsPort}/readyz`);
          if (res.status !== 200) throw new Error(`${res.status}: ${await res.text()}`);
          return true;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
    }
  });
});
