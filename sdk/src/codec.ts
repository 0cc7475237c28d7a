// Protobuf encoding driven by the IDL model (proto/gen/model.json, written by
// `make proto` next to the .proto files): the SDK needs no generated code that
// pulls in gRPC, so the same module runs in browsers and in Node. Values have
// the shapes ts-proto gives them (field names as in the IDL, `long` as number,
// `sequence<byte>` as Uint8Array, nested containers wrapped as { items }), so
// the generated TypeScript interfaces type them.
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

type BaseName = 'byte' | 'short' | 'int' | 'long' | 'float' | 'double' | 'string' | 'bool';
export type TypeRef =
  | { kind: 'base'; name: BaseName }
  | { kind: 'sequence'; of: TypeRef }
  | { kind: 'dictionary'; key: TypeRef; value: TypeRef }
  | { kind: 'struct'; module: string; name: string };

export interface FieldModel {
  name: string;
  protoName: string;
  number: number;
  type: TypeRef;
}
export interface MethodModel {
  name: string;
  index?: number;
  params: FieldModel[];
  returns: TypeRef | 'void';
}
export interface InterfaceModel {
  module: string;
  name: string;
  annotations: Record<string, string | number | boolean>;
  methods: MethodModel[];
}
export interface IdlModel {
  modules: {
    name: string;
    protoPackage: string;
    structs: { name: string; protoName: string; fields: FieldModel[] }[];
    interfaces: InterfaceModel[];
  }[];
}

export class CodecError extends Error {
  override name = 'CodecError';
}

type Obj = Record<string, unknown>;
const isBytes = (t: TypeRef): boolean => t.kind === 'sequence' && t.of.kind === 'base' && t.of.name === 'byte';
const isContainer = (t: TypeRef): boolean => (t.kind === 'sequence' && !isBytes(t)) || t.kind === 'dictionary';
const WRAPPER_FIELD: FieldModel = { name: 'items', protoName: 'items', number: 1, type: { kind: 'base', name: 'int' } };

/** Encoders and decoders for every struct and method of a model. */
export class ModelCodec {
  private readonly structs = new Map<string, FieldModel[]>();
  private readonly interfaces = new Map<string, InterfaceModel>();

  constructor(model: IdlModel) {
    for (const m of model.modules) {
      for (const s of m.structs) this.structs.set(`${m.name}::${s.name}`, s.fields);
      for (const i of m.interfaces) this.interfaces.set(`${m.protoPackage}.${i.name}`, i);
    }
  }

  /** An interface by its full name (`messaging.IMessageServer`). */
  iface(fullName: string): InterfaceModel {
    const i = this.interfaces.get(fullName);
    if (!i) throw new CodecError(`unknown interface ${fullName}`);
    return i;
  }

  method(fullName: string, method: string): MethodModel {
    const m = this.iface(fullName).methods.find((x) => x.name === method);
    if (!m) throw new CodecError(`${fullName} has no method ${method}`);
    return m;
  }

  encodeStruct(module: string, name: string, value: Obj): Uint8Array {
    const w = new BinaryWriter();
    this.writeFields(w, this.fieldsOf(module, name), value);
    return w.finish();
  }

  decodeStruct<T = Obj>(module: string, name: string, bytes: Uint8Array): T {
    return this.readFields(new BinaryReader(bytes), this.fieldsOf(module, name), bytes.length) as T;
  }

  /** A method's request message from its arguments in parameter order. */
  encodeRequest(iface: string, method: string, args: readonly unknown[]): Uint8Array {
    const m = this.method(iface, method);
    const obj: Obj = {};
    m.params.forEach((p, i) => (obj[p.protoName] = args[i]));
    const w = new BinaryWriter();
    this.writeFields(w, m.params, obj);
    return w.finish();
  }

  /** A method's request message as an object keyed by parameter name (serving calls). */
  decodeRequest(iface: string, method: string, bytes: Uint8Array): Obj {
    const m = this.method(iface, method);
    return this.readFields(new BinaryReader(bytes), m.params, bytes.length);
  }

  /** A method's response message holding `value` (nothing for void methods). */
  encodeResponse(iface: string, method: string, value: unknown): Uint8Array {
    const m = this.method(iface, method);
    const w = new BinaryWriter();
    if (m.returns !== 'void')
      this.writeFields(w, [{ ...WRAPPER_FIELD, name: 'value', protoName: 'value', type: m.returns }], { value });
    return w.finish();
  }

