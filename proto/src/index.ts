// Public surface of the IDL compiler, for build scripts and the TypeScript
// layer generator. Everything else in proto/src is internal.
export { compile, formatDiagnostic } from './compiler.js';
export type {
  Annotations,
  CompileOptions,
  CompileResult,
  Diagnostic,
  FieldModel,
  IdlModel,
  InterfaceModel,
  MethodModel,
  ModuleModel,
  StructModel,
  TypeRef,
} from './compiler.js';
export { main, USAGE, type CliIo } from './cli.js';
export { RESERVED_WORDS, safeIdent } from './reserved-words.js';
export {
  elementTypeText,
  fieldTypeText,
  isBytes,
  needsWrapper,
  protoScalar,
  typeRefText,
  wrapperName,
  wrappersFor,
  type MessageRef,
} from './proto-types.js';
