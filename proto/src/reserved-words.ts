// Identifiers that generated code cannot use as-is. The rule is deliberately
// context-free: a name on this list ALWAYS gets a trailing '_' wherever it is
// emitted (package, message, field, service, rpc), so a reader can predict the
// generated name without knowing where the identifier ends up.

/** The seed's Python list: TCE's generated Python renamed these. */
const SEED_WORDS = ['def', 'import', 'from', 'type', 'str', 'int', 'float', 'class'];

/** proto3 keywords and scalar type names. */
const PROTO_WORDS = [
  'syntax',
  'package',
  'import',
  'option',
  'message',
  'enum',
  'service',
  'rpc',
  'returns',
  'repeated',
  'map',
  'reserved',
  'oneof',
  'optional',
  'stream',
  'to',
  'max',
  'extend',
  'extensions',
  'weak',
  'public',
  'true',
  'false',
  'inf',
  'nan',
  'double',
  'float',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'sint32',
  'sint64',
  'fixed32',
  'fixed64',
  'sfixed32',
  'sfixed64',
  'bool',
  'string',
  'bytes',
];

/** TypeScript / JavaScript reserved and strict-mode-restricted words. */
const TS_WORDS = [
  'break',
  'case',
  'catch',
  'class',
  'const',
  'continue',
  'debugger',
  'default',
  'delete',
  'do',
  'else',
  'enum',
  'export',
  'extends',
  'false',
  'finally',
  'for',
  'function',
  'if',
  'import',
  'in',
  'instanceof',
  'new',
  'null',
  'return',
  'super',
  'switch',
  'this',
  'throw',
  'true',
  'try',
  'typeof',
  'var',
  'void',
  'while',
  'with',
  'yield',
  'let',
  'static',
  'implements',
  'interface',
  'package',
  'private',
  'protected',
  'public',
  'await',
  'arguments',
  'eval',
];

/** Every word that gets escaped, sorted (used by docs and tests). */
export const RESERVED_WORDS: readonly string[] = [...new Set([...SEED_WORDS, ...PROTO_WORDS, ...TS_WORDS])].sort();

const RESERVED = new Set(RESERVED_WORDS);

/** The name to use in generated code for an IDL identifier. */
export function safeIdent(name: string): string {
  return RESERVED.has(name) ? `${name}_` : name;
}
