// BatchedInsert: a lone document goes at once; documents submitted while an
// insert runs share the next one; each caller learns whether its document was
// inserted or refused as a duplicate, a document's own write error rejects its
// caller only, and a failed command rejects its callers only.
import assert from 'node:assert/strict';
import { BatchedInsert } from '../../../services/gateway/src/batched-insert.js';
import type { InsertOutcome } from '../../../services/gateway/src/message-store.js';

interface Doc {
  _id: string;
}

/** A few event-loop turns: the batcher sends at the end of the turn it was asked in. */
const turns = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

/** An insertMany over a Set of ids whose answers the test releases one at a time. */
function gatedInsert(existing: string[]) {
  const ids = new Set(existing);
  const calls: string[][] = [];
  const gates: (() => void)[] = [];
  let fail = false;
  const insertMany = (docs: Doc[]): Promise<InsertOutcome[]> => {
    calls.push(docs.map((d) => d._id));
    return new Promise((resolve, reject) =>
      gates.push(() => {
        if (fail) return reject(new Error('store down'));
        resolve(
          docs.map((d): InsertOutcome => {
            if (d._id.startsWith('bad')) return new Error(`document ${d._id} failed validation`);
            if (ids.has(d._id)) return 'duplicate';
            ids.add(d._id);
            return 'inserted';
          }),
        );
      }),
    );
  };
  const release = async (): Promise<void> => {
    gates.shift()!();
    await turns();
  };
  return { calls, insertMany, release, failNext: (f: boolean) => (fail = f) };
}

describe('gateway: BatchedInsert', function () {
  it('sends the documents of one turn together, those submitted meanwhile in the next, each told its outcome', async function () {
    const q = gatedInsert(['old']);
    const batcher = new BatchedInsert<Doc>(q.insertMany);
    const first = batcher.insert({ _id: 'a' });
    assert.deepEqual(q.calls, [], 'sent at the end of the turn');
    await turns();
    assert.deepEqual(q.calls, [['a']]);
    const rest = [batcher.insert({ _id: 'b' }), batcher.insert({ _id: 'old' }), batcher.insert({ _id: 'b' })];
    assert.equal(q.calls.length, 1, 'the others wait for the running insert');
    await q.release();
    assert.equal(await first, true);
    assert.deepEqual(q.calls, [['a'], ['b', 'old', 'b']]);
    await q.release();
    assert.deepEqual(await Promise.all(rest), [true, false, false], 'a duplicate, also within one batch, is refused');
  });

  it('splits more than maxDocs waiting documents over several commands', async function () {
    const q = gatedInsert([]);
    const batcher = new BatchedInsert<Doc>(q.insertMany, 2);
    const all = ['a', 'b', 'c', 'd', 'e'].map((id) => batcher.insert({ _id: id }));
    await turns();
    for (let i = 0; i < 3; i++) await q.release();
    assert.deepEqual(q.calls, [['a', 'b'], ['c', 'd'], ['e']]);
    assert.deepEqual(await Promise.all(all), [true, true, true, true, true]);
  });

  it('rejects only the caller whose document failed; the rest of its batch is told its outcome', async function () {
    const q = gatedInsert(['old']);
    const batcher = new BatchedInsert<Doc>(q.insertMany);
    const [a, bad, old] = [
      batcher.insert({ _id: 'a' }),
      batcher.insert({ _id: 'bad1' }),
      batcher.insert({ _id: 'old' }),
    ];
    const badOutcome = assert.rejects(bad, /document bad1 failed validation/);
    await turns();
    await q.release();
    await badOutcome;
    assert.deepEqual([await a, await old], [true, false]);
  });

  it('rejects the callers of a failed command and goes on with the next', async function () {
    const q = gatedInsert([]);
    const batcher = new BatchedInsert<Doc>(q.insertMany);
    q.failNext(true);
    const failed = assert.rejects(batcher.insert({ _id: 'a' }), /store down/);
    await turns();
    const next = batcher.insert({ _id: 'b' });
    await q.release();
    await failed;
    q.failNext(false);
    await q.release();
    assert.equal(await next, true);
  });

  it('rejects the callers of an insert that throws instead of rejecting, and goes on', async function () {
    let fail = true;
    const batcher = new BatchedInsert<Doc>((docs) => {
      if (fail) throw new Error('bad insert');
      return Promise.resolve(docs.map((): InsertOutcome => 'inserted'));
    });
    await assert.rejects(batcher.insert({ _id: 'a' }), /bad insert/);
    fail = false;
    assert.equal(await batcher.insert({ _id: 'b' }), true);
  });
});
