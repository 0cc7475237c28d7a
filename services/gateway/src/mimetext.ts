// MimeText: the seed's rich text — an ordered list of items (text, image,
// audio, location, emoticon) — in its two JSON forms:
//   named    [{"type":"text","text":"hi","bold":true}, {"type":"emoticon","id":"smile"}]
//   compact  [{"0":1,"1":"hi","6":1}, {"0":5,"1":"smile"}]
// In the compact form key "0" holds the item kind (text=1 … emoticon=5) and the
// attributes are numbered from 1 per kind in the seed's order; booleans are 0/1.
// Both forms are validated strictly against one table (KINDS) and convert
// losslessly. Pure: no Node APIs, so the SDK uses it in browsers too.

export type Kind = 'text' | 'image' | 'audio' | 'location' | 'emoticon';

export interface TextItem {
  type: 'text';
  text: string;
  'bg-color'?: string;
  color?: string;
  'font-name'?: string;
  'font-size'?: number;
  bold?: boolean;
  italic?: boolean;
  link?: string;
}
export interface ImageItem {
  type: 'image';
  id: string;
  width?: number;
  height?: number;
  uri: string;
}
export interface AudioItem {
  type: 'audio';
  id: string;
  /** Milliseconds. */
  duration?: number;
  uri: string;
}
export interface LocationItem {
  type: 'location';
  lon: number;
  lat: number;
  /** ms since epoch. */
  time?: number;
  /** m/s. */
  speed?: number;
  /** Degrees clockwise from north, [0, 360). */
  direction?: number;
  text?: string;
}
export interface EmoticonItem {
  type: 'emoticon';
  id: string;
}
export type MimeItem = TextItem | ImageItem | AudioItem | LocationItem | EmoticonItem;
export type MimeText = MimeItem[];

/** One compact item: "0" → kind number, "<n>" → attribute n. */
export type CompactItem = Record<string, string | number>;
export type CompactMimeText = CompactItem[];

/** A validation failure: `path` locates the value (e.g. `[2].font-size`). */
export class MimeTextError extends Error {
  override name = 'MimeTextError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(path ? `mime_text${path}: ${problem}` : `mime_text: ${problem}`);
  }
}

export const LIMITS = {
  maxItems: 64,
  maxTextChars: 8192,
  maxShortChars: 128,
  maxUriChars: 2048,
  maxFontSize: 256,
  maxDimension: 65_535,
  maxDurationMs: 24 * 3600_000,
  maxTime: 8.64e15,
} as const;

type AttrType =
  | { t: 'string'; max: number; nonEmpty?: boolean; multiline?: boolean }
  | { t: 'color' }
  | { t: 'uri'; schemes: readonly string[]; allowFilesPath?: boolean }
  | { t: 'int'; min: number; max: number }
  | { t: 'number'; min: number; max: number; maxExclusive?: boolean }
  | { t: 'bool' };

interface AttrSpec {
  name: string;
  type: AttrType;
  required?: boolean;
}

const shortString: AttrType = { t: 'string', max: LIMITS.maxShortChars, nonEmpty: true };
const fileUri: AttrType = { t: 'uri', schemes: ['http', 'https'], allowFilesPath: true };

/**
 * The one table both forms are checked against. Order matters: the index in
 * `attrs` + 1 is the attribute's number in the compact form (the seed's order),
 * and the kind's index + 1 is its kind number. Never reorder; only append.
 */
