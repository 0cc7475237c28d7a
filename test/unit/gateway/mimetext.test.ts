// MimeText: both forms validated strictly against one table, converted
// losslessly (property tests), and every kind of bad input refused with the
// exact path and reason.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ATTRIBUTE_NUMBERS,
  KIND_NUMBERS,
  MimeTextError,
  detectForm,
  parseMimeText,
  plainText,
  stringifyMimeText,
  toCompact,
  toNamed,
  validateCompact,
  validateNamed,
  type MimeItem,
  type MimeText,
} from '../../../services/gateway/src/mimetext.js';

// ---------------------------------------------------------------- generators
/* eslint-disable no-control-regex -- the generators strip control characters on purpose */
const str = (max: number, min = 0): fc.Arbitrary<string> =>
  fc.string({ unit: 'grapheme', minLength: min, maxLength: max }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s));
const color = fc
  .tuple(fc.integer({ min: 0, max: 0xffffff }), fc.boolean(), fc.integer({ min: 0, max: 255 }))
  .map(([c, alpha, a]) => `#${c.toString(16).padStart(6, '0')}${alpha ? a.toString(16).padStart(2, '0') : ''}`);
const fileUri = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/).map((id) => `/files/${id}`),
  fc.webUrl(),
);
const lon = fc.double({ min: -180, max: 180, noNaN: true });
const lat = fc.double({ min: -90, max: 90, noNaN: true });

const text: fc.Arbitrary<MimeItem> = fc.record(
  {
    type: fc.constant('text' as const),
    text: fc.string({ maxLength: 50 }).map((s) => s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')),
    'bg-color': color,
    color,
    'font-name': str(20, 1),
    'font-size': fc.integer({ min: 1, max: 256 }),
    bold: fc.boolean(),
    italic: fc.boolean(),
    link: fc.webUrl(),
  },
  { requiredKeys: ['type', 'text'] },
);
const image: fc.Arbitrary<MimeItem> = fc.record(
  {
    type: fc.constant('image' as const),
    id: str(20, 1),
    width: fc.integer({ min: 0, max: 65535 }),
    height: fc.integer({ min: 0, max: 65535 }),
    uri: fileUri,
  },
  { requiredKeys: ['type', 'id', 'uri'] },
);
const audio: fc.Arbitrary<MimeItem> = fc.record(
  {
    type: fc.constant('audio' as const),
    id: str(20, 1),
    duration: fc.integer({ min: 0, max: 86_400_000 }),
    uri: fileUri,
  },
  { requiredKeys: ['type', 'id', 'uri'] },
);
const location: fc.Arbitrary<MimeItem> = fc.record(
  {
    type: fc.constant('location' as const),
    lon,
    lat,
    time: fc.integer({ min: 0, max: 4_000_000_000_000 }),
    speed: fc.double({ min: 0, max: 1e6, noNaN: true }),
    direction: fc.double({ min: 0, max: 360, maxExcluded: true, noNaN: true }),
    text: str(40),
  },
  { requiredKeys: ['type', 'lon', 'lat'] },
);
const emoticon: fc.Arbitrary<MimeItem> = fc.record({ type: fc.constant('emoticon' as const), id: str(20, 1) });
const mimeText: fc.Arbitrary<MimeText> = fc.array(fc.oneof(text, image, audio, location, emoticon), {
  minLength: 1,
  maxLength: 8,
});

/** Drops -0 the way JSON does, so values compare after a JSON round trip. */
const viaJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function rejects(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof MimeTextError, `expected MimeTextError, got ${String(err)}`);
    assert.equal(err.message, message);
    return true;
  });
}

