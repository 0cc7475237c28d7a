// NetworkPolicies: default deny, the allowed paths, and their order.
import assert from 'node:assert/strict';
import { buildNetworkPolicies } from '../../../operator/src/resources/network-policy.js';
import { ctx } from './fixtures.js';

describe('operator NetworkPolicy builder', function () {
  it('allows before it denies', function () {
    assert.deepEqual(
      buildNetworkPolicies(ctx()).map((p) => p.metadata.name),
      ['demo-allow-internal', 'demo-allow-ingress-controller', 'demo-allow-egress', 'demo-default-deny'],
    );
  });

  it('denies all traffic of platform pods by default', function () {
    const deny = buildNetworkPolicies(ctx()).at(-1)!;
    assert.deepEqual(deny.spec.podSelector, {
      matchLabels: { 'app.kubernetes.io/name': 'tce-platform', 'app.kubernetes.io/instance': 'demo' },
    });
    assert.deepEqual(deny.spec.policyTypes, ['Ingress', 'Egress']);
    assert.equal(deny.spec.ingress, undefined);
    assert.equal(deny.spec.egress, undefined);
  });

  it('lets only the ingress controller namespace reach the gateway and file service ports', function () {
    const p = buildNetworkPolicies(ctx({ networkPolicy: { ingressControllerNamespace: 'edge' } }))[1]!;
    assert.deepEqual(p.spec.podSelector.matchExpressions, [
      { key: 'app.kubernetes.io/component', operator: 'In', values: ['gateway', 'file-service'] },
    ]);
    assert.deepEqual(p.spec.ingress, [
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'edge' } } }],
        ports: [
          { protocol: 'TCP', port: 8080 },
          { protocol: 'TCP', port: 8081 },
        ],
      },
    ]);
  });

  it('allows platform pods to reach each other, DNS and MongoDB', function () {
    const [internal, , egress] = buildNetworkPolicies(ctx({ networkPolicy: { mongoPort: 27018 } }));
    assert.deepEqual(internal!.spec.ingress, [{ from: [{ podSelector: internal!.spec.podSelector }] }]);
    assert.deepEqual(internal!.spec.egress, [{ to: [{ podSelector: internal!.spec.podSelector }] }]);
    assert.deepEqual(
      egress!.spec.egress!.flatMap((r) => r.ports!.map((p) => `${p.protocol}/${p.port}`)),
      ['UDP/53', 'TCP/53', 'TCP/27018'],
    );
  });

  it('opens port 9090 to a metrics namespace only when one is named', function () {
    const names = buildNetworkPolicies(ctx({ networkPolicy: { metricsNamespace: 'monitoring' } })).map(
      (p) => p.metadata.name,
    );
    assert.ok(names.includes('demo-allow-metrics'));
    assert.ok(!buildNetworkPolicies(ctx()).some((p) => p.metadata.name === 'demo-allow-metrics'));
  });

  it('builds nothing when disabled', function () {
    assert.deepEqual(buildNetworkPolicies(ctx({ networkPolicy: { enabled: false } })), []);
  });
});