const KINDS: readonly { kind: Kind; attrs: readonly AttrSpec[] }[] = [
  {
    kind: 'text',
    attrs: [
      { name: 'text', type: { t: 'string', max: LIMITS.maxTextChars, multiline: true }, required: true },
      { name: 'bg-color', type: { t: 'color' } },
      { name: 'color', type: { t: 'color' } },
      { name: 'font-name', type: shortString },
      { name: 'font-size', type: { t: 'int', min: 1, max: LIMITS.maxFontSize } },
      { name: 'bold', type: { t: 'bool' } },
      { name: 'italic', type: { t: 'bool' } },
      { name: 'link', type: { t: 'uri', schemes: ['http', 'https', 'mailto', 'tel'] } },
    ],
  },
  {
    kind: 'image',
    attrs: [
      { name: 'id', type: shortString, required: true },
      { name: 'width', type: { t: 'int', min: 0, max: LIMITS.maxDimension } },
      { name: 'height', type: { t: 'int', min: 0, max: LIMITS.maxDimension } },
      { name: 'uri', type: fileUri, required: true },
    ],
  },
  {
    kind: 'audio',
    attrs: [
      { name: 'id', type: shortString, required: true },
      { name: 'duration', type: { t: 'int', min: 0, max: LIMITS.maxDurationMs } },
      { name: 'uri', type: fileUri, required: true },
    ],
  },
  {
    kind: 'location',
    attrs: [
      { name: 'lon', type: { t: 'number', min: -180, max: 180 }, required: true },
      { name: 'lat', type: { t: 'number', min: -90, max: 90 }, required: true },
      { name: 'time', type: { t: 'int', min: 0, max: LIMITS.maxTime } },
      { name: 'speed', type: { t: 'number', min: 0, max: 1e6 } },
      { name: 'direction', type: { t: 'number', min: 0, max: 360, maxExclusive: true } },
      { name: 'text', type: { t: 'string', max: 1024 } },
    ],
  },
  { kind: 'emoticon', attrs: [{ name: 'id', type: shortString, required: true }] },
];

const KIND_BY_NAME = new Map(KINDS.map((k, i) => [k.kind, { ...k, no: i + 1 }]));

/** Kind number (compact form) of each kind. */
export const KIND_NUMBERS: Readonly<Record<Kind, number>> = Object.fromEntries(
  KINDS.map((k, i) => [k.kind, i + 1]),
) as Record<Kind, number>;

/** Attribute numbers per kind (compact form), in the seed's order. */
export const ATTRIBUTE_NUMBERS: Readonly<Record<Kind, Readonly<Record<string, number>>>> = Object.fromEntries(
  KINDS.map((k) => [k.kind, Object.fromEntries(k.attrs.map((a, i) => [a.name, i + 1]))]),
) as Record<Kind, Record<string, number>>;

export type MimeForm = 'named' | 'compact';

const MIXED = 'mixes the named and the compact form (one form per message)';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

// eslint-disable-next-line no-control-regex
const CONTROL_SINGLE_LINE = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_MULTILINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const COLOR = /^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/;
const FILES_PATH = /^\/files\/[A-Za-z0-9._~%-]+$/;

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** Checks one attribute value (named-form representation: booleans are booleans). */
function checkValue(type: AttrType, v: unknown, path: string): void {
  switch (type.t) {
    case 'string': {
      if (typeof v !== 'string') throw new MimeTextError(path, `expected a string, got ${show(v)}`);
      checkString(v, path, type.max, type.multiline ?? false);
      if (type.nonEmpty && v.length === 0) throw new MimeTextError(path, 'must not be empty');
      return;
    }
    case 'color':
      if (typeof v !== 'string' || !COLOR.test(v)) {
        throw new MimeTextError(path, `expected a color like "#rrggbb" or "#rrggbbaa", got ${show(v)}`);
      }
      return;
    case 'uri': {
      if (typeof v !== 'string') throw new MimeTextError(path, `expected a URI string, got ${show(v)}`);
      checkString(v, path, LIMITS.maxUriChars, false);
      if (type.allowFilesPath && FILES_PATH.test(v)) return;
      const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(v);
      const scheme = m?.[1]?.toLowerCase();
      if (!scheme || !type.schemes.includes(scheme) || /\s/.test(v) || !validUrl(v)) {
        const allowed = type.schemes.map((s) => `${s}:`).join(', ') + (type.allowFilesPath ? ' or /files/<id>' : '');
        throw new MimeTextError(path, `expected a URI (${allowed}), got ${show(v)}`);
      }
      return;
    }
    case 'int':
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < type.min || v > type.max) {
        throw new MimeTextError(path, `expected an integer between ${type.min} and ${type.max}, got ${show(v)}`);
      }
      return;
    case 'number': {
      const over = type.maxExclusive ? (n: number): boolean => n >= type.max : (n: number): boolean => n > type.max;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < type.min || over(v)) {
        const hi = type.maxExclusive ? `below ${type.max}` : `at most ${type.max}`;
        throw new MimeTextError(path, `expected a number from ${type.min} ${hi}, got ${show(v)}`);
      }
      return;
    }
    case 'bool':
      if (typeof v !== 'boolean') throw new MimeTextError(path, `expected true or false, got ${show(v)}`);
      return;
  }
}

