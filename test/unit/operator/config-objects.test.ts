// ConfigMap, Secret and ServiceAccount builders.
import assert from 'node:assert/strict';
import { buildConfigMap } from '../../../operator/src/resources/configmap.js';
import { buildSecret } from '../../../operator/src/resources/secret.js';
import { buildServiceAccount } from '../../../operator/src/resources/service-account.js';
import { declaredQueues } from '../../../operator/src/resources/queues.js';
import { ctx, platform, SECRETS } from './fixtures.js';

describe('operator ConfigMap, Secret and ServiceAccount builders', function () {
  const queues: { spec: unknown; want: unknown[] }[] = [
    { spec: {}, want: [{ name: 'mq_gps', kind: 'partitioned', durable: true, partitions: 64 }] },
    {
      spec: {
        locationUnit: { partitions: 8 },
        mq: { queues: [{ name: 'chat', kind: 'topic', durable: false }, { name: 'jobs' }] },
      },
      want: [
        { name: 'mq_gps', kind: 'partitioned', durable: true, partitions: 8 },
        { name: 'chat', kind: 'topic', durable: false },
        { name: 'jobs', kind: 'queue', durable: true },
      ],
    },
  ];
  for (const q of queues) {
    it(`declares ${JSON.stringify(q.want.map((x) => (x as { name: string }).name))}`, function () {
      assert.deepEqual(declaredQueues(platform(q.spec)), q.want);
      const cm = buildConfigMap(ctx(q.spec));
      assert.equal(cm.metadata!.name, 'demo-config');
      assert.deepEqual(JSON.parse(cm.data!['mq-queues']!), q.want);
    });
  }

  it('encodes every secret value, sorted by key', function () {
    const s = buildSecret(ctx());
    assert.equal(s.metadata!.name, 'demo-secrets');
    assert.equal(s.type, 'Opaque');
    assert.deepEqual(Object.keys(s.data!), Object.keys(SECRETS).sort());
    for (const [k, v] of Object.entries(SECRETS)) assert.equal(Buffer.from(s.data![k]!, 'base64').toString(), v);
  });

  it('makes a ServiceAccount whose token is not mounted', function () {
    const sa = buildServiceAccount(ctx());
    assert.equal(sa.metadata!.name, 'demo');
    assert.equal(sa.automountServiceAccountToken, false);
  });
});
