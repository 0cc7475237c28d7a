import assert from 'node:assert/strict';
import {
  decideRange,
  ifRangeAllows,
  noneMatchHits,
  type RangeDecision,
} from '../../../services/file-service/src/range.js';

describe('file-service: Range decisions (RFC 9110)', function () {
  const size = 1000;
  const cases: [string | undefined, number, RangeDecision][] = [
    [undefined, size, { kind: 'full' }],
    ['bytes=0-0', size, { kind: 'partial', start: 0, end: 0 }],
    ['bytes=0-499', size, { kind: 'partial', start: 0, end: 499 }],
    ['bytes=500-', size, { kind: 'partial', start: 500, end: 999 }],
    ['bytes=-500', size, { kind: 'partial', start: 500, end: 999 }],
    ['bytes=-5000', size, { kind: 'partial', start: 0, end: 999 }],
    ['bytes=999-999', size, { kind: 'partial', start: 999, end: 999 }],
    ['bytes=990-5000', size, { kind: 'partial', start: 990, end: 999 }],
    ['BYTES = 1-2', size, { kind: 'partial', start: 1, end: 2 }],
    ['bytes=1000-', size, { kind: 'unsatisfiable', reason: 'range starts beyond the end' }],
    ['bytes=1000-1001', size, { kind: 'unsatisfiable', reason: 'range starts beyond the end' }],
    ['bytes=-0', size, { kind: 'unsatisfiable', reason: 'empty suffix range' }],
    ['bytes=5-3', size, { kind: 'unsatisfiable', reason: 'malformed range' }],
    ['bytes=abc', size, { kind: 'unsatisfiable', reason: 'malformed range' }],
    ['bytes=-', size, { kind: 'unsatisfiable', reason: 'malformed range' }],
    ['bytes=', size, { kind: 'unsatisfiable', reason: 'malformed range' }],
    ['bytes=0-1,5-6', size, { kind: 'unsatisfiable', reason: 'only a single range is supported' }],
    ['bytes=0-100,50-150', size, { kind: 'unsatisfiable', reason: 'only a single range is supported' }],
    [`bytes=${'0-1,'.repeat(100)}0-1`, size, { kind: 'unsatisfiable', reason: 'range header too long' }],
    ['bytes=99999999999999999999-', size, { kind: 'unsatisfiable', reason: 'malformed range' }],
    ['items=0-5', size, { kind: 'full' }],
    ['bytes=0-0', 0, { kind: 'full' }],
    ['bytes=-500', 0, { kind: 'full' }],
  ];
  for (const [header, n, want] of cases) {
    it(`${JSON.stringify(header)} on ${n} bytes → ${want.kind}`, function () {
      assert.deepEqual(decideRange(header, n), want);
    });
  }

  it('If-Range applies the range only for the current strong ETag', function () {
    assert.equal(ifRangeAllows(undefined, '"abc"'), true);
    assert.equal(ifRangeAllows('"abc"', '"abc"'), true);
    assert.equal(ifRangeAllows('"old"', '"abc"'), false);
    assert.equal(ifRangeAllows('Wed, 21 Oct 2015 07:28:00 GMT', '"abc"'), false);
  });

  it('If-None-Match uses weak comparison over a list, and *', function () {
    assert.equal(noneMatchHits(undefined, '"a"'), false);
    assert.equal(noneMatchHits('"a"', '"a"'), true);
    assert.equal(noneMatchHits('W/"a"', '"a"'), true);
    assert.equal(noneMatchHits('"x", "a"', '"a"'), true);
    assert.equal(noneMatchHits('"x"', '"a"'), false);
    assert.equal(noneMatchHits('*', '"a"'), true);
  });
});