/** -0 becomes 0: JSON cannot carry the sign of zero, and lossless round trips go through JSON. */
const normalise = (v: unknown): unknown => (v === 0 ? 0 : v);

function validUrl(v: string): boolean {
  try {
    new URL(v);
    return true;
  } catch {
    return false;
  }
}

function checkString(v: string, path: string, max: number, multiline: boolean): void {
  if (v.length > max) throw new MimeTextError(path, `longer than ${max} characters (${v.length})`);
  if (LONE_SURROGATE.test(v)) throw new MimeTextError(path, 'contains a lone surrogate (not valid Unicode)');
  if ((multiline ? CONTROL_MULTILINE : CONTROL_SINGLE_LINE).test(v)) {
    throw new MimeTextError(path, 'contains control characters');
  }
}

function checkItemCount(v: unknown): asserts v is unknown[] {
  if (!Array.isArray(v)) throw new MimeTextError('', `expected a JSON array of items, got ${show(v)}`);
  if (v.length === 0) throw new MimeTextError('', 'needs at least one item');
  if (v.length > LIMITS.maxItems) throw new MimeTextError('', `more than ${LIMITS.maxItems} items (${v.length})`);
}

/** Validates a value in the named form and returns it in canonical key order (a fresh copy). */
export function validateNamed(value: unknown): MimeText {
  checkItemCount(value);
  return value.map((item, i) => {
    const at = `[${i}]`;
    if (!isPlainObject(item)) throw new MimeTextError(at, `expected an item object, got ${show(item)}`);
    if (!('type' in item) && '0' in item) throw new MimeTextError(at, MIXED);
    const kind = item.type;
    const spec = typeof kind === 'string' ? KIND_BY_NAME.get(kind as Kind) : undefined;
    if (!spec) {
      throw new MimeTextError(
        `${at}.type`,
        `expected one of ${KINDS.map((k) => k.kind).join(', ')}, got ${show(kind)}`,
      );
    }
    const known = new Set(spec.attrs.map((a) => a.name));
    for (const k of Object.keys(item)) {
      if (k !== 'type' && !known.has(k))
        throw new MimeTextError(`${at}.${k}`, `unknown attribute of a ${spec.kind} item`);
    }
    const out: Record<string, unknown> = { type: spec.kind };
    for (const a of spec.attrs) {
      const v = item[a.name];
      if (v === undefined) {
        if (a.required) throw new MimeTextError(`${at}.${a.name}`, 'is required');
        continue;
      }
      checkValue(a.type, v, `${at}.${a.name}`);
      out[a.name] = normalise(v);
    }
    return out as unknown as MimeItem;
  });
}

/** Validates a value in the compact form and returns it with keys in numeric order (a fresh copy). */
export function validateCompact(value: unknown): CompactMimeText {
  return toCompact(compactToNamed(value));
}

