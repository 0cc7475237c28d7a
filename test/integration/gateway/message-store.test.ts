// The bookkeeping writes of the message store on the real store: a counter
// hint or a delivery cursor only ever rises, whether the document exists or
// not and whichever way the caller guessed that (insert first or update first).
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { insertManyOutcomes, MessageStore } from '../../../services/gateway/src/message-store.js';
import { startStore, type Store } from '../../support/index.js';

describe('message store bookkeeping (real store)', function () {
  this.timeout(120_000);
  let store: Store;
  let mongo: MongoClient;
  let ms: MessageStore;

  before(async function () {
    store = await startStore();
    mongo = await new MongoClient(store.url).connect();
    ms = new MessageStore(mongo.db());
  });
  after(async function () {
    await mongo?.close();
    await store?.stop();
  });

  it('tells each document of an unordered insert its own outcome', async function () {
    const col = mongo.db().collection<{ _id: string; [k: string]: unknown }>('outcomes');
    await col.insertOne({ _id: 'taken' });
    const out = await insertManyOutcomes(col, [
      { _id: 'new' },
      { _id: 'taken' },
      { _id: 'bad', $weird: 1 },
      { _id: 'new' },
      { _id: 'also-new' },
    ]);
    assert.deepEqual(
      out.map((o) => (o instanceof Error ? 'error' : o)),
      ['inserted', 'duplicate', 'error', 'duplicate', 'inserted'],
    );
    assert.deepEqual(
      (await col.find({}).sort({ _id: 1 }).toArray()).map((d) => d._id),
      ['also-new', 'new', 'taken'],
    );
  });

  for (const fresh of [true, false]) {
    it(`raises a counter hint with the ${fresh ? 'insert' : 'update'} tried first`, async function () {
      const user = `u-${fresh}`;
      await ms.raiseCounter(user, 16, fresh); // missing document
      assert.deepEqual(await ms.getCounter(user), { seq: 16, trimmed: 0 });
      await ms.raiseCounter(user, 32, fresh); // existing document
      assert.deepEqual(await ms.getCounter(user), { seq: 32, trimmed: 0 });
      await ms.raiseCounter(user, 20, fresh); // a late, lower hint does not move it back
      assert.deepEqual(await ms.getCounter(user), { seq: 32, trimmed: 0 });
      await ms.raiseTrimmed(user, 5);
      assert.deepEqual(await ms.getCounter(user), { seq: 32, trimmed: 5 });
    });

    it(`advances a delivery cursor with the ${fresh ? 'insert' : 'update'} tried first`, async function () {
      const user = `c-${fresh}`;
      await ms.advanceCursor(user, 'phone', 3, fresh);
      assert.equal(await ms.getCursor(user, 'phone'), 3);
      await ms.advanceCursor(user, 'phone', 9, fresh);
      await ms.advanceCursor(user, 'phone', 4, fresh);
      assert.equal(await ms.getCursor(user, 'phone'), 9);
      assert.equal(await ms.getCursor(user, 'tablet'), 0);
    });
  }
});
