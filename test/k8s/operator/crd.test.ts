// The Platform CRD as the API server enforces it: defaults make `spec: {}` a
// whole Platform; invalid Platforms are rejected with precise messages (the
// messages are part of the product: an SRE reads them); partitions are
// immutable; and the operator upgrades an older CRD but never a newer one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { repoRoot, startCluster, waitFor, type Cluster } from '../../support/index.js';
import { getJson, kubectlFor, startOperator } from './helpers.js';

const CRD_FILE = path.join(repoRoot, 'crds', 'platforms.tce.dev.yaml');

const platformYaml = (name: string, spec: unknown): string =>
  JSON.stringify({ apiVersion: 'tce.dev/v1alpha1', kind: 'Platform', metadata: { name }, spec });

describe('Platform CRD', function () {
  let cluster: Cluster;
  let kubectl: ReturnType<typeof kubectlFor>;

  before(async function () {
    cluster = await startCluster();
    kubectl = kubectlFor(cluster.kubeconfig);
    const r = await kubectl(['apply', '--server-side', '-f', CRD_FILE]);
    assert.equal(r.code, 0, r.stderr);
    await kubectl(['wait', '--for=condition=Established', 'crd/platforms.tce.dev', '--timeout=30s']);
  });

  after(async function () {
    await cluster?.stop();
  });

  it('accepts spec: {} and fills in every default', async function () {
    const r = await kubectl(['apply', '-f', '-'], platformYaml('minimal', {}));
    assert.equal(r.code, 0, r.stderr);
    const p = await getJson<{ spec: Record<string, Record<string, unknown>> }>(kubectl, ['platform', 'minimal']);
    assert.equal(p?.spec.locationUnit?.replicas, 1);
    assert.equal(p?.spec.locationUnit?.partitions, 64);
    assert.equal(p?.spec.ingress?.className, 'nginx');
    assert.equal(p?.spec.ingress?.enabled, true);
    assert.equal(p?.spec.image?.repository, 'ghcr.io/tce-dev/tce-platform');
    assert.equal(p?.spec.auth?.accessTokenTTL, '15m');
    assert.equal(p?.spec.fileService?.maxUploadBytes, 1073741824);
  });

  it('accepts spec: {locationUnit: {replicas: 2}}', async function () {
    const r = await kubectl(['apply', '-f', '-'], platformYaml('two-units', { locationUnit: { replicas: 2 } }));
    assert.equal(r.code, 0, r.stderr);
  });

  const invalid: { what: string; name?: string; spec: unknown; message: RegExp }[] = [
    {
      what: 'negative replicas',
      spec: { gateway: { replicas: -1 } },
      message:
        /spec\.gateway\.replicas: Invalid value: -1: spec\.gateway\.replicas in body should be greater than or equal to 0/,
    },
    {
      what: 'more units than partitions',
      spec: { locationUnit: { replicas: 5, partitions: 4 } },
      message:
        /spec\.locationUnit: Invalid value: "object": locationUnit\.replicas must not exceed locationUnit\.partitions/,
    },
    {
      what: 'zero partitions',
      spec: { locationUnit: { partitions: 0, replicas: 0 } },
      message: /spec\.locationUnit\.partitions in body should be greater than or equal to 1/,
    },
    {
      what: 'an unknown pull policy',
      spec: { image: { pullPolicy: 'Sometimes' } },
      message:
        /spec\.image\.pullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"/,
    },
    {
      what: 'TLS without a host',
      spec: { ingress: { tlsSecretName: 'cert' } },
      message: /spec\.ingress: Invalid value: "object": ingress\.tlsSecretName needs ingress\.host/,
    },
    {
      what: 'a malformed duration',
      spec: { auth: { accessTokenTTL: '15 minutes' } },
      message: /spec\.auth\.accessTokenTTL in body should match '\^\[0-9\]\+\(ms\|s\|m\|h\|d\)\$'/,
    },
    {
      what: 'redeclaring mq_gps',
      spec: { mq: { queues: [{ name: 'mq_gps' }] } },
      message: /spec\.mq\.queues: Invalid value: "array": mq_gps is declared by the platform itself/,
    },
    {
      what: 'a partitioned queue without partitions',
      spec: { mq: { queues: [{ name: 'jobs', kind: 'partitioned' }] } },
      message: /spec\.mq\.queues\[0\]: Invalid value: "object": a partitioned queue needs partitions/,
    },
    {
      what: 'a queue declared twice',
      spec: { mq: { queues: [{ name: 'jobs' }, { name: 'jobs' }] } },
      message: /spec\.mq\.queues\[1\]: Duplicate value/,
    },
    {
      what: 'env with both value and valueFrom',
      spec: { auth: { env: [{ name: 'X', value: '1', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] } },
      message: /spec\.auth\.env\[0\]: Invalid value: "object": set either value or valueFrom, not both/,
    },
    {
      what: 'a name too long for its Services',
      name: 'a-platform-name-that-is-far-too-long-for-dns',
      spec: {},
      message: /metadata\.name: Too long: may not be more than 40 bytes/,
    },
    {
      what: 'a name that is not a DNS label starting with a letter',
      name: '9lives',
      spec: {},
      message: /metadata\.name: Invalid value: "9lives"/,
    },
  ];
  for (const c of invalid) {
    it(`rejects ${c.what}`, async function () {
      const r = await kubectl(['apply', '-f', '-'], platformYaml(c.name ?? 'bad', c.spec));
      assert.notEqual(r.code, 0, `accepted ${c.what}`);
      assert.match(r.stderr, c.message);
    });
  }

  it('keeps locationUnit.partitions immutable', async function () {
    const r = await kubectl([
      'patch',
      'platform',
      'minimal',
      '--type=merge',
      '-p',
      '{"spec":{"locationUnit":{"partitions":128}}}',
    ]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /spec\.locationUnit\.partitions: Invalid value: "integer": locationUnit\.partitions is immutable: stored GPS data is partitioned by it/,
    );
  });

  it('lets the operator upgrade an older CRD, and never downgrade a newer one', async function () {
    const crd = load(fs.readFileSync(CRD_FILE, 'utf8')) as {
      metadata: { annotations: Record<string, string> };
      spec: { versions: { additionalPrinterColumns: unknown[] }[] };
    };
    const older = structuredClone(crd);
    older.metadata.annotations['tce.dev/operator-version'] = '0.0.1';
    older.spec.versions[0]!.additionalPrinterColumns = [];
    let r = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify(older));
    assert.equal(r.code, 0, r.stderr);
    const columns = async (): Promise<number> =>
      (await getJson<typeof crd>(kubectl, ['crd', 'platforms.tce.dev']))!.spec.versions[0]!.additionalPrinterColumns
        ?.length ?? 0;
    assert.equal(await columns(), 0);
    // Without leader election the operator checks the CRD as soon as it starts.
    const env = { TCE_LEADER_ELECT: 'false' };
    const op = await startOperator({ kubeconfig: cluster.kubeconfig, identity: 'crd', env });
    await waitFor('the operator to upgrade the CRD', async () => (await columns()) > 0, { timeoutMs: 15_000 });
    await op.stop();

    const newer = structuredClone(older);
    newer.metadata.annotations['tce.dev/operator-version'] = '99.0.0';
    r = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify(newer));
    assert.equal(r.code, 0, r.stderr);
    const op2 = await startOperator({ kubeconfig: cluster.kubeconfig, identity: 'crd2', env });
    await waitFor(
      'the operator to keep the newer CRD',
      () => /Kept the newer Platform CRD/.test(op2.process.output()),
      {
        timeoutMs: 15_000,
      },
    );
    assert.equal(await columns(), 0, 'a newer CRD was downgraded');
    await op2.stop();
    // Put the current CRD back for anything after this test.
    r = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', CRD_FILE]);
    assert.equal(r.code, 0, r.stderr);
  });
});
