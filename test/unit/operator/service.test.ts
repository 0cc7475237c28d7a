// Services: one per component with its port and the ops port; the location
// units' headless Service (a DNS name per pod).
import assert from 'node:assert/strict';
import { COMPONENTS, type ComponentKey } from '../../../operator/src/api/components.js';
import { buildHeadlessService, buildService, buildServices } from '../../../operator/src/resources/service.js';
import { ctx } from './fixtures.js';

describe('operator Service builder', function () {
  const table: { key: ComponentKey; port: number; name: string; appProtocol: string }[] = [
    { key: 'gateway', port: 8080, name: 'ws', appProtocol: 'kubernetes.io/ws' },
    { key: 'fileService', port: 8081, name: 'http', appProtocol: 'http' },
    { key: 'auth', port: 50051, name: 'grpc', appProtocol: 'kubernetes.io/h2c' },
    { key: 'mq', port: 50052, name: 'grpc', appProtocol: 'kubernetes.io/h2c' },
    { key: 'locationUnit', port: 50053, name: 'grpc', appProtocol: 'kubernetes.io/h2c' },
  ];
  for (const t of table) {
    const c = COMPONENTS[t.key];
    it(`demo-${c.name} serves ${t.name} on ${t.port} and ops on 9090`, function () {
      const s = buildService(ctx(), c);
      assert.equal(s.metadata!.name, `demo-${c.name}`);
      assert.equal(s.spec!.type, 'ClusterIP');
      assert.deepEqual(s.spec!.selector, {
        'app.kubernetes.io/name': 'tce-platform',
        'app.kubernetes.io/instance': 'demo',
        'app.kubernetes.io/component': c.name,
      });
      assert.deepEqual(s.spec!.ports, [
        { name: t.name, port: t.port, targetPort: t.name, protocol: 'TCP', appProtocol: t.appProtocol },
        { name: 'ops', port: 9090, targetPort: 'ops', protocol: 'TCP', appProtocol: 'http' },
      ]);
    });
  }

  it('adds a headless Service for the location units that publishes not-ready pods', function () {
    const h = buildHeadlessService(ctx(), COMPONENTS.locationUnit);
    assert.equal(h.metadata!.name, 'demo-location-unit-headless');
    assert.equal(h.spec!.clusterIP, 'None');
    assert.equal(h.spec!.publishNotReadyAddresses, true);
    assert.deepEqual(
      h.spec!.ports!.map((p) => p.port),
      [50053],
    );
  });

  it('builds six Services', function () {
    assert.deepEqual(
      buildServices(ctx()).map((s) => s.metadata!.name),
      [
        'demo-gateway',
        'demo-mq',
        'demo-auth',
        'demo-location-unit',
        'demo-file-service',
        'demo-location-unit-headless',
      ],
    );
  });
});
