import assert from 'node:assert/strict';
import { extraUnitSpec, localPlan, type LocalPorts } from '../../../scripts/local/plan.js';

const ports: LocalPorts = {
  mq: { grpc: 1001, ops: 1002 },
  auth: { grpc: 1003, ops: 1004 },
  units: [
    { grpc: 1005, ops: 1006 },
    { grpc: 1007, ops: 1008 },
  ],
  files: [{ http: 1009, ops: 1010, grpc: 1014 }],
  gateways: [{ ws: 1011, ops: 1012 }],
  nginx: 1013,
};
const secrets = {
  internalKey: 'ik',
  tokenKeys: '{"k":1}',
  urlSigningKey: 'us',
  mqAdminPassword: 'admin',
  mqPasswords: { mq_gps: 'gps' },
};

describe('local platform plan', function () {
  const plan = localPlan({ storeUrl: 'mongodb://s/tce', ports, secrets, partitions: 8 });

  it('starts the bus and auth before their clients, gateways last', function () {
    assert.deepEqual(
      plan.map((p) => p.name),
      ['mq', 'auth', 'location-unit-1', 'location-unit-2', 'file-service-1', 'gateway-1'],
    );
  });

  it('gives every process the common settings and its own ops port', function () {
    for (const p of plan) {
      assert.equal(p.env.TCE_MONGO_URL, 'mongodb://s/tce');
      assert.equal(p.env.TCE_INTERNAL_KEY, 'ik');
      assert.equal(p.env.TCE_BIND_HOST, '127.0.0.1');
    }
    assert.deepEqual(new Set(plan.map((p) => p.env.TCE_OPS_PORT)).size, plan.length);
  });

  it('wires addresses and secrets between components', function () {
    const gw = plan.find((p) => p.name === 'gateway-1')!;
    assert.equal(gw.env.TCE_AUTH_ADDR, '127.0.0.1:1003');
    assert.equal(gw.env.TCE_MQ_ADDR, '127.0.0.1:1001');
    assert.equal(gw.env.TCE_FILES_PUBLIC_URL, 'http://127.0.0.1:1013/files');
    const unit = plan.find((p) => p.name === 'location-unit-2')!;
    assert.equal(unit.env.TCE_ADVERTISE_ADDR, '127.0.0.1:1007');
    assert.equal(unit.env.TCE_GPS_PARTITIONS, '8');
    assert.equal(unit.env.TCE_LOCATION_MQ_PASSWORD, 'gps');
    assert.equal(gw.env.TCE_MQ_ADMIN_PASSWORD, 'admin');
    assert.deepEqual(JSON.parse(gw.env.TCE_MQ_PASSWORDS!), { mq_gps: 'gps' });
    const files = plan.find((p) => p.name === 'file-service-1')!;
    assert.equal(files.env.TCE_FILES_GRPC_PORT, '1014');
    const mq = plan.find((p) => p.name === 'mq')!;
    assert.deepEqual(JSON.parse(mq.env.TCE_MQ_QUEUES!), [
      { name: 'mq_gps', kind: 'partitioned', durable: true, partitions: 8 },
    ]);
  });
});

describe('extra location unit', function () {
  it('copies the unit settings with its own ports and address', function () {
    const plan = localPlan({ storeUrl: 'mongodb://s/tce', ports, secrets, partitions: 8 });
    const extra = extraUnitSpec(
      plan.find((p) => p.name === 'location-unit-1')!,
      4,
      { grpc: 2001, ops: 2002 },
    );
    assert.equal(extra.name, 'location-unit-4');
    assert.equal(extra.env.TCE_GRPC_PORT, '2001');
    assert.equal(extra.env.TCE_OPS_PORT, '2002');
    assert.equal(extra.env.TCE_ADVERTISE_ADDR, '127.0.0.1:2001');
    assert.equal(extra.env.TCE_LOCATION_MQ_PASSWORD, 'gps');
  });
});

describe('mq with a standby', function () {
  it('starts two replicas with a short lease and gives clients both addresses', function () {
    const plan = localPlan({
      storeUrl: 'mongodb://s/tce',
      ports: { ...ports, mqStandby: { grpc: 3001, ops: 3002 } },
      secrets,
      partitions: 8,
    });
    assert.deepEqual(
      plan.slice(0, 3).map((p) => p.name),
      ['mq', 'mq-2', 'auth'],
    );
    const standby = plan.find((p) => p.name === 'mq-2')!;
    assert.equal(standby.env.TCE_GRPC_PORT, '3001');
    assert.equal(standby.env.TCE_MQ_LEASE_TTL, '3s');
    for (const name of ['gateway-1', 'location-unit-1']) {
      assert.equal(plan.find((p) => p.name === name)!.env.TCE_MQ_ADDR, '127.0.0.1:1001,127.0.0.1:3001');
    }
  });
});
