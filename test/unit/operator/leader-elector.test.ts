// Leader election against an in-memory Lease with the API server's optimistic
// concurrency (resourceVersion) and a fake clock.
import assert from 'node:assert/strict';
import { silentLogger } from '../../../services/runtime/src/logger.js';
import type { KubeClient } from '../../../operator/src/kube/client.js';
import { ApiError } from '../../../operator/src/kube/errors.js';
import { LeaderElector, microTime, type LeaseSpec } from '../../../operator/src/leader/leader-elector.js';
import { waitFor } from '../../support/wait.js';

type Lease = { metadata: { name: string; namespace: string; resourceVersion?: string }; spec: LeaseSpec };

class LeaseStore {
  lease: Lease | undefined;
  rv = 0;
  writes = 0;
  down = false;
  client(): KubeClient {
    return {
      server: 'fake',
      get: async () => {
        if (this.down) throw new Error('ECONNREFUSED');
        return this.lease ? structuredClone(this.lease) : undefined;
      },
      request: async (method: string, _path: string, body: Lease) => {
        if (this.down) throw new Error('ECONNREFUSED');
        this.writes++;
        if (method === 'POST') {
          if (this.lease) throw new ApiError('exists', 409, 'AlreadyExists', {});
        } else if (body.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) {
          throw new ApiError('conflict', 409, 'Conflict', {});
        }
        this.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
        return structuredClone(this.lease);
      },
    } as unknown as KubeClient;
  }
}

function elector(store: LeaseStore, identity: string, clock: { now: number }, events: string[]) {
  return new LeaderElector({
    client: store.client(),
    logger: silentLogger,
    namespace: 'ns',
    name: 'lease',
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 5,
    now: () => clock.now,
    onStartedLeading: () => events.push(`${identity} leads`),
    onStoppedLeading: () => events.push(`${identity} stopped`),
  });
}

describe('operator leader election', function () {
  it('creates the Lease and leads; a second candidate waits', async function () {
    const store = new LeaseStore();
    const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
    const events: string[] = [];
    const a = elector(store, 'a', clock, events);
    const b = elector(store, 'b', clock, events);
    const ac = new AbortController();
    void a.run(ac.signal);
    await waitFor('a to lead', () => a.isLeader);
    void b.run(ac.signal);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(b.isLeader, false);
    assert.equal(store.lease!.spec.holderIdentity, 'a');
    assert.equal(store.lease!.spec.leaseDurationSeconds, 15);
    ac.abort();
    assert.deepEqual(events, ['a leads']);
  });

  it('takes over only after the Lease went unrenewed for its duration on the candidate’s clock', async function () {
    const store = new LeaseStore();
    const clock = { now: 1_000_000 };
    // A Lease from a dead leader, with a renewTime far in the future (a skewed clock): ignored, only our observation counts.
    store.lease = {
      metadata: { name: 'lease', namespace: 'ns', resourceVersion: '1' },
      spec: {
        holderIdentity: 'dead',
        leaseDurationSeconds: 15,
        renewTime: microTime(9_999_999_999),
        leaseTransitions: 3,
      },
    };
    store.rv = 1;
    const events: string[] = [];
    const b = elector(store, 'b', clock, events);
    const ac = new AbortController();
    void b.run(ac.signal);
    await new Promise((r) => setTimeout(r, 30));
    clock.now += 14_000;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(b.isLeader, false);
    clock.now += 2000;
    await waitFor('b to take over', () => b.isLeader);
    assert.equal(store.lease!.spec.holderIdentity, 'b');
    assert.equal(store.lease!.spec.leaseTransitions, 4);
    ac.abort();
  });

  it('renews without reading, and stops leading when it cannot renew before the deadline', async function () {
    const store = new LeaseStore();
    const clock = { now: 0 };
    const events: string[] = [];
    const a = elector(store, 'a', clock, events);
    const ac = new AbortController();
    const done = a.run(ac.signal);
    await waitFor('a to lead', () => a.isLeader);
    const w = store.writes;
    await waitFor('renewals', () => store.writes >= w + 3);
    store.down = true;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(a.isLeader, true, 'still within the renew deadline');
    clock.now += 11_000;
    await waitFor('a to step down', () => !a.isLeader);
    await done;
    assert.deepEqual(events, ['a leads', 'a stopped']);
    ac.abort();
  });

  it('steps down when another holder took the Lease', async function () {
    const store = new LeaseStore();
    const clock = { now: 0 };
    const events: string[] = [];
    const a = elector(store, 'a', clock, events);
    const ac = new AbortController();
    const done = a.run(ac.signal);
    await waitFor('a to lead', () => a.isLeader);
    // Someone else wrote the Lease (e.g. after a long pause of ours): our renewal conflicts, then we re-read.
    store.lease = {
      ...store.lease!,
      spec: { ...store.lease!.spec, holderIdentity: 'x' },
      metadata: { ...store.lease!.metadata, resourceVersion: String(++store.rv) },
    };
    clock.now += 11_000;
    await done;
    assert.deepEqual(events, ['a leads', 'a stopped']);
    ac.abort();
  });

  it('releases the Lease so a successor need not wait', async function () {
    const store = new LeaseStore();
    const clock = { now: 0 };
    const events: string[] = [];
    const a = elector(store, 'a', clock, events);
    const b = elector(store, 'b', clock, events);
    const ac = new AbortController();
    void a.run(ac.signal);
    await waitFor('a to lead', () => a.isLeader);
    ac.abort();
    await a.release();
    assert.equal(store.lease!.spec.holderIdentity, '');
    const ac2 = new AbortController();
    void b.run(ac2.signal);
    await waitFor('b to lead at once', () => b.isLeader);
    ac2.abort();
  });
});
