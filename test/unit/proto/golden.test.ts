// Golden tests: each directory under proto/test-fixtures/golden/ holds input/
// (the .idl files given on the command line; its subdirectories are -I
// directories) and expected/ (every .proto the compiler must produce).
// Regenerate after an intended change with UPDATE_GOLDEN=1, then review the diff.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { compile, formatDiagnostic } from '../../../proto/src/compiler.js';
import { goldenCases, goldenDir, goldenInputs } from './helpers.js';

const update = process.env.UPDATE_GOLDEN === '1';

describe('tce2proto golden outputs', () => {
  for (const name of goldenCases) {
    it(name, () => {
      const result = compile(goldenInputs(name));
      assert.deepEqual(result.diagnostics.map(formatDiagnostic), []);
      const expectedDir = path.join(goldenDir, name, 'expected');
      if (update) {
        fs.rmSync(expectedDir, { recursive: true, force: true });
        fs.mkdirSync(expectedDir, { recursive: true });
        for (const [file, text] of result.outputs) fs.writeFileSync(path.join(expectedDir, file), text);
      }
      const expectedFiles = fs.readdirSync(expectedDir).sort();
      assert.deepEqual([...result.outputs.keys()].sort(), expectedFiles);
      for (const file of expectedFiles) {
        assert.equal(result.outputs.get(file), fs.readFileSync(path.join(expectedDir, file), 'utf8'), file);
      }
    });
  }
});
