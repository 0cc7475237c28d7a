import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { derivedTimings } from '../../../services/file-service/src/context.js';
import { HashCache } from '../../../services/file-service/src/hash-cache.js';
import { isValidId, newId } from '../../../services/file-service/src/ids.js';

describe('file-service: hash continuation, timings, ids', function () {
  it('continues a hash only from the exact offset it stopped at', function () {
    const c = new HashCache();
    const h = c.take('u', 0)!;
    h.update('hello ');
    c.put('u', 6, h);
    assert.equal(c.take('u', 5), undefined);
    const more = c.take('u', 6)!;
    more.update('world');
    assert.equal(more.digest('hex'), crypto.createHash('sha256').update('hello world').digest('hex'));
    // take() hands out copies: a refused PATCH leaves the stored state intact.
    const again = c.take('u', 6)!;
    again.update('world');
    assert.equal(again.digest('hex'), crypto.createHash('sha256').update('hello world').digest('hex'));
    c.forget('u');
    assert.equal(c.take('u', 6), undefined);
  });

  it('derives touch, stale and lease times from the body timeout', function () {
    assert.deepEqual(derivedTimings(30_000), { touchMs: 10_000, staleMs: 60_000, lockLeaseMs: 50_000 });
    assert.deepEqual(derivedTimings(2000), { touchMs: 1000, staleMs: 5000, lockLeaseMs: 4000 });
    assert.deepEqual(derivedTimings(100), { touchMs: 500, staleMs: 1600, lockLeaseMs: 1100 });
  });

  it('ids are 128 random bits in base64url', function () {
    const ids = new Set(Array.from({ length: 1000 }, newId));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.ok(isValidId(id), id);
    for (const bad of ['', 'short', 'AAAAAAAAAAAAAAAAAAAAA/', '../AAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAAAAA']) {
      assert.ok(!isValidId(bad), bad);
    }
  });
});
