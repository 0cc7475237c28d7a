// Library entry point: compile TCE IDL files to proto3 text plus a resolved
// model. Never throws on any input; every problem becomes a Diagnostic.
import fs from 'node:fs';
import path from 'node:path';
import { Diagnostics, formatDiagnostic, type Diagnostic } from './diagnostics.js';
import { emitProto } from './emit-proto.js';
import { load, type ReadFile } from './loader.js';
import type { IdlModel } from './model.js';
import { checkProtoNames } from './proto-checks.js';
import { resolve } from './resolver.js';

export type { Diagnostic } from './diagnostics.js';
export type {
  Annotations,
  FieldModel,
  IdlModel,
  InterfaceModel,
  MethodModel,
  ModuleModel,
  StructModel,
  TypeRef,
} from './model.js';
export { formatDiagnostic };

export interface CompileOptions {
  includeDirs: string[];
  files: string[];
  /** Returns the file's text, or undefined if it does not exist or cannot be read. Defaults to the file system. */
  readFile?: (path: string) => string | undefined;
}

export interface CompileResult {
  ok: boolean;
  diagnostics: Diagnostic[];
  /** Proto file name (e.g. 'Auth.proto') -> content; empty unless ok. */
  outputs: Map<string, string>;
  /** Undefined unless ok. */
  model: IdlModel | undefined;
}

const readFromDisk: ReadFile = (file) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

export function compile(opts: CompileOptions): CompileResult {
  const diags = new Diagnostics();
  let fileOrder: string[] = [...opts.files];
  try {
    const loaded = load(opts.files, opts.includeDirs, opts.readFile ?? readFromDisk, diags);
    fileOrder = loaded.files.map((f) => f.file).concat(opts.files);
    // After a syntax error the trees are partial: checking them would only
    // report consequences (unknown types, missing members) of that error.
    if (loaded.complete) {
      const { model, locs, typeLocs } = resolve(loaded.files, diags);
      if (diags.count === 0) checkProtoNames(model, { locs, typeLocs }, diags);
      if (diags.count === 0) {
        const sources = new Map<string, string[]>();
        for (const f of loaded.files) {
          for (const m of f.modules) {
            const list = sources.get(m.name.text) ?? [];
            list.push(path.basename(f.file));
            sources.set(m.name.text, list);
          }
        }
        return { ok: true, diagnostics: [], outputs: emitProto(model, sources), model };
      }
    }
  } catch (e) {
    // A bug here must not take down the caller (an editor, a build); report it like any error.
    const first = opts.files[0] ?? '<input>';
    diags.error(
      { file: first, line: 1, column: 1 },
      `internal compiler error: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (diags.count === 0) diags.error({ file: opts.files[0] ?? '<input>', line: 1, column: 1 }, 'compilation failed');
  return { ok: false, diagnostics: diags.sorted(fileOrder), outputs: new Map(), model: undefined };
}
