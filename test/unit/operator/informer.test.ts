// The informer against a scripted API: list then watch from its version,
// bookmarks, re-watch, relist on 410 Gone, backoff on errors, cache writes.
import assert from 'node:assert/strict';
import { silentLogger } from '../../../services/runtime/src/logger.js';
import type { KubeClient, Query } from '../../../operator/src/kube/client.js';
import { ApiError } from '../../../operator/src/kube/errors.js';
import { Informer, isNewer, type InformerEventType } from '../../../operator/src/kube/informer.js';
import { KINDS, type KubeObject } from '../../../operator/src/kube/kinds.js';
import { waitFor } from '../../support/wait.js';

const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });

type Step = { events: unknown[] } | { error: Error };

/** list() answers from `lists` in turn; each stream() plays the next script step, then ends (or blocks when none is left). */
function scripted(lists: { items: KubeObject[]; rv: string }[], steps: Step[]) {
  const watchedFrom: (string | undefined)[] = [];
  let listed = 0;
  const client = {
    server: 'fake',
    list: async () => {
      const l = lists[Math.min(listed, lists.length - 1)]!;
      listed++;
      return { metadata: { resourceVersion: l.rv }, items: l.items };
    },
    stream: async (_p: string, q: Query, onLine: (l: unknown) => void, signal: AbortSignal) => {
      watchedFrom.push(q.resourceVersion as string | undefined);
      const step = steps.shift();
      if (!step) {
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        return;
      }
      if ('error' in step) throw step.error;
      for (const e of step.events) {
        if (signal.aborted) return;
        onLine(e);
      }
    },
  } as unknown as KubeClient;
  return { client, watchedFrom, listed: () => listed };
}

describe('operator informer', function () {
  it('lists, then watches from the list version, applying events and bookmarks', async function () {
    const events: [InformerEventType, string][] = [];
    const api = scripted(
      [{ items: [obj('a', '5')], rv: '10' }],
      [
        {
          events: [
            { type: 'ADDED', object: obj('b', '11') },
            { type: 'MODIFIED', object: obj('a', '12') },
            { type: 'BOOKMARK', object: { metadata: { resourceVersion: '15' } } },
            { type: 'DELETED', object: obj('b', '16') },
          ],
        },
      ],
    );
    const inf = new Informer({
      client: api.client,
      kind: KINDS.Service,
      logger: silentLogger,
      onEvent: (t, o) => events.push([t, o.metadata!.name!]),
    });
    const ac = new AbortController();
    const done = inf.run(ac.signal);
    await inf.waitForSync();
    await waitFor('the second watch', () => api.watchedFrom.length === 2);
    ac.abort();
    await done;
    assert.deepEqual(events, [
      ['ADDED', 'a'],
      ['ADDED', 'b'],
      ['MODIFIED', 'a'],
      ['DELETED', 'b'],
    ]);
    // First watch from the list's version; after the server ended it, from the last one seen.
    assert.deepEqual(api.watchedFrom, ['10', '16']);
    assert.deepEqual(
      inf.list().map((o) => o.metadata!.name),
      ['a'],
    );
    assert.equal(inf.get('ns', 'a')!.kind, 'Service');
  });

  it('relists when the watch says 410 Gone, and reports what changed meanwhile', async function () {
    const events: [InformerEventType, string][] = [];
    const api = scripted(
      [
        { items: [obj('a', '5'), obj('b', '6')], rv: '10' },
        { items: [obj('a', '20'), obj('c', '21')], rv: '22' },
      ],
      [{ events: [{ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old resource version' } }] }],
    );
    const inf = new Informer({
      client: api.client,
      kind: KINDS.Service,
      logger: silentLogger,
      onEvent: (t, o) => events.push([t, o.metadata!.name!]),
    });
    const ac = new AbortController();
    const done = inf.run(ac.signal);
    await waitFor('the watch after the relist', () => api.watchedFrom.length === 2);
    ac.abort();
    await done;
    assert.equal(api.listed(), 2);
    assert.deepEqual(api.watchedFrom, ['10', '22']);
    assert.deepEqual(events.slice(2), [
      ['MODIFIED', 'a'],
      ['ADDED', 'c'],
      ['DELETED', 'b'],
    ]);
  });

  it('relists when the watch request itself is answered 410', async function () {
    const api = scripted(
      [
        { items: [], rv: '1' },
        { items: [], rv: '7' },
      ],
      [{ error: new ApiError('gone', 410, 'Expired', {}) }],
    );
    const inf = new Informer({
      client: api.client,
      kind: KINDS.Service,
      logger: silentLogger,
      onEvent: () => undefined,
    });
    const ac = new AbortController();
    const done = inf.run(ac.signal);
    await waitFor('the watch after the relist', () => api.watchedFrom.length === 2);
    ac.abort();
    await done;
    assert.deepEqual(api.watchedFrom, ['1', '7']);
  });

  it('backs off after an error and watches again from the same version', async function () {
    const api = scripted([{ items: [], rv: '3' }], [{ error: new Error('ECONNREFUSED') }]);
    const inf = new Informer({
      client: api.client,
      kind: KINDS.Service,
      logger: silentLogger,
      onEvent: () => undefined,
    });
    const ac = new AbortController();
    const t0 = Date.now();
    const done = inf.run(ac.signal);
    await waitFor('the retry', () => api.watchedFrom.length === 2, { timeoutMs: 3000 });
    const waited = Date.now() - t0;
    ac.abort();
    await done;
    assert.ok(waited >= 300, `retried after ${waited} ms`);
    assert.equal(api.listed(), 1);
    assert.deepEqual(api.watchedFrom, ['3', '3']);
  });

  it('takes the operator’s own writes into the cache unless the watch has something newer', function () {
    const inf = new Informer({
      client: scripted([], []).client,
      kind: KINDS.Service,
      logger: silentLogger,
      onEvent: () => undefined,
    });
    inf.upsertIfNewer(obj('a', '5'));
    inf.upsertIfNewer(obj('a', '4'));
    assert.equal(inf.get('ns', 'a')!.metadata!.resourceVersion, '5');
    inf.upsertIfNewer(obj('a', '6'));
    assert.equal(inf.get('ns', 'a')!.metadata!.resourceVersion, '6');
  });

  const versions: [string | undefined, string | undefined, boolean][] = [
    ['10', '9', true],
    ['9', '10', false],
    ['10', '10', false],
    ['100', '99', true],
    ['abc', 'abd', true],
    ['1', undefined, true],
  ];
  for (const [a, b, want] of versions) {
    it(`isNewer(${a}, ${b}) = ${want}`, function () {
      assert.equal(isNewer(a, b), want);
    });
  }
});