// ---------------------------------------------------------------- tests
describe('MimeText', function () {
  describe('numbering (the seed order)', function () {
    it('numbers kinds text=1 … emoticon=5', function () {
      assert.deepEqual(KIND_NUMBERS, { text: 1, image: 2, audio: 3, location: 4, emoticon: 5 });
    });

    it('numbers attributes from 1 per kind in the seed order', function () {
      assert.deepEqual(ATTRIBUTE_NUMBERS, {
        text: { text: 1, 'bg-color': 2, color: 3, 'font-name': 4, 'font-size': 5, bold: 6, italic: 7, link: 8 },
        image: { id: 1, width: 2, height: 3, uri: 4 },
        audio: { id: 1, duration: 2, uri: 3 },
        location: { lon: 1, lat: 2, time: 3, speed: 4, direction: 5, text: 6 },
        emoticon: { id: 1 },
      });
    });

    it('converts a documented example both ways', function () {
      const named: MimeText = [
        { type: 'text', text: 'Hi ', bold: true, italic: false, color: '#ff0000' },
        { type: 'emoticon', id: 'smile' },
        { type: 'image', id: 'f1', width: 640, height: 480, uri: '/files/f1' },
        { type: 'audio', id: 'a1', duration: 3500, uri: 'https://files.example.com/files/a1' },
        { type: 'location', lon: 116.39, lat: 39.9, time: 1700000000000, speed: 1.5, direction: 90, text: 'Beijing' },
      ];
      const compact = [
        { '0': 1, '1': 'Hi ', '3': '#ff0000', '6': 1, '7': 0 },
        { '0': 5, '1': 'smile' },
        { '0': 2, '1': 'f1', '2': 640, '3': 480, '4': '/files/f1' },
        { '0': 3, '1': 'a1', '2': 3500, '3': 'https://files.example.com/files/a1' },
        { '0': 4, '1': 116.39, '2': 39.9, '3': 1700000000000, '4': 1.5, '5': 90, '6': 'Beijing' },
      ];
      assert.deepEqual(toCompact(named), compact);
      assert.deepEqual(toNamed(compact), validateNamed(named));
      assert.equal(
        plainText(named),
        'Hi :smile:[image /files/f1][audio https://files.example.com/files/a1][location 39.9,116.39 Beijing]',
      );
    });
  });

  describe('lossless conversion (properties)', function () {
    it('named → compact → named is the identity', function () {
      fc.assert(
        fc.property(mimeText, (m) => {
          const canonical = validateNamed(m);
          assert.deepEqual(toNamed(toCompact(m)), canonical);
        }),
        { numRuns: 500 },
      );
    });

    it('compact → named → compact is the identity', function () {
      fc.assert(
        fc.property(mimeText, (m) => {
          const compact = toCompact(m);
          assert.deepEqual(toCompact(toNamed(compact)), compact);
          assert.deepEqual(validateCompact(compact), compact);
        }),
        { numRuns: 500 },
      );
    });

    it('survives JSON in both forms and parses to the same canonical text', function () {
      fc.assert(
        fc.property(mimeText, (m) => {
          const a = parseMimeText(stringifyMimeText(m, 'named'));
          const b = parseMimeText(stringifyMimeText(m, 'compact'));
          assert.equal(a.form, 'named');
          assert.equal(b.form, 'compact');
          assert.equal(a.canonical, b.canonical);
          assert.deepEqual(a.items, viaJson(validateNamed(m)));
          assert.deepEqual(parseMimeText(a.canonical).items, a.items);
        }),
        { numRuns: 300 },
      );
    });

    it('keeps false booleans and absent attributes apart', function () {
      const m: MimeText = [{ type: 'text', text: 'x', bold: false }];
      assert.deepEqual(toCompact(m), [{ '0': 1, '1': 'x', '6': 0 }]);
      assert.deepEqual(toNamed(toCompact(m)), m);
      assert.equal('italic' in toNamed(toCompact(m))[0]!, false);
    });

    it('canonicalises key order (type first, then the seed order)', function () {
      const p = parseMimeText('[{"bold":true,"text":"a","type":"text"}]');
      assert.equal(p.canonical, '[{"type":"text","text":"a","bold":true}]');
    });

    it('mutating any single valid item into a foreign attribute is refused', function () {
      fc.assert(
        fc.property(mimeText, fc.nat(), (m, pick) => {
          const i = pick % m.length;
          const bad = m.map((it, j) => (j === i ? { ...it, nonsense: 1 } : it));
          assert.throws(() => validateNamed(bad), MimeTextError);
          const compact = toCompact(m).map((it, j) => (j === i ? { ...it, '99': 1 } : it));
          assert.throws(() => validateCompact(compact), MimeTextError);
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('strict validation (exact messages)', function () {
    const cases: [string, string, string][] = [
      ['not JSON', '[{', 'mime_text: not valid JSON'],
      ['not an array', '{"type":"text","text":"a"}', 'mime_text: expected a JSON array of items, got an object'],
      ['empty', '[]', 'mime_text: needs at least one item'],
      ['neither form', '[{"x":1}]', 'mime_text[0]: an item needs "type" (named form) or "0" (compact form)'],
      ['item not object', '[1]', 'mime_text[0]: an item needs "type" (named form) or "0" (compact form)'],
      [
        'unknown kind',
        '[{"type":"video","id":"x"}]',
        'mime_text[0].type: expected one of text, image, audio, location, emoticon, got "video"',
      ],
      ['missing required', '[{"type":"image","id":"x"}]', 'mime_text[0].uri: is required'],
      [
        'unknown attribute',
        '[{"type":"text","text":"a","size":3}]',
        'mime_text[0].size: unknown attribute of a text item',
      ],
      ['wrong type', '[{"type":"text","text":5}]', 'mime_text[0].text: expected a string, got 5'],
      [
        'bool as number (named)',
        '[{"type":"text","text":"a","bold":1}]',
        'mime_text[0].bold: expected true or false, got 1',
      ],
      [
        'font size as string',
        '[{"type":"text","text":"a","font-size":"12"}]',
        'mime_text[0].font-size: expected an integer between 1 and 256, got "12"',
      ],
      [
        'fractional width',
        '[{"type":"image","id":"i","uri":"/files/i","width":1.5}]',
        'mime_text[0].width: expected an integer between 0 and 65535, got 1.5',
      ],
      [
        'bad color',
        '[{"type":"text","text":"a","color":"red"}]',
        'mime_text[0].color: expected a color like "#rrggbb" or "#rrggbbaa", got "red"',
      ],
      [
        'latitude out of range',
        '[{"type":"location","lon":0,"lat":91}]',
        'mime_text[0].lat: expected a number from -90 at most 90, got 91',
      ],
      [
        'direction 360',
        '[{"type":"location","lon":0,"lat":0,"direction":360}]',
        'mime_text[0].direction: expected a number from 0 below 360, got 360',
      ],
      [
        'data URI (binary inside a message)',
        '[{"type":"image","id":"i","uri":"data:image/png;base64,AAAA"}]',
        'mime_text[0].uri: expected a URI (http:, https: or /files/<id>), got "data:image/png;base64,AAAA"',
      ],
      [
        'javascript link',
        '[{"type":"text","text":"a","link":"javascript:alert(1)"}]',
        'mime_text[0].link: expected a URI (http:, https:, mailto:, tel:), got "javascript:alert(1)"',
      ],
      ['control characters', '[{"type":"emoticon","id":"a\\u0000b"}]', 'mime_text[0].id: contains control characters'],
      [
        'lone surrogate',
        '[{"type":"text","text":"\\ud800"}]',
        'mime_text[0].text: contains a lone surrogate (not valid Unicode)',
      ],
      ['empty id', '[{"type":"emoticon","id":""}]', 'mime_text[0].id: must not be empty'],
      [
        'mixed forms',
        '[{"type":"emoticon","id":"a"},{"0":5,"1":"b"}]',
        'mime_text[1]: mixes the named and the compact form (one form per message)',
      ],
      [
        'mixed forms (compact first)',
        '[{"0":5,"1":"b"},{"type":"emoticon","id":"a"}]',
        'mime_text[1]: mixes the named and the compact form (one form per message)',
      ],
      ['compact unknown kind', '[{"0":6,"1":"x"}]', 'mime_text[0].0: expected a kind number from 1 to 5, got 6'],
      ['compact kind as string', '[{"0":"1","1":"x"}]', 'mime_text[0].0: expected a kind number from 1 to 5, got "1"'],
      [
        'compact unknown attribute',
        '[{"0":5,"1":"x","2":"y"}]',
        'mime_text[0].2: unknown attribute number of a emoticon item',
      ],
      ['compact named key', '[{"0":5,"id":"x"}]', 'mime_text[0].id: unknown attribute number of a emoticon item'],
      ['compact bool not 0/1', '[{"0":1,"1":"x","6":true}]', 'mime_text[0].6: (bold) expected 0 or 1, got true'],
      ['compact missing required', '[{"0":2,"1":"x"}]', 'mime_text[0].4: (uri) is required'],
      [
        'compact bad value',
        '[{"0":4,"1":200,"2":0}]',
        'mime_text[0].1: (lon) expected a number from -180 at most 180, got 200',
      ],
      [
        'compact leading-zero key',
        '[{"0":5,"01":"x"}]',
        'mime_text[0].01: unknown attribute number of a emoticon item',
      ],
    ];
    for (const [what, input, message] of cases) {
      it(`refuses ${what}`, function () {
        if (what === 'not JSON') {
          assert.throws(
            () => parseMimeText(input),
            (e: unknown) => e instanceof MimeTextError && e.message.startsWith(message),
          );
        } else rejects(() => parseMimeText(input), message);
      });
    }

    it('refuses too many items and oversize input', function () {
      const many = JSON.stringify(Array.from({ length: 65 }, () => ({ type: 'emoticon', id: 'a' })));
      rejects(() => parseMimeText(many), 'mime_text: more than 64 items (65)');
      rejects(
        () => parseMimeText(JSON.stringify([{ type: 'text', text: 'é'.repeat(600) }]), 1000),
        'mime_text: larger than 1000 bytes',
      );
      rejects(
        () => parseMimeText(JSON.stringify([{ type: 'text', text: 'a'.repeat(8193) }])),
        'mime_text[0].text: longer than 8192 characters (8193)',
      );
    });

    it('accepts newlines and tabs in text but not in other strings', function () {
      assert.equal(parseMimeText('[{"type":"text","text":"a\\nb\\tc"}]').items[0]!.type, 'text');
      rejects(
        () => parseMimeText('[{"type":"location","lon":0,"lat":0,"text":"a\\nb"}]'),
        'mime_text[0].text: contains control characters',
      );
    });

    it('detects the form', function () {
      assert.equal(detectForm([{ type: 'text' }]), 'named');
      assert.equal(detectForm([{ '0': 1 }]), 'compact');
      assert.equal(detectForm([]), undefined);
      assert.equal(detectForm('x'), undefined);
    });
  });
});
