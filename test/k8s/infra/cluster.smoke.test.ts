// The control plane is real: kubectl apply/get/delete of a ConfigMap and of a
// small CRD's objects; garbage collection works; a stopped API server makes
// kubectl fail quickly with its connection error.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bin, run, runOk, startCluster, waitFor, type Cluster } from '../../support/index.js';

describe('control plane smoke', function () {
  let cluster: Cluster;
  const kubectl = (args: string[], input?: string) =>
    run(bin('kubectl'), ['--request-timeout=10s', ...args], { env: { KUBECONFIG: cluster.kubeconfig }, input });

  before(async function () {
    cluster = await startCluster();
  });

  after(async function () {
    await cluster?.stop();
  });

  it('applies, gets and deletes a ConfigMap with kubectl', async function () {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'smoke' }, data: { a: '1' } };
    let r = await kubectl(['apply', '-f', '-'], JSON.stringify(cm));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /configmap\/smoke created/);
    r = await kubectl(['get', 'configmap', 'smoke', '-o', 'jsonpath={.data.a}']);
    assert.equal(r.stdout, '1');
    r = await kubectl(['delete', 'configmap', 'smoke']);
    assert.equal(r.code, 0, r.stderr);
    r = await kubectl(['get', 'configmap', 'smoke']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NotFound|not found/);
  });

  it('serves a small CRD and its objects', async function () {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.smoke.tce.dev' },
      spec: {
        group: 'smoke.tce.dev',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } } },
              },
            },
          },
        ],
      },
    };
    let r = await kubectl(['apply', '-f', '-'], JSON.stringify(crd));
    assert.equal(r.code, 0, r.stderr);
    await waitFor('the Widget CRD to be established', async () => {
      const s = await kubectl([
        'get',
        'crd',
        'widgets.smoke.tce.dev',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Established")].status}',
      ]);
      return s.stdout === 'True';
    });
    const widget = { apiVersion: 'smoke.tce.dev/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } };
    await waitFor(
      'kubectl to accept a Widget',
      async () => (await kubectl(['apply', '-f', '-'], JSON.stringify(widget))).code === 0,
    );
    r = await kubectl(['get', 'widgets', 'w1', '-o', 'jsonpath={.spec.size}']);
    assert.equal(r.stdout, '3');
    const bad = { ...widget, metadata: { name: 'w2' }, spec: { size: 0 } };
    r = await kubectl(['apply', '-f', '-'], JSON.stringify(bad));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.size: Invalid value: 0: spec\.size in body should be greater than or equal to 1/);
    await runOk(bin('kubectl'), ['delete', 'crd', 'widgets.smoke.tce.dev'], {
      env: { KUBECONFIG: cluster.kubeconfig },
    });
  });

  it('garbage-collects dependents of a deleted owner (kube-controller-manager runs)', async function () {
    const owner = await kubectl(['create', 'configmap', 'owner', '-o', 'jsonpath={.metadata.uid}']);
    assert.equal(owner.code, 0, owner.stderr);
    const dependent = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'dependent',
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.stdout }],
      },
    };
    assert.equal((await kubectl(['apply', '-f', '-'], JSON.stringify(dependent))).code, 0);
    assert.equal((await kubectl(['delete', 'configmap', 'owner'])).code, 0);
    await waitFor(
      'the dependent ConfigMap to be garbage-collected',
      async () => {
        const r = await kubectl(['get', 'configmap', 'dependent']);
        return r.code !== 0 && /NotFound/.test(r.stderr);
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  });

  it('makes kubectl fail quickly once the API server is stopped', async function () {
    const own = await startCluster({ waitForControllers: false });
    // stop() removes the state dir; keep the kubeconfig so kubectl really dials the dead server.
    const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tce-kc-')), 'kubeconfig');
    fs.copyFileSync(own.kubeconfig, kubeconfig);
    await own.stop();
    const t0 = Date.now();
    const r = await run(bin('kubectl'), ['--request-timeout=5s', 'get', 'configmaps'], {
      env: { KUBECONFIG: kubeconfig },
    });
    fs.rmSync(path.dirname(kubeconfig), { recursive: true, force: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /connection refused|unable to connect|couldn't get current server API group list/i);
    assert.ok(Date.now() - t0 < 20_000);
  });
});