  decodeResponse(iface: string, method: string, bytes: Uint8Array): unknown {
    const m = this.method(iface, method);
    if (m.returns === 'void') return undefined;
    const f: FieldModel = { name: 'value', protoName: 'value', number: 1, type: m.returns };
    const o = this.readFields(new BinaryReader(bytes), [f], bytes.length);
    const v = o.value;
    // An absent struct is its empty value (what the server meant by returning defaults).
    if (v === undefined && m.returns.kind === 'struct')
      return this.readFields(new BinaryReader(new Uint8Array(0)), this.fieldsOf(m.returns.module, m.returns.name), 0);
    return v;
  }

  private fieldsOf(module: string, name: string): FieldModel[] {
    const f = this.structs.get(`${module}::${name}`);
    if (!f) throw new CodecError(`unknown struct ${module}::${name}`);
    return f;
  }

  // ---------------------------------------------------------------- encoding

  private writeFields(w: BinaryWriter, fields: readonly FieldModel[], obj: Obj): void {
    for (const f of fields) {
      const v = obj[f.protoName];
      if (v === undefined || v === null) continue;
      this.writeField(w, f.number, f.type, v, f.protoName);
    }
  }

  private writeField(w: BinaryWriter, no: number, t: TypeRef, v: unknown, path: string): void {
    if (isBytes(t)) {
      const b = toBytes(v, path);
      if (b.length) w.tag(no, WireType.LengthDelimited).bytes(b);
      return;
    }
    switch (t.kind) {
      case 'base':
        if (!isDefault(t.name, v)) this.writeScalar(w.tag(no, wireOf(t.name)), t.name, v, path);
        return;
      case 'struct':
        w.tag(no, WireType.LengthDelimited).fork();
        this.writeFields(w, this.fieldsOf(t.module, t.name), asObj(v, path));
        w.join();
        return;
      case 'sequence': {
        if (!Array.isArray(v)) throw new CodecError(`${path}: expected an array`);
        const el = t.of;
        if (el.kind === 'base' && el.name !== 'string') {
          if (v.length === 0) return;
          w.tag(no, WireType.LengthDelimited).fork();
          for (const x of v) this.writeScalar(w, el.name, x, path);
          w.join();
          return;
        }
        for (const x of v) {
          if (el.kind === 'base') w.tag(no, WireType.LengthDelimited).string(asString(x, path));
          else this.writeElement(w, no, el, x, path);
        }
        return;
      }
      case 'dictionary': {
        const o = asObj(v, path);
        for (const [k, x] of Object.entries(o)) {
          w.tag(no, WireType.LengthDelimited).fork();
          const key =
            t.key.kind === 'base' && t.key.name !== 'string' ? (t.key.name === 'bool' ? k === 'true' : Number(k)) : k;
          this.writeField(w, 1, t.key, key, path);
          this.writeElement(w, 2, t.value, x, path, true);
          w.join();
        }
        return;
      }
    }
  }

  /** A sequence element or map value: always written (even when default); containers wrapped. */
  private writeElement(w: BinaryWriter, no: number, t: TypeRef, v: unknown, path: string, mapValue = false): void {
    if (isContainer(t)) {
      w.tag(no, WireType.LengthDelimited).fork();
      this.writeField(
        w,
        1,
        t,
        (asObj(v, path) as { items?: unknown }).items ?? (t.kind === 'dictionary' ? {} : []),
        path,
      );
      w.join();
    } else if (t.kind === 'struct' || isBytes(t)) {
      if (t.kind === 'struct') {
        w.tag(no, WireType.LengthDelimited).fork();
        this.writeFields(w, this.fieldsOf(t.module, t.name), asObj(v, path));
        w.join();
      } else w.tag(no, WireType.LengthDelimited).bytes(toBytes(v, path));
    } else if (t.kind === 'base') {
      if (mapValue && isDefault(t.name, v)) return;
      this.writeScalar(w.tag(no, wireOf(t.name)), t.name, v, path);
    }
  }

  private writeScalar(w: BinaryWriter, name: BaseName, v: unknown, path: string): void {
    switch (name) {
      case 'string':
        w.string(asString(v, path));
        return;
      case 'bool':
        if (typeof v !== 'boolean') throw new CodecError(`${path}: expected a boolean`);
        w.bool(v);
        return;
      case 'float':
        w.float(asNumber(v, path));
        return;
      case 'double':
        w.double(asNumber(v, path));
        return;
      case 'long':
        w.int64(asInteger(v, path));
        return;
      default:
        w.int32(asInteger(v, path));
    }
  }

