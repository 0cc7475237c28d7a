// History paging: newest first, pages joined by next_before_seq until has_more
// is false, each message once; tombstones and other peers' messages skipped;
// a retried send stored twice (one msg_id) shown once on a page.
import assert from 'node:assert/strict';
import { readHistory, historyLimit } from '../../../services/gateway/src/history.js';
import { FakeStore } from './fake-store.js';

function inbox(): FakeStore {
  const store = new FakeStore();
  for (let seq = 1; seq <= 25; seq++) {
    store.put({
      to: 'bob',
      seq,
      from: seq % 2 ? 'alice' : 'carol',
      mime: `[{"type":"text","text":"${seq}"}]`,
      cmid: `c${seq}`,
      msgId: seq === 12 ? 'm10' : `m${seq}`, // 12 is a second copy of 10
      sentAt: seq,
      tomb: seq === 7 ? true : undefined,
    });
  }
  return store;
}

async function allPages(store: FakeStore, limit: number, keep?: (d: { from: string }) => boolean): Promise<number[][]> {
  const pages: number[][] = [];
  let before = 0;
  for (;;) {
    const page = await readHistory(store.asStore(), 'bob', before, limit, keep);
    pages.push(page.messages.map((m) => m.seq));
    if (!page.has_more) return pages;
    assert.ok(page.next_before_seq > 0 && (before === 0 || page.next_before_seq < before), 'paging moves back');
    before = page.next_before_seq;
  }
}

describe('history paging', function () {
  it('pages back from the newest, skipping tombstones, each message once', async function () {
    const pages = await allPages(inbox(), 10);
    assert.deepEqual(pages, [
      [25, 24, 23, 22, 21, 20, 19, 18, 17, 16],
      [15, 14, 13, 12, 11, 9, 8, 6, 5, 4],
      [3, 2, 1],
    ]);
  });

  it('keeps only one peer’s messages when asked', async function () {
    const pages = await allPages(inbox(), 5, (d) => d.from === 'carol');
    // 10 and 12 are one message (12 the retried copy): shown once, as 12.
    assert.deepEqual(pages, [[24, 22, 20, 18, 16], [14, 12, 8, 6, 4], [2]]);
  });

  it('shows a message stored twice under one msg_id once on a page', async function () {
    const [page] = await allPages(inbox(), 100);
    assert.equal(page!.filter((s) => s === 10 || s === 12).length, 1);
    assert.equal(page!.length, 23); // 25, less the tombstone, less one copy
  });

  it('refuses bad paging arguments', function () {
    assert.throws(() => historyLimit(-1, 10), /before_seq must be ≥ 0/);
    assert.throws(() => historyLimit(0, 101), /limit must be between 1 and 100/);
    assert.throws(() => historyLimit(0.5, 10), /before_seq must be ≥ 0/);
    assert.equal(historyLimit(0, 0), 20);
  });
});
