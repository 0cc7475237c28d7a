// CLI: exit codes 0/1/2, diagnostics on stderr, all-or-nothing output.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../proto/src/cli.js';
import { fixturesDir } from './helpers.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

describe('tce2proto CLI', () => {
  let tmp: string;
  const multi = path.join(fixturesDir, 'multi');

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tce2proto-cli-'));
  });
  afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('--help prints usage and exits 0', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: tce2proto /);
    assert.equal(r.stderr, '');
  });

  it('writes one proto per module (and the model) on success', async () => {
    const out = path.join(tmp, 'out', 'nested');
    const modelFile = path.join(tmp, 'model', 'model.json');
    const r = await run([
      `-I${path.join(multi, 'inc')}`,
      '-o',
      out,
      '--model',
      modelFile,
      path.join(multi, 'Messaging.idl'),
    ]);
    assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
    assert.deepEqual(fs.readdirSync(out).sort(), ['Common.proto', 'Geo.proto', 'Messaging.proto']);
    assert.match(fs.readFileSync(path.join(out, 'Messaging.proto'), 'utf8'), /^package Messaging;$/m);
    const model = JSON.parse(fs.readFileSync(modelFile, 'utf8')) as { modules: Array<{ name: string }> };
    assert.deepEqual(
      model.modules.map((m) => m.name),
      ['Common', 'Geo', 'Messaging'],
    );
  });

  it('accepts -I with a separate value and repeated', async () => {
    const r = await run([
      '-I',
      tmp,
      '-I',
      path.join(multi, 'inc'),
      '-o',
      path.join(tmp, 'o'),
      path.join(multi, 'Messaging.idl'),
    ]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('on errors exits 1, prints file:line:col diagnostics and writes nothing', async () => {
    const bad = path.join(tmp, 'Bad.idl');
    fs.writeFileSync(bad, 'module Bad {\n  struct S {\n    Foo f;\n    int x\n  };\n}\n');
    const good = path.join(tmp, 'Good.idl');
    fs.writeFileSync(good, 'module Good {\n  struct T { int y; };\n}\n');
    const out = path.join(tmp, 'out');
    const modelFile = path.join(tmp, 'model.json');
    // Paths are printed as given, here relative to the working directory.
    const rel = path.relative(process.cwd(), bad);
    const r = await run(['-o', out, '--model', modelFile, path.relative(process.cwd(), good), rel]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `${rel}:3:5: unknown type 'Foo' (in module Bad)\n${rel}:5:3: expected ';' after field declaration, found '}'\n`,
    );
    assert.equal(fs.existsSync(out), false);
    assert.equal(fs.existsSync(modelFile), false);
  });

  it('reports semantic errors the same way', async () => {
    const bad = path.join(tmp, 'Bad.idl');
    fs.writeFileSync(bad, 'module Bad {\n  struct S {\n    Foo f;\n  };\n}\n');
    const r = await run(['-o', path.join(tmp, 'out'), bad]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `${bad}:3:5: unknown type 'Foo' (in module Bad)\n`);
    assert.equal(fs.existsSync(path.join(tmp, 'out')), false);
  });

  it('a missing input file is an error (exit 1)', async () => {
    const missing = path.join(tmp, 'missing.idl');
    const r = await run(['-o', path.join(tmp, 'out'), missing]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `${missing}:1:1: cannot read file '${missing}'\n`);
  });

  for (const [title, argv, message] of [
    ['no input files', ['-o', 'x'], 'no input files'],
    ['missing -o', ['a.idl'], 'missing -o <out dir>'],
    ['an unknown option', ['--bogus', '-o', 'x', 'a.idl'], "unknown option '--bogus'"],
    ['-I without a value', ['-o', 'x', 'a.idl', '-I'], 'option -I needs a value'],
    ['no arguments at all', [], 'missing -o <out dir>'],
  ] as const) {
    it(`bad usage (${title}) exits 2 with usage on stderr`, async () => {
      const r = await run([...argv]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.startsWith(`tce2proto: ${message}\n\nUsage: tce2proto `), r.stderr);
    });
  }
});
