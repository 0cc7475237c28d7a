// The README's configuration table is generated from the schemas; it must be current.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readmeWithTable } from '../../../scripts/config-table.js';
import { repoRoot } from '../../support/paths.js';

describe('README configuration table', function () {
  it("matches the services' config schemas (run: tsx scripts/config-table.ts --write)", function () {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    assert.equal(readme, readmeWithTable(readme));
  });
});
