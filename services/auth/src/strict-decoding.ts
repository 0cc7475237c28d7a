// Strict request decoding. Protobuf decoders (ts-proto's included) silently
// skip a field sent with the wrong wire type and replace invalid UTF-8 with
// U+FFFD, and grpc-js answers INTERNAL when bytes do not decode at all. A raw
// gRPC client sending `user` as a number would then see "user is required", or
// an internal error. Here every request is first checked against the
// compiler's own descriptors (proto/gen/descriptors.binpb): a wrong type,
// invalid text or garbage becomes INVALID_ARGUMENT naming the field.
//
// grpc-js gives a deserializer no way to fail with a status, so a bad request
// decodes to a marker in every parameter and the guarded servant throws it.
import type * as grpc from '@grpc/grpc-js';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as FieldType,
  type DescriptorProto,
  type FieldDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import { invalidArgument } from '../../runtime/src/errors.js';
import type { DescriptorIndex } from '../../runtime/src/reflection.js';
import type { InterfaceInfo } from '../../runtime/src/tce.js';

/** Stands in for every parameter of a request that failed the strict check. */
export class MalformedRequest {
  constructor(readonly problem: string) {}
}

const MAX_DEPTH = 32;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const VARINT_TYPES = new Set([
  FieldType.INT32,
  FieldType.INT64,
  FieldType.UINT32,
  FieldType.UINT64,
  FieldType.SINT32,
  FieldType.SINT64,
  FieldType.BOOL,
  FieldType.ENUM,
]);
const BIT64_TYPES = new Set([FieldType.DOUBLE, FieldType.FIXED64, FieldType.SFIXED64]);
const BIT32_TYPES = new Set([FieldType.FLOAT, FieldType.FIXED32, FieldType.SFIXED32]);

function expectedWire(t: FieldType): WireType {
  if (VARINT_TYPES.has(t)) return WireType.Varint;
  if (BIT64_TYPES.has(t)) return WireType.Bit64;
  if (BIT32_TYPES.has(t)) return WireType.Bit32;
  if (t === FieldType.GROUP) return WireType.StartGroup;
  return WireType.LengthDelimited;
}

function kindName(f: FieldDescriptorProto): string {
  switch (f.type) {
    case FieldType.STRING:
      return 'a string';
    case FieldType.BYTES:
      return 'bytes';
    case FieldType.BOOL:
      return 'a boolean';
    case FieldType.MESSAGE:
      return 'a message';
    case FieldType.ENUM:
      return 'an enum value';
    default:
      return 'a number';
  }
}

const WIRE_NAME: Record<number, string> = {
  [WireType.Varint]: 'a number or boolean (varint)',
  [WireType.Bit64]: 'a 64-bit number',
  [WireType.LengthDelimited]: 'a string, bytes or a message',
  [WireType.StartGroup]: 'a group',
  [WireType.EndGroup]: 'a group end',
  [WireType.Bit32]: 'a 32-bit number',
};

/** Fully qualified message name (no leading dot) → descriptor, nested types included. */
export function messageIndex(index: DescriptorIndex): Map<string, DescriptorProto> {
  const out = new Map<string, DescriptorProto>();
  for (const { proto } of index.files.values()) {
    const add = (m: DescriptorProto, scope: string): void => {
      out.set(`${scope}${m.name}`, m);
      for (const n of m.nestedType) add(n, `${scope}${m.name}.`);
    };
    for (const m of proto.messageType) add(m, proto.package ? `${proto.package}.` : '');
  }
  return out;
}

/** The first problem in `bytes` as a `desc` message, or undefined when it is well-formed. */
export function checkMessage(
  bytes: Uint8Array,
  desc: DescriptorProto,
  messages: Map<string, DescriptorProto>,
  path = '',
  depth = 0,
): string | undefined {
  if (depth > MAX_DEPTH) return `${path || 'request'} is nested too deeply`;
  const r = new BinaryReader(bytes);
  try {
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      const f = desc.field.find((x) => x.number === no);
      if (!f) {
        r.skip(wt); // unknown fields are allowed (newer clients)
        continue;
      }
      const name = `${path}${f.name}`;
      const want = expectedWire(f.type);
      const packed = f.label === Label.REPEATED && want !== WireType.LengthDelimited && wt === WireType.LengthDelimited;
      if (wt !== want && !packed) return `${name} must be ${kindName(f)}, got ${WIRE_NAME[wt] ?? `wire type ${wt}`}`;
      if (packed) {
        r.bytes();
        continue;
      }
      if (f.type === FieldType.STRING) {
        const text = r.bytes(); // outside the inner try: a truncated field is a corrupt message
        try {
          utf8.decode(text);
        } catch {
          return `${name} is not valid UTF-8 text`;
        }
      } else if (f.type === FieldType.MESSAGE) {
        const sub = messages.get(f.typeName.replace(/^\./, ''));
        const body = r.bytes();
        if (sub) {
          const idx = f.label === Label.REPEATED ? '[]' : '';
          const problem = checkMessage(body, sub, messages, `${name}${idx}.`, depth + 1);
          if (problem) return problem;
        }
      } else {
        r.skip(wt);
      }
    }
  } catch {
    return `${path ? path.replace(/\.$/, '') : 'request'} is not a valid protobuf message (truncated or corrupt)`;
  }
  return undefined;
}

/**
 * A copy of `info` whose request deserializers check strictly; pair it with
 * `guardServant`. Methods whose request type is not in the descriptors keep
 * the generated deserializer.
 */
export function strictInterface(info: InterfaceInfo, index: DescriptorIndex): InterfaceInfo {
  const messages = messageIndex(index);
  const file = [...index.files.values()].find((f) =>
    f.proto.service.some((s) => `${f.proto.package}.${s.name}` === info.fullName),
  );
  const svc = file?.proto.service.find((s) => `${file.proto.package}.${s.name}` === info.fullName);
  const service: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [key, def] of Object.entries(info.service)) {
    const method = Object.values(info.methods).find((m) => m.path === def.path);
    const input = svc?.method.find((m) => `/${info.fullName}/${m.name}` === def.path)?.inputType.replace(/^\./, '');
    const desc = input ? messages.get(input) : undefined;
    if (!method || !desc) {
      service[key] = def;
      continue;
    }
    const original = def.requestDeserialize as (b: Buffer) => unknown;
    service[key] = {
      ...def,
      requestDeserialize: (b: Buffer): unknown => {
        const problem = checkMessage(b, desc, messages);
        if (problem === undefined) {
          try {
            return original(b);
          } catch {
            // fall through: report like a corrupt message
          }
        }
        const bad = new MalformedRequest(problem ?? 'request is not a valid protobuf message (truncated or corrupt)');
        return Object.fromEntries(method.params.map((p) => [p, bad]));
      },
    };
  }
  return { ...info, service: service as grpc.ServiceDefinition };
}

/** Wraps a servant so that a MalformedRequest parameter becomes INVALID_ARGUMENT before the method runs. */
export function guardServant<T extends object>(info: InterfaceInfo, servant: T): T {
  const guarded: Record<string, unknown> = {};
  const fns = servant as Record<string, unknown>;
  for (const m of Object.values(info.methods)) {
    const fn = fns[m.name];
    if (typeof fn !== 'function') continue;
    guarded[m.name] = (...args: unknown[]): unknown => {
      const bad = args.find((a) => a instanceof MalformedRequest);
      if (bad) throw invalidArgument(bad.problem);
      return (fn as (...a: unknown[]) => unknown).apply(servant, args);
    };
  }
  return guarded as T;
}
