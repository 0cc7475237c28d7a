// "Is what we want already there?" — containment with API-server normalisation.
import assert from 'node:assert/strict';
import { containedIn, firstDifference, jsonEqual } from '../../../operator/src/kube/semantic.js';
import { parseQuantity, quantitiesEqual } from '../../../operator/src/kube/quantity.js';

describe('operator semantic comparison', function () {
  const table: { what: string; desired: unknown; observed: unknown; diff: string | undefined }[] = [
    { what: 'equal', desired: { a: 1 }, observed: { a: 1 }, diff: undefined },
    { what: 'server-added fields', desired: { a: 1 }, observed: { a: 1, b: 2 }, diff: undefined },
    { what: 'a changed value', desired: { a: { b: 'x' } }, observed: { a: { b: 'y' } }, diff: '.a.b' },
    { what: 'a missing field', desired: { a: 1 }, observed: {}, diff: '.a' },
    { what: 'a list of another length', desired: { l: [1, 2] }, observed: { l: [1, 2, 3] }, diff: '.l' },
    {
      what: 'defaults inside list entries',
      desired: { l: [{ n: 'a' }] },
      observed: { l: [{ n: 'a', p: 'TCP' }] },
      diff: undefined,
    },
    { what: 'an empty string omitted', desired: { v: '' }, observed: {}, diff: undefined },
    { what: 'false omitted', desired: { v: false }, observed: {}, diff: undefined },
    { what: 'an empty list omitted', desired: { v: [] }, observed: {}, diff: undefined },
    { what: 'an empty map omitted', desired: { v: {} }, observed: {}, diff: undefined },
    {
      what: 'a quantity normalised',
      desired: { limits: { cpu: '0.5' } },
      observed: { limits: { cpu: '500m' } },
      diff: undefined,
    },
    {
      what: 'a memory quantity',
      desired: { requests: { memory: '1Gi' } },
      observed: { requests: { memory: '1024Mi' } },
      diff: undefined,
    },
    {
      what: 'a different quantity',
      desired: { requests: { memory: '1Gi' } },
      observed: { requests: { memory: '1G' } },
      diff: '.requests.memory',
    },
    {
      what: 'sizeLimit',
      desired: { emptyDir: { sizeLimit: '64Mi' } },
      observed: { emptyDir: { sizeLimit: '67108864' } },
      diff: undefined,
    },
    {
      what: 'strings are not quantities elsewhere',
      desired: { image: '1' },
      observed: { image: '1.0' },
      diff: '.image',
    },
    { what: 'the root', desired: 1, observed: 2, diff: '.' },
  ];
  for (const t of table) {
    it(`${t.what}: ${t.diff ?? 'contained'}`, function () {
      assert.equal(firstDifference(t.desired, t.observed), t.diff);
      assert.equal(containedIn(t.desired, t.observed), t.diff === undefined);
    });
  }

  const quantities: [string | number, number | undefined][] = [
    ['100m', 0.1],
    ['1', 1],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['2k', 2000],
    ['1e3', 1000],
    [512, 512],
    ['x', undefined],
  ];
  for (const [q, want] of quantities) {
    it(`quantity ${q} = ${want}`, function () {
      assert.equal(parseQuantity(q), want);
    });
  }
  it('compares quantities by value', function () {
    assert.ok(quantitiesEqual('1000m', '1'));
    assert.ok(!quantitiesEqual('1', 'x'));
  });

  it('jsonEqual ignores key order and undefined members', function () {
    assert.ok(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined }));
    assert.ok(!jsonEqual({ a: [1] }, { a: [1, 2] }));
    assert.ok(!jsonEqual({ a: 1 }, { a: 1, b: 2 }));
  });
});
