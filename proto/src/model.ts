// The resolved, language-neutral model of a set of IDL files: what the proto
// emitter and the TypeScript generator both consume. Plain data, JSON-safe
// (`index: undefined` is simply absent after JSON.stringify).
import type { BaseTypeName } from './ast.js';

export type TypeRef =
  | { kind: 'base'; name: BaseTypeName }
  | { kind: 'sequence'; of: TypeRef }
  | { kind: 'dictionary'; key: TypeRef; value: TypeRef }
  /** module/name as written in IDL; module is filled in for unqualified names. */
  | { kind: 'struct'; module: string; name: string };

export type Annotations = Record<string, string | number | boolean>;

export interface IdlModel {
  /** Sorted by name. */
  modules: ModuleModel[];
}

export interface ModuleModel {
  name: string;
  protoPackage: string;
  protoFile: string;
  /** Declaration order (files in load order). */
  structs: StructModel[];
  /** Declaration order (files in load order). */
  interfaces: InterfaceModel[];
}

export interface StructModel {
  name: string;
  protoName: string;
  fields: FieldModel[];
}

export interface FieldModel {
  name: string;
  protoName: string;
  number: number;
  type: TypeRef;
}

export interface InterfaceModel {
  module: string;
  name: string;
  protoName: string;
  annotations: Annotations;
  /** Qualified 'Mod::Name' of the direct bases. */
  bases: string[];
  /** Flattened: inherited methods first (transitively, bases in declaration order), then own. */
  methods: MethodModel[];
}

export interface MethodModel {
  name: string;
  protoName: string;
  declaredIn: { module: string; interface: string };
  annotations: Annotations;
  index: number | undefined;
  params: FieldModel[];
  returns: TypeRef | 'void';
  /** Proto message names (unqualified), in declaredIn's package. */
  requestMessage: string;
  responseMessage: string;
}
