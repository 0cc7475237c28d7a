// The generated CRD is current (in crds/ and in the chart), names what
// ARCHITECTURE.md fixes, and its defaults agree with the operator's types.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { platformCrd } from '../../../operator/src/api/crd.js';
import { defaultedSpec } from '../../../operator/src/api/defaults.js';
import { platformSpecSchema, type JSONSchema } from '../../../operator/src/api/schema.js';
import { CRD_FILES, renderCrdFile } from '../../../operator/src/api/write-crd.js';
import { repoRoot } from '../../support/paths.js';

interface Version {
  name: string;
  subresources: { status: object; scale: Record<string, string> };
  additionalPrinterColumns: { name: string; jsonPath: string }[];
}

describe('operator Platform CRD', function () {
  for (const f of CRD_FILES) {
    it(`${f} is current (run \`make crd\` after changing operator/src/api/schema.ts)`, async function () {
      assert.equal(fs.readFileSync(path.join(repoRoot, f), 'utf8'), await renderCrdFile());
    });
  }

  it('is tce.dev/v1alpha1 Platform, plural platforms, namespaced', function () {
    const crd = platformCrd();
    const spec = crd.spec as { group: string; scope: string; names: Record<string, string>; versions: Version[] };
    assert.equal(crd.metadata.name, 'platforms.tce.dev');
    assert.equal(spec.group, 'tce.dev');
    assert.equal(spec.scope, 'Namespaced');
    assert.equal(spec.names.kind, 'Platform');
    assert.equal(spec.names.plural, 'platforms');
    assert.equal(spec.versions[0]!.name, 'v1alpha1');
  });

  it('has status and a scale subresource on the location units', function () {
    const v = (platformCrd().spec as { versions: Version[] }).versions[0]!;
    assert.deepEqual(v.subresources.status, {});
    assert.deepEqual(v.subresources.scale, {
      specReplicasPath: '.spec.locationUnit.replicas',
      statusReplicasPath: '.status.components.locationUnit.replicas',
      labelSelectorPath: '.status.locationUnitSelector',
    });
  });

  it('prints Ready, Gateways, Units and Age', function () {
    const v = (platformCrd().spec as { versions: Version[] }).versions[0]!;
    const cols = v.additionalPrinterColumns.map((c) => c.name);
    for (const c of ['Ready', 'Gateways', 'Units', 'Age']) assert.ok(cols.includes(c), c);
  });

  it('defaults a whole Platform from spec: {}', function () {
    const s = defaultedSpec({});
    assert.equal(s.locationUnit.replicas, 1);
    assert.equal(s.locationUnit.partitions, 64);
    assert.equal(s.gateway.replicas, 2);
    assert.equal(s.ingress.className, 'nginx');
    assert.equal(s.ingress.enabled, true);
    assert.equal(s.image.repository, 'ghcr.io/tce-dev/tce-platform');
    assert.equal(s.image.tag, undefined);
    assert.deepEqual(s.mq.queues, []);
    assert.equal(s.auth.accessTokenTTL, '15m');
  });

  it('keeps values that are set, and defaults inside list entries', function () {
    const s = defaultedSpec({ locationUnit: { replicas: 2 }, mq: { queues: [{ name: 'q' }] } });
    assert.equal(s.locationUnit.replicas, 2);
    assert.equal(s.locationUnit.partitions, 64);
    assert.deepEqual(s.mq.queues, [{ name: 'q', kind: 'queue', durable: true }]);
  });

  // Optional by design: no sensible default exists (they switch something on when set).
  const OPTIONAL = new Set([
    'image.tag',
    'mongo.urlSecretRef',
    'ingress.host',
    'ingress.tlsSecretName',
    'networkPolicy.metricsNamespace',
    'gateway.filesPublicUrl',
    'gateway.resources',
    'mq.resources',
    'auth.resources',
    'locationUnit.resources',
    'fileService.resources',
  ]);
  it('gives every spec field a default, except the documented optional ones', function () {
    const missing: string[] = [];
    const walk = (schema: JSONSchema, at: string): void => {
      for (const [k, sub] of Object.entries(schema.properties ?? {})) {
        const p = at ? `${at}.${k}` : k;
        if (OPTIONAL.has(p)) continue;
        if (sub.default === undefined) missing.push(p);
        else if (sub.type === 'object' && sub.properties) walk(sub, p);
      }
    };
    walk(platformSpecSchema, '');
    assert.deepEqual(missing, []);
  });
});
