// BatchedLookup: a lone key gets its own query at once; keys asked while a
// query runs share the next one; every caller gets exactly its key's values.
import assert from 'node:assert/strict';
import { BatchedLookup } from '../../../services/gateway/src/batched-lookup.js';

interface Row {
  u: string;
  g: string;
}

/** A few event-loop turns: the batcher sends at the end of the turn it was asked in. */
const turns = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

/** A query whose answers the test releases one at a time. */
function gatedQuery(rows: Row[]) {
  const calls: string[][] = [];
  const gates: (() => void)[] = [];
  const query = (keys: string[]): Promise<Row[]> => {
    calls.push(keys);
    return new Promise((resolve) => gates.push(() => resolve(rows.filter((r) => keys.includes(r.u)))));
  };
  const release = async (): Promise<void> => {
    gates.shift()!();
    await turns();
  };
  return { calls, query, release };
}

describe('gateway: BatchedLookup', function () {
  const rows: Row[] = [
    { u: 'ann', g: 'g1' },
    { u: 'ann', g: 'g2' },
    { u: 'bob', g: 'g1' },
  ];

  it('sends the keys of one turn together, and those asked meanwhile together in the next query', async function () {
    const q = gatedQuery(rows);
    const lookup = new BatchedLookup<Row>(q.query, (r) => r.u);
    const ann = lookup.get('ann');
    assert.deepEqual(q.calls, [], 'sent at the end of the turn');
    await turns();
    assert.deepEqual(q.calls, [['ann']]);
    const others = [lookup.get('bob'), lookup.get('cid'), lookup.get('bob')];
    assert.equal(lookup.queued, 2, 'bob (twice) and cid wait for the running query');
    await q.release();
    assert.deepEqual(await ann, rows.slice(0, 2));
    assert.deepEqual(q.calls, [['ann'], ['bob', 'cid']]);
    await q.release();
    const got = await Promise.all(others);
    assert.deepEqual(got, [[rows[2]], [], [rows[2]]]);
    assert.notEqual(got[0], got[2], 'two callers of one key get arrays of their own');
    assert.equal(lookup.queued, 0);
  });

  it('splits more than maxKeys waiting keys over several queries', async function () {
    const q = gatedQuery(rows);
    const lookup = new BatchedLookup<Row>(q.query, (r) => r.u, 2);
    const all = ['ann', 'bob', 'cid', 'dan', 'eve'].map((k) => lookup.get(k));
    await turns();
    for (let i = 0; i < 3; i++) await q.release();
    assert.deepEqual(q.calls, [['ann', 'bob'], ['cid', 'dan'], ['eve']]);
    assert.deepEqual(
      (await Promise.all(all)).map((l) => l.length),
      [2, 1, 0, 0, 0],
    );
  });

  it('getMany sends all its keys in one query and answers them in order', async function () {
    const q = gatedQuery(rows);
    const lookup = new BatchedLookup<Row>(q.query, (r) => r.u);
    const many = lookup.getMany(['cid', 'ann', 'bob', 'ann']);
    await turns();
    assert.deepEqual(q.calls, [['cid', 'ann', 'bob']], 'one query, each key once');
    const later = lookup.getMany(['bob', 'dan']);
    assert.equal(lookup.queued, 2, 'keys asked while a query runs wait for the next');
    await q.release();
    assert.deepEqual(await many, [[], rows.slice(0, 2), [rows[2]], rows.slice(0, 2)]);
    await q.release();
    assert.deepEqual(q.calls, [
      ['cid', 'ann', 'bob'],
      ['bob', 'dan'],
    ]);
    assert.deepEqual(await later, [[rows[2]], []]);
  });

  it('rejects the callers of a failed query and goes on with the next', async function () {
    let fail = true;
    const lookup = new BatchedLookup<Row>(
      (keys) =>
        fail ? Promise.reject(new Error('store down')) : Promise.resolve(rows.filter((r) => keys.includes(r.u))),
      (r) => r.u,
    );
    await assert.rejects(lookup.get('ann'), /store down/);
    fail = false;
    assert.deepEqual(await lookup.get('bob'), [rows[2]]);
  });

  it('rejects the callers of a query that throws instead of rejecting, and goes on', async function () {
    let fail = true;
    const lookup = new BatchedLookup<Row>(
      (keys) => {
        if (fail) throw new Error('bad query');
        return Promise.resolve(rows.filter((r) => keys.includes(r.u)));
      },
      (r) => r.u,
    );
    await assert.rejects(lookup.get('ann'), /bad query/);
    fail = false;
    assert.deepEqual(await lookup.get('bob'), [rows[2]]);
  });
});