  // ---------------------------------------------------------------- decoding

  private readFields(r: BinaryReader, fields: readonly FieldModel[], end: number): Obj {
    const out: Obj = {};
    const byNo = new Map<number, FieldModel>();
    for (const f of fields) {
      byNo.set(f.number, f);
      out[f.protoName] = defaultOf(f.type);
    }
    while (r.pos < end) {
      const [no, wt] = r.tag();
      const f = byNo.get(no);
      if (!f) {
        r.skip(wt);
        continue;
      }
      this.readField(r, f, wt, out);
    }
    return out;
  }

  private readField(r: BinaryReader, f: FieldModel, wt: WireType, out: Obj): void {
    const t = f.type;
    const key = f.protoName;
    if (isBytes(t)) {
      out[key] = r.bytes();
      return;
    }
    switch (t.kind) {
      case 'base':
        out[key] = readScalar(r, t.name);
        return;
      case 'struct': {
        const len = r.uint32();
        out[key] = this.readFields(r, this.fieldsOf(t.module, t.name), r.pos + len);
        return;
      }
      case 'sequence': {
        const arr = out[key] as unknown[];
        const el = t.of;
        if (el.kind === 'base' && el.name !== 'string' && wt === WireType.LengthDelimited) {
          const end = r.uint32() + r.pos;
          while (r.pos < end) arr.push(readScalar(r, el.name));
        } else arr.push(this.readElement(r, el));
        return;
      }
      case 'dictionary': {
        const len = r.uint32();
        const end = r.pos + len;
        let k: unknown = defaultOf(t.key);
        let v: unknown = defaultOf(t.value);
        while (r.pos < end) {
          const [no, w2] = r.tag();
          if (no === 1) k = readScalar(r, (t.key as { name: BaseName }).name);
          else if (no === 2) v = this.readElement(r, t.value);
          else r.skip(w2);
        }
        (out[key] as Obj)[String(k)] = v;
        return;
      }
    }
  }

  private readElement(r: BinaryReader, t: TypeRef): unknown {
    if (isBytes(t)) return r.bytes();
    if (t.kind === 'base') return readScalar(r, t.name);
    const len = r.uint32();
    const end = r.pos + len;
    if (t.kind === 'struct') return this.readFields(r, this.fieldsOf(t.module, t.name), end);
    return this.readFields(r, [{ ...WRAPPER_FIELD, type: t }], end);
  }
}

function readScalar(r: BinaryReader, name: BaseName): unknown {
  switch (name) {
    case 'string':
      return r.string();
    case 'bool':
      return r.bool();
    case 'float':
      return r.float();
    case 'double':
      return r.double();
    case 'long': {
      const n = Number(r.int64());
      if (!Number.isSafeInteger(n)) throw new CodecError('a long value does not fit in a JavaScript number');
      return n;
    }
    default:
      return r.int32();
  }
}

function wireOf(name: BaseName): WireType {
  if (name === 'string') return WireType.LengthDelimited;
  if (name === 'double') return WireType.Bit64;
  if (name === 'float') return WireType.Bit32;
  return WireType.Varint;
}

function defaultOf(t: TypeRef): unknown {
  if (isBytes(t)) return new Uint8Array(0);
  switch (t.kind) {
    case 'base':
      return t.name === 'string' ? '' : t.name === 'bool' ? false : 0;
    case 'sequence':
      return [];
    case 'dictionary':
      return {};
    case 'struct':
      return undefined;
  }
}

function isDefault(name: BaseName, v: unknown): boolean {
  if (name === 'string') return v === '';
  if (name === 'bool') return v === false;
  return v === 0 && !Object.is(v, -0);
}

function asObj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CodecError(`${path}: expected an object`);
  return v as Obj;
}
function asString(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new CodecError(`${path}: expected a string`);
  return v;
}
function asNumber(v: unknown, path: string): number {
  if (typeof v !== 'number') throw new CodecError(`${path}: expected a number`);
  return v;
}
function asInteger(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new CodecError(`${path}: expected an integer`);
  return v;
}
function toBytes(v: unknown, path: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new CodecError(`${path}: expected bytes (Uint8Array)`);
}
