// Partitioned queues and consumer groups: stable key → partition, every
// partition owned by exactly one member, sticky rebalancing on 1 → 3 → 2
// members with revocation before reassignment (no partition owned twice, none
// left unowned once settled, no delivery to a member after it gave a partition
// up), member metadata visible to others, and the group position kept.
import assert from 'node:assert/strict';
import { MqClient, partitionOf } from '../../../services/mq/src/client/index.js';
import { startStore, waitFor, type Store } from '../../support/index.js';
import { ADMIN, Collector, PW, startBroker, type Broker } from './broker.js';

const P = 12;

describe('EasyMQ partitioned queues and consumer groups', function () {
  let store: Store;
  let broker: Broker;
  let mq: MqClient;

  before(async function () {
    store = await startStore();
    broker = await startBroker(store.url, [
      { name: 'gps', kind: 'partitioned', partitions: P, durable: true },
      { name: 'mq_gps', kind: 'partitioned', durable: true },
    ]);
    mq = new MqClient(broker.addr);
  });

  after(async function () {
    mq?.close();
    await broker?.svc.stop();
    await store?.stop();
  });

  it('declares mq_gps with 64 partitions by default', async function () {
    const spec = (await mq.admin(ADMIN).list()).find((s) => s.name === 'mq_gps')!;
    assert.equal(spec.kind, 'partitioned');
    assert.equal(spec.partitions, 64);
  });

  it('routes a key to its stable partition and keeps per-key order', async function () {
    const users = ['alice', 'bob', 'carol', 'dave', 'erin'];
    const results = await mq.publishBatch(
      'gps',
      PW,
      Array.from({ length: 100 }, (_, i) => ({
        key: users[i % users.length]!,
        payload: `${users[i % users.length]}:${i}`,
      })),
    );
    results.forEach((r, i) => assert.equal(r.partition, partitionOf(users[i % users.length]!, P)));
    // Published known values: FNV-1a 32 over UTF-8 (the same in every client).
    assert.equal(partitionOf('alice', 64), 39);
    assert.equal(partitionOf('user-42', 64), 43);
    const c = new Collector(mq, { queue: 'gps', password: PW, group: 'order-check' });
    try {
      await c.until(100);
      for (const u of users) {
        const mine = c.payloads().filter((p) => p.startsWith(`${u}:`));
        const idx = mine.map((p) => Number(p.split(':')[1]));
        assert.deepEqual(
          idx,
          [...idx].sort((a, b) => a - b),
          `order of ${u}`,
        );
        assert.ok(c.got.filter((d) => d.key === u).every((d) => d.partition === partitionOf(u, P)));
      }
    } finally {
      c.close();
    }
  });

  it('rebalances 1 → 3 → 2 members: never two owners, none left unowned, no delivery after revoke', async function () {
    const owner = new Map<number, string>(); // partition → member name, as the members themselves see it
    const violations: string[] = [];
    const revokedAt = new Map<string, Set<number>>();
    const members = new Map<string, Collector>();
    const join = (name: string): Collector => {
      revokedAt.set(name, new Set());
      const c = new Collector(
        mq,
        {
          queue: 'gps',
          password: PW,
          group: 'units',
          metadata: { address: `${name}.local:50053` },
          onAssigned: (ps) => {
            for (const p of ps) {
              const o = owner.get(p);
              if (o !== undefined) violations.push(`${name} got partition ${p} still owned by ${o}`);
              owner.set(p, name);
              revokedAt.get(name)!.delete(p);
            }
          },
          onRevoked: (ps) => {
            for (const p of ps) {
              if (owner.get(p) !== name) violations.push(`${name} gave up partition ${p} it did not own`);
              owner.delete(p);
              revokedAt.get(name)!.add(p);
            }
          },
        },
        (d) => {
          if (revokedAt.get(name)!.has(d.partition))
            violations.push(`${name} got a delivery of revoked partition ${d.partition}`);
          if (owner.get(d.partition) !== name)
            violations.push(`${name} got partition ${d.partition} owned by ${owner.get(d.partition)}`);
        },
      );
      members.set(name, c);
      return c;
    };
    const settled = async (names: string[]): Promise<void> => {
      await waitFor(
        `partitions to settle over ${names.join(', ')}`,
        async () => {
          const g = await mq.describeGroup('gps', PW, 'units');
          if (g.members.length !== names.length || g.unowned.length > 0) return false;
          const counts = g.members.map((m) => m.partitions.length).sort();
          if (counts[counts.length - 1]! - counts[0]! > 1) return false;
          // The members' own view agrees: every partition owned by exactly one.
          return owner.size === P && new Set(owner.values()).size === names.length;
        },
        { timeoutMs: 20_000 },
      );
    };
    // Keep traffic flowing throughout, so revocations happen with messages in flight.
    let stop = false;
    let published = 0;
    const traffic = (async () => {
      while (!stop) {
        await mq.publishBatch(
          'gps',
          PW,
          Array.from({ length: 20 }, (_, i) => ({
            key: `user-${(published + i) % 97}`,
            payload: String(published + i),
          })),
        );
        published += 20;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      join('a');
      await settled(['a']);
      const before = new Map(owner);
      join('b');
      join('c');
      await settled(['a', 'b', 'c']);
      // Sticky: a kept its partitions up to its new share (P/3 of them), the rest moved.
      const keptByA = [...owner].filter(([p, m]) => m === 'a' && before.get(p) === 'a').length;
      assert.equal(keptByA, P / 3);
      const g3 = await mq.describeGroup('gps', PW, 'units');
      assert.deepEqual(g3.members.map((m) => m.metadata.address).sort(), [
        'a.local:50053',
        'b.local:50053',
        'c.local:50053',
      ]);
      const beforeLeave = new Map(owner);
      members.get('b')!.close();
      await settled(['a', 'c']);
      // Only b's partitions moved.
      for (const [p, m] of beforeLeave) if (m !== 'b') assert.equal(owner.get(p), m, `partition ${p} stayed with ${m}`);
      const listed = await mq.listMembers('gps', PW, 'units');
      assert.equal(listed.length, 2);
      assert.equal(
        listed.reduce((n, m) => n + m.partitions.length, 0),
        P,
      );
    } finally {
      stop = true;
      await traffic;
      for (const c of members.values()) c.close();
    }
    assert.deepEqual(violations, []);
    assert.ok(published > 0);
  });

  it('a group resumes from its position; a new group starts at the oldest kept message', async function () {
    await mq.publishBatch(
      'gps',
      PW,
      Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, payload: `fresh-${i}` })),
    );
    const late = new Collector(mq, { queue: 'gps', password: PW, group: 'units' });
    try {
      await waitFor('the units group to catch up', async () => {
        const g = (await mq.admin(ADMIN).groups('gps')).find((x) => x.group === 'units')!;
        return g.lag === 0;
      });
      assert.ok(late.payloads().filter((p) => p.startsWith('fresh-')).length === 10);
    } finally {
      late.close();
    }
    const groups = await mq.admin(ADMIN).groups('gps');
    assert.deepEqual(
      groups.map((g) => g.group),
      ['order-check', 'units'],
    );
    await waitFor('members to leave', async () =>
      (await mq.admin(ADMIN).groups('gps')).every((g) => g.members.length === 0),
    );
    await mq.admin(ADMIN).removeGroup('gps', 'order-check');
    assert.deepEqual(
      (await mq.admin(ADMIN).groups('gps')).map((g) => g.group),
      ['units'],
    );
  });
});
