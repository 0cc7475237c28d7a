// Syntax tree of one TCE IDL file, and the language's fixed vocabulary. The
// tree records where every name and type was written so later phases can
// point at the exact token.
import type { Loc } from './diagnostics.js';

export const BASE_TYPES = ['byte', 'short', 'int', 'long', 'float', 'double', 'string', 'bool'] as const;
export type BaseTypeName = (typeof BASE_TYPES)[number];

/** TCE keywords other than the base type names; none of them may name anything. */
export const KEYWORDS = [
  'import',
  'module',
  'interface',
  'extends',
  'struct',
  'sequence',
  'dictionary',
  'void',
] as const;

const BASE_SET: ReadonlySet<string> = new Set(BASE_TYPES);
const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);

export function isBaseType(name: string): name is BaseTypeName {
  return BASE_SET.has(name);
}

export function isKeyword(name: string): boolean {
  return KEYWORD_SET.has(name) || BASE_SET.has(name);
}

/** An identifier with the position of its token. */
export interface Ident {
  text: string;
  loc: Loc;
}

export type TypeNode =
  | { kind: 'base'; name: BaseTypeName; loc: Loc }
  | { kind: 'void'; loc: Loc }
  | { kind: 'sequence'; of: TypeNode; loc: Loc }
  | { kind: 'dictionary'; key: TypeNode; value: TypeNode; loc: Loc }
  | { kind: 'named'; module: Ident | undefined; name: Ident; loc: Loc };

export type AnnotationValue = string | number | boolean;

export interface AnnotationNode {
  key: Ident;
  value: AnnotationValue;
  valueLoc: Loc;
}

/** A struct field or a method parameter. */
export interface FieldNode {
  type: TypeNode;
  name: Ident;
}

export interface StructNode {
  kind: 'struct';
  name: Ident;
  fields: FieldNode[];
}

export interface MethodNode {
  annotations: AnnotationNode[];
  returns: TypeNode;
  name: Ident;
  params: FieldNode[];
}

/** A possibly qualified name (`IBase` or `Other::IBase`). */
export interface QualifiedName {
  module: Ident | undefined;
  name: Ident;
}

export interface InterfaceNode {
  kind: 'interface';
  annotations: AnnotationNode[];
  name: Ident;
  bases: QualifiedName[];
  methods: MethodNode[];
}

export type DefinitionNode = StructNode | InterfaceNode;

export interface ModuleNode {
  name: Ident;
  definitions: DefinitionNode[];
}

export interface ImportNode {
  /** The `import` keyword: unresolved imports are reported here. */
  loc: Loc;
  name: Ident;
}

export interface FileNode {
  file: string;
  imports: ImportNode[];
  modules: ModuleNode[];
}

/** How a type was written, for messages (`sequence<Geo::Point>`). */
export function typeText(t: TypeNode): string {
  switch (t.kind) {
    case 'base':
      return t.name;
    case 'void':
      return 'void';
    case 'sequence':
      return `sequence<${typeText(t.of)}>`;
    case 'dictionary':
      return `dictionary<${typeText(t.key)}, ${typeText(t.value)}>`;
    case 'named':
      return qualifiedText(t);
  }
}

export function qualifiedText(q: QualifiedName): string {
  return q.module ? `${q.module.text}::${q.name.text}` : q.name.text;
}
