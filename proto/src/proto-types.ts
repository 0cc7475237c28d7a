// How IDL types become proto3 field types, including the wrapper messages that
// proto3 needs for nested containers (it has no repeated-of-repeated, no
// repeated map, no map of repeated/map). Shared by the checker, the emitter and
// the TypeScript generator so all agree on names.
import type { BaseTypeName } from './ast.js';
import type { TypeRef } from './model.js';
import { safeIdent } from './reserved-words.js';

const SCALARS: Record<BaseTypeName, string> = {
  byte: 'int32',
  short: 'int32',
  int: 'int32',
  long: 'int64',
  float: 'float',
  double: 'double',
  string: 'string',
  bool: 'bool',
};

/** Base types proto3 accepts as map keys (integral, bool, string). */
const MAP_KEY_TYPES: ReadonlySet<BaseTypeName> = new Set<BaseTypeName>([
  'byte',
  'short',
  'int',
  'long',
  'string',
  'bool',
]);

export function protoScalar(name: BaseTypeName): string {
  return SCALARS[name];
}

export function isAllowedMapKey(t: TypeRef): boolean {
  return t.kind === 'base' && MAP_KEY_TYPES.has(t.name);
}

/** `sequence<byte>` is proto `bytes`, not a repeated field. */
export function isBytes(t: TypeRef): boolean {
  return t.kind === 'sequence' && t.of.kind === 'base' && t.of.name === 'byte';
}

/** Whether t, used as a sequence element or dictionary value, must be wrapped in a message. */
export function needsWrapper(t: TypeRef): boolean {
  return (t.kind === 'sequence' && !isBytes(t)) || t.kind === 'dictionary';
}

/**
 * Stable name of the wrapper message for t (and the name fragment of t inside
 * other wrapper names): `Seq_int32`, `Seq_Seq_string`, `Map_string_int32`,
 * `Seq_Geo_Point`. Struct fragments always carry the module, so the name does
 * not depend on which module uses the wrapper.
 */
export function wrapperName(t: TypeRef): string {
  switch (t.kind) {
    case 'base':
      return protoScalar(t.name);
    case 'sequence':
      return isBytes(t) ? 'bytes' : `Seq_${wrapperName(t.of)}`;
    case 'dictionary':
      return `Map_${wrapperName(t.key)}_${wrapperName(t.value)}`;
    case 'struct':
      return `${t.module}_${t.name}`;
  }
}

/** Names a message of package `module` (given its proto name) as seen from the file being written. */
export type MessageRef = (module: string, protoName: string) => string;

/** Fully qualified names with a leading dot: unambiguous from anywhere. */
export const absoluteRef: MessageRef = (module, protoName) => `.${safeIdent(module)}.${protoName}`;

/** The type of a singular value of t: a scalar, a message, or a wrapper (in the current package). */
export function elementTypeText(t: TypeRef, ref: MessageRef): string {
  if (t.kind === 'base') return protoScalar(t.name);
  if (isBytes(t)) return 'bytes';
  if (t.kind === 'struct') return ref(t.module, safeIdent(t.name));
  return wrapperName(t);
}

/** The full proto type of a field of type t, with its label: `repeated Seq_int32`, `map<string, bytes>`. */
export function fieldTypeText(t: TypeRef, ref: MessageRef): string {
  if (t.kind === 'sequence' && !isBytes(t)) return `repeated ${elementTypeText(t.of, ref)}`;
  if (t.kind === 'dictionary') return `map<${elementTypeText(t.key, ref)}, ${elementTypeText(t.value, ref)}>`;
  return elementTypeText(t, ref);
}

/** The wrapper types a field of type t needs, outermost first (each wrapper's own needs follow it). */
export function wrappersFor(t: TypeRef): TypeRef[] {
  const inner = t.kind === 'sequence' && !isBytes(t) ? t.of : t.kind === 'dictionary' ? t.value : undefined;
  if (!inner || !needsWrapper(inner)) return [];
  return [inner, ...wrappersFor(inner)];
}

/** Every struct a field of type t refers to (to compute imports). */
export function structsIn(t: TypeRef): Array<{ module: string; name: string }> {
  switch (t.kind) {
    case 'base':
      return [];
    case 'sequence':
      return structsIn(t.of);
    case 'dictionary':
      return [...structsIn(t.key), ...structsIn(t.value)];
    case 'struct':
      return [{ module: t.module, name: t.name }];
  }
}

/** A TypeRef written back in IDL syntax, for messages. */
export function typeRefText(t: TypeRef): string {
  switch (t.kind) {
    case 'base':
      return t.name;
    case 'sequence':
      return `sequence<${typeRefText(t.of)}>`;
    case 'dictionary':
      return `dictionary<${typeRefText(t.key)}, ${typeRefText(t.value)}>`;
    case 'struct':
      return `${t.module}::${t.name}`;
  }
}
