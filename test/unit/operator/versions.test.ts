// One version and one set of image names: package.json, the chart, the
// operator's defaults and the image build script agree.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { operatorSchema } from '../../../operator/src/config.js';
import { OPERATOR_IMAGE_REPOSITORY, PLATFORM_IMAGE_REPOSITORY, VERSION } from '../../../operator/src/version.js';
import { defaultedSpec } from '../../../operator/src/api/defaults.js';
import { repoRoot } from '../../support/paths.js';

const read = (f: string): string => fs.readFileSync(path.join(repoRoot, f), 'utf8');

describe('operator versions and images', function () {
  it('package.json, Chart.yaml (version and appVersion) and the operator carry the same version', function () {
    const chart = load(read('charts/tce-platform/Chart.yaml')) as { version: string; appVersion: string };
    assert.equal((JSON.parse(read('package.json')) as { version: string }).version, VERSION);
    assert.equal(chart.appVersion, VERSION);
    assert.equal(chart.version, VERSION);
  });

  it('the chart runs the operator image the operator names, tagged with appVersion by default', function () {
    const values = load(read('charts/tce-platform/values.yaml')) as { image: { repository: string; tag: string } };
    assert.equal(values.image.repository, OPERATOR_IMAGE_REPOSITORY);
    assert.equal(values.image.tag, '');
    assert.match(
      read('charts/tce-platform/templates/_helpers.tpl'),
      /default \.Chart\.AppVersion \.Values\.image\.tag/,
    );
  });

  it('Platforms default to the platform image; its tag to the operator version (builders)', function () {
    assert.equal(defaultedSpec({}).image.repository, PLATFORM_IMAGE_REPOSITORY);
  });

  it('scripts/build-images.sh builds and tags those same images', function () {
    const script = read('scripts/build-images.sh');
    assert.ok(script.includes(PLATFORM_IMAGE_REPOSITORY), PLATFORM_IMAGE_REPOSITORY);
    assert.ok(script.includes(OPERATOR_IMAGE_REPOSITORY), OPERATOR_IMAGE_REPOSITORY);
  });

  it('every TCE_ variable the chart sets is one the operator reads', function () {
    const known = new Set<string>(Object.values(operatorSchema).map((s) => s.env));
    const set = [...read('charts/tce-platform/templates/deployment.yaml').matchAll(/name: (TCE_[A-Z_]+)/g)].map(
      (m) => m[1]!,
    );
    assert.ok(set.length > 5);
    for (const name of set) assert.ok(known.has(name), `${name} is not in operator/src/config.ts`);
  });
});
