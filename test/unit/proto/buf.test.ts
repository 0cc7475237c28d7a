// The generated proto3 must be accepted by a real proto compiler: every golden
// case and the multi-module sample are built with `buf build`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compile, formatDiagnostic, type CompileOptions } from '../../../proto/src/compiler.js';
import { bufBin, fixturesDir, goldenCases, goldenInputs } from './helpers.js';

function bufBuild(opts: CompileOptions): void {
  const result = compile(opts);
  assert.deepEqual(result.diagnostics.map(formatDiagnostic), []);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce2proto-buf-'));
  try {
    fs.writeFileSync(path.join(dir, 'buf.yaml'), 'version: v2\n');
    for (const [name, text] of result.outputs) fs.writeFileSync(path.join(dir, name), text);
    const run = spawnSync(bufBin, ['build', dir, '-o', os.devNull], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.error, undefined, String(run.error));
    assert.equal(run.status, 0, `buf build failed:\n${run.stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('tce2proto output builds with buf', function () {
  this.timeout(60_000);

  it('multi-module sample (imports with a cycle, wrappers, maps, cross-module extends, reserved words)', () => {
    const multi = path.join(fixturesDir, 'multi');
    bufBuild({ files: [path.join(multi, 'Messaging.idl')], includeDirs: [path.join(multi, 'inc')] });
  });

  for (const name of goldenCases) {
    it(`golden case ${name}`, () => bufBuild(goldenInputs(name)));
  }
});