function compactToNamed(value: unknown): MimeText {
  checkItemCount(value);
  return value.map((item, i) => {
    const at = `[${i}]`;
    if (!isPlainObject(item)) throw new MimeTextError(at, `expected an item object, got ${show(item)}`);
    if (!('0' in item) && 'type' in item) throw new MimeTextError(at, MIXED);
    const kindNo = item['0'];
    const spec = typeof kindNo === 'number' && Number.isInteger(kindNo) ? KINDS[kindNo - 1] : undefined;
    if (!spec)
      throw new MimeTextError(`${at}.0`, `expected a kind number from 1 to ${KINDS.length}, got ${show(kindNo)}`);
    for (const k of Object.keys(item)) {
      const n = /^(0|[1-9][0-9]{0,2})$/.test(k) ? Number(k) : NaN;
      if (!(n >= 0 && n <= spec.attrs.length)) {
        throw new MimeTextError(`${at}.${k}`, `unknown attribute number of a ${spec.kind} item`);
      }
    }
    const out: Record<string, unknown> = { type: spec.kind };
    spec.attrs.forEach((a, j) => {
      const key = String(j + 1);
      const path = `${at}.${key}`;
      let v = item[key];
      if (v === undefined) {
        if (a.required) throw new MimeTextError(path, `(${a.name}) is required`);
        return;
      }
      if (a.type.t === 'bool') {
        if (v !== 0 && v !== 1) throw new MimeTextError(path, `(${a.name}) expected 0 or 1, got ${show(v)}`);
        v = v === 1;
      }
      try {
        checkValue(a.type, v, path);
      } catch (err) {
        if (err instanceof MimeTextError) throw new MimeTextError(path, `(${a.name}) ${err.problem}`);
        throw err;
      }
      out[a.name] = normalise(v);
    });
    return out as unknown as MimeItem;
  });
}

/** Named → compact. The input must be valid (validateNamed); throws MimeTextError otherwise. */
export function toCompact(named: MimeText): CompactMimeText {
  return validateNamed(named).map((item) => {
    const spec = KIND_BY_NAME.get(item.type)!;
    const out: CompactItem = { '0': spec.no };
    const rec = item as unknown as Record<string, unknown>;
    spec.attrs.forEach((a, j) => {
      const v = rec[a.name];
      if (v === undefined) return;
      out[String(j + 1)] = typeof v === 'boolean' ? (v ? 1 : 0) : (v as string | number);
    });
    return out;
  });
}

/** Compact → named (validated). */
export function toNamed(compact: CompactMimeText | unknown): MimeText {
  return compactToNamed(compact);
}

/** Which form a parsed value is in, judged by its first item; undefined when neither. */
export function detectForm(value: unknown): MimeForm | undefined {
  if (!Array.isArray(value) || value.length === 0 || !isPlainObject(value[0])) return undefined;
  if ('type' in value[0]) return 'named';
  if ('0' in value[0]) return 'compact';
  return undefined;
}

export interface ParsedMimeText {
  /** Canonical named form. */
  items: MimeText;
  form: MimeForm;
  /** Canonical named form as JSON: what is stored and pushed to recipients. */
  canonical: string;
}

/**
 * Parses MimeText JSON in either form (a single form per message), validates it
 * strictly and returns the canonical named form. `maxBytes` bounds the input.
 */
export function parseMimeText(json: string, maxBytes = 64 * 1024): ParsedMimeText {
  if (typeof json !== 'string') throw new MimeTextError('', 'expected JSON text');
  if (utf8Length(json) > maxBytes) throw new MimeTextError('', `larger than ${maxBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new MimeTextError('', `not valid JSON (${(err as Error).message})`);
  }
  checkItemCount(value);
  const form = detectForm(value);
  if (!form) throw new MimeTextError('[0]', 'an item needs "type" (named form) or "0" (compact form)');
  const items = form === 'named' ? validateNamed(value) : compactToNamed(value);
  return { items, form, canonical: JSON.stringify(items) };
}

/** Serialises MimeText in the requested form. */
export function stringifyMimeText(items: MimeText, form: MimeForm = 'named'): string {
  return JSON.stringify(form === 'named' ? validateNamed(items) : toCompact(items));
}

/** Plain text of a message (text items, emoticons as :id:, placeholders for media) — for CLIs and previews. */
export function plainText(items: MimeText): string {
  return items
    .map((it) => {
      switch (it.type) {
        case 'text':
          return it.text;
        case 'emoticon':
          return `:${it.id}:`;
        case 'image':
          return `[image ${it.uri}]`;
        case 'audio':
          return `[audio ${it.uri}]`;
        case 'location':
          return `[location ${it.lat},${it.lon}${it.text ? ` ${it.text}` : ''}]`;
      }
      return '';
    })
    .join('');
}

function utf8Length(s: string): number {
  // TextEncoder exists in browsers and Node; counting avoids allocating for small strings.
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
