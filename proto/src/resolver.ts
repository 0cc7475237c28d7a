// Semantic analysis: merges modules across files, resolves type and base
// interface names, flattens inheritance, checks duplicates, and builds the
// model. Source positions of model objects are kept in a side table so later
// checks can point at the right token without polluting the model.
import {
  qualifiedText,
  typeText,
  type AnnotationNode,
  type FieldNode,
  type FileNode,
  type InterfaceNode,
  type MethodNode,
  type QualifiedName,
  type StructNode,
  type TypeNode,
} from './ast.js';
import type { Diagnostics, Loc } from './diagnostics.js';
import type {
  Annotations,
  FieldModel,
  IdlModel,
  InterfaceModel,
  MethodModel,
  ModuleModel,
  StructModel,
  TypeRef,
} from './model.js';
import { isAllowedMapKey } from './proto-types.js';
import { safeIdent } from './reserved-words.js';

export interface Resolved {
  model: IdlModel;
  /** Where each module (by name), struct, interface, method, field and parameter was declared. */
  locs: Map<object | string, Loc>;
  /** Where the type of each field and parameter, and the result type of each method, was written. */
  typeLocs: Map<object, Loc>;
}

type Definition =
  { kind: 'struct'; module: string; node: StructNode } | { kind: 'interface'; module: string; node: InterfaceNode };
type InterfaceDef = Extract<Definition, { kind: 'interface' }>;

interface Scope {
  name: string;
  loc: Loc;
  defs: Map<string, Definition>;
  order: Definition[];
}

type Role = 'field' | 'parameter' | 'return';

export function resolve(files: readonly FileNode[], diags: Diagnostics): Resolved {
  return new Resolver(diags).run(files);
}

function where(loc: Loc): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

class Resolver {
  private readonly scopes = new Map<string, Scope>();
  private readonly locs = new Map<object | string, Loc>();
  private readonly typeLocs = new Map<object, Loc>();
  private readonly ownMethods = new Map<Definition, MethodModel[]>();
  private readonly flattened = new Map<Definition, MethodModel[]>();
  private readonly inProgress = new Set<Definition>();
  private readonly bases = new Map<Definition, Array<{ q: QualifiedName; def: InterfaceDef }>>();

  constructor(private readonly diags: Diagnostics) {}

  run(files: readonly FileNode[]): Resolved {
    this.collect(files);
    const modules: ModuleModel[] = [];
    for (const scope of this.scopes.values()) {
      const structs: StructModel[] = [];
      const interfaces: InterfaceModel[] = [];
      for (const def of scope.order) {
        if (def.kind === 'struct') structs.push(this.struct(def.node, scope.name));
      }
      for (const def of scope.order) {
        if (def.kind === 'interface') interfaces.push(this.iface(def));
      }
      const protoPackage = safeIdent(scope.name);
      modules.push({ name: scope.name, protoPackage, protoFile: `${protoPackage}.proto`, structs, interfaces });
    }
    modules.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { model: { modules }, locs: this.locs, typeLocs: this.typeLocs };
  }

  /** Merges each module's definitions from every file; a name may be defined once per module. */
  private collect(files: readonly FileNode[]): void {
    for (const file of files) {
      for (const mod of file.modules) {
        let scope = this.scopes.get(mod.name.text);
        if (!scope) {
          scope = { name: mod.name.text, loc: mod.name.loc, defs: new Map(), order: [] };
          this.scopes.set(scope.name, scope);
          this.locs.set(scope.name, scope.loc);
        }
        for (const node of mod.definitions) {
          const prev = scope.defs.get(node.name.text);
          if (prev) {
            this.diags.error(
              node.name.loc,
              `duplicate definition '${node.name.text}' in module '${scope.name}' (first defined at ${where(prev.node.name.loc)})`,
            );
            continue;
          }
          const def: Definition =
            node.kind === 'struct'
              ? { kind: 'struct', module: scope.name, node }
              : { kind: 'interface', module: scope.name, node };
          scope.defs.set(node.name.text, def);
          scope.order.push(def);
        }
      }
    }
  }

  private lookup(q: QualifiedName, current: string): Definition | undefined {
    const scope = this.scopes.get(q.module ? q.module.text : current);
    return scope?.defs.get(q.name.text);
  }

  // ---- types ----

  private type(node: TypeNode, module: string, role: Role): TypeRef | undefined {
    return this.typeIn(node, module, role, false);
  }

  private typeIn(node: TypeNode, module: string, role: Role, nested: boolean): TypeRef | undefined {
    switch (node.kind) {
      case 'base':
        return { kind: 'base', name: node.name };
      case 'void':
        this.diags.error(
          node.loc,
          nested
            ? "'void' cannot be used inside a sequence or dictionary: void is only allowed as a method return type"
            : `'void' cannot be the type of a ${role}: void is only allowed as a method return type`,
        );
        return undefined;
      case 'sequence': {
        const of = this.typeIn(node.of, module, role, true);
        return of && { kind: 'sequence', of };
      }
      case 'dictionary': {
        const key = this.typeIn(node.key, module, role, true);
        const value = this.typeIn(node.value, module, role, true);
        if (key && !isAllowedMapKey(key)) {
          this.diags.error(
            node.loc,
            `dictionary key type '${typeText(node.key)}' is not allowed: proto3 map keys must be integral, bool or string`,
          );
          return undefined;
        }
        return key && value && { kind: 'dictionary', key, value };
      }
      case 'named': {
        const def = this.lookup(node, module);
        if (!def) {
          this.diags.error(node.loc, `unknown type '${qualifiedText(node)}' (in module ${module})`);
          return undefined;
        }
        if (def.kind === 'interface') {
          this.diags.error(
            node.loc,
            `'${qualifiedText(node)}' is an interface, not a data type: only base types, sequences, dictionaries and structs can be used here`,
          );
          return undefined;
        }
        return { kind: 'struct', module: def.module, name: def.node.name.text };
      }
    }
  }

  /** Fields or parameters, numbered 1.. in declaration order; names must be unique. */
  private fields(
    nodes: readonly FieldNode[],
    module: string,
    role: 'field' | 'parameter',
    owner: string,
  ): FieldModel[] {
    const out: FieldModel[] = [];
    const seen = new Set<string>();
    nodes.forEach((f, i) => {
      const type = this.type(f.type, module, role);
      if (seen.has(f.name.text)) {
        this.diags.error(f.name.loc, `duplicate ${role} '${f.name.text}' in ${owner}`);
        return;
      }
      seen.add(f.name.text);
      if (!type) return;
      const field: FieldModel = { name: f.name.text, protoName: safeIdent(f.name.text), number: i + 1, type };
      this.locs.set(field, f.name.loc);
      this.typeLocs.set(field, f.type.loc);
      out.push(field);
    });
    return out;
  }

  private struct(node: StructNode, module: string): StructModel {
    const s: StructModel = {
      name: node.name.text,
      protoName: safeIdent(node.name.text),
      fields: this.fields(node.fields, module, 'field', `struct '${node.name.text}'`),
    };
    this.locs.set(s, node.name.loc);
    return s;
  }

  // ---- interfaces ----

  private annotations(list: readonly AnnotationNode[]): Annotations {
    const out: Annotations = {};
    const seen = new Set<string>();
    for (const a of list) {
      if (seen.has(a.key.text)) {
        this.diags.error(a.key.loc, `duplicate annotation '${a.key.text}'`);
        continue;
      }
      seen.add(a.key.text);
      if (a.key.text === 'index' && typeof a.value !== 'number') {
        this.diags.error(a.valueLoc, `annotation 'index' must be an integer, found ${JSON.stringify(a.value)}`);
        continue;
      }
      // defineProperty: a key such as '__proto__' must stay plain data.
      Object.defineProperty(out, a.key.text, { value: a.value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  private method(node: MethodNode, def: InterfaceDef): MethodModel {
    const iface = def.node.name.text;
    const annotations = this.annotations(node.annotations);
    const index = annotations['index'];
    let returns: TypeRef | 'void' = 'void';
    if (node.returns.kind !== 'void') returns = this.type(node.returns, def.module, 'return') ?? 'void';
    const m: MethodModel = {
      name: node.name.text,
      protoName: safeIdent(node.name.text),
      declaredIn: { module: def.module, interface: iface },
      annotations,
      index: typeof index === 'number' ? index : undefined,
      params: this.fields(node.params, def.module, 'parameter', `method '${iface}.${node.name.text}'`),
      returns,
      requestMessage: `${iface}${upperFirst(node.name.text)}Request`,
      responseMessage: `${iface}${upperFirst(node.name.text)}Response`,
    };
    this.locs.set(m, node.name.loc);
    this.typeLocs.set(m, node.returns.loc);
    return m;
  }

  /** The interface's own methods (without duplicates), built once and shared by every derived interface. */
  private own(def: InterfaceDef): MethodModel[] {
    const cached = this.ownMethods.get(def);
    if (cached) return cached;
    const out: MethodModel[] = [];
    const byName = new Map<string, MethodModel>();
    const byIndex = new Map<number, MethodModel>();
    for (const node of def.node.methods) {
      const m = this.method(node, def);
      if (byName.has(m.name)) {
        this.diags.error(node.name.loc, `duplicate method '${m.name}' in interface '${def.node.name.text}'`);
        continue;
      }
      if (m.index !== undefined) {
        const other = byIndex.get(m.index);
        const at = node.annotations.find((a) => a.key.text === 'index');
        if (other && at) {
          this.diags.error(
            at.valueLoc,
            `duplicate method index ${m.index} in interface '${def.node.name.text}' (also used by method '${other.name}')`,
          );
        } else byIndex.set(m.index, m);
      }
      byName.set(m.name, m);
      out.push(m);
    }
    this.ownMethods.set(def, out);
    return out;
  }

  /** Resolved direct bases; computed (and reported) once per interface. */
  private baseDefs(def: InterfaceDef): Array<{ q: QualifiedName; def: InterfaceDef }> {
    const cached = this.bases.get(def);
    if (cached) return cached;
    const out: Array<{ q: QualifiedName; def: InterfaceDef }> = [];
    this.bases.set(def, out);
    for (const q of def.node.bases) {
      const at = (q.module ?? q.name).loc;
      const base = this.lookup(q, def.module);
      if (!base) {
        this.diags.error(at, `unknown base interface '${qualifiedText(q)}' (in module ${def.module})`);
      } else if (base.kind !== 'interface') {
        this.diags.error(at, `'${qualifiedText(q)}' is a struct, not an interface: only interfaces can be extended`);
      } else if (out.some((b) => b.def === base)) {
        this.diags.error(at, `duplicate base interface '${qualifiedText(q)}'`);
      } else {
        out.push({ q, def: base });
      }
    }
    return out;
  }

  /** Inherited methods first (base by base, transitively; a diamond contributes once), then own. */
  private flatten(def: InterfaceDef): MethodModel[] {
    const done = this.flattened.get(def);
    if (done) return done;
    this.inProgress.add(def);
    const out: MethodModel[] = [];
    const byName = new Map<string, MethodModel>();
    const name = def.node.name.text;
    for (const { q, def: base } of this.baseDefs(def)) {
      if ((base as Definition) === def) {
        this.diags.error((q.module ?? q.name).loc, `interface '${name}' cannot extend itself`);
        continue;
      }
      if (this.inProgress.has(base)) {
        this.diags.error(
          (q.module ?? q.name).loc,
          `circular inheritance: '${qualifiedText(q)}' already extends '${name}' (directly or indirectly), so '${name}' cannot extend it`,
        );
        continue;
      }
      for (const m of this.flatten(base)) {
        const prev = byName.get(m.name);
        if (prev === m) continue;
        if (prev) {
          this.diags.error(
            (q.module ?? q.name).loc,
            `duplicate method '${m.name}' in interface '${name}': inherited from both '${declared(prev)}' and '${declared(m)}'`,
          );
          continue;
        }
        byName.set(m.name, m);
        out.push(m);
      }
    }
    for (const m of this.own(def)) {
      const prev = byName.get(m.name);
      if (prev) {
        const at = this.locs.get(m) ?? def.node.name.loc;
        this.diags.error(
          at,
          `duplicate method '${m.name}' in interface '${name}' (already inherited from '${declared(prev)}')`,
        );
        continue;
      }
      byName.set(m.name, m);
      out.push(m);
    }
    this.inProgress.delete(def);
    this.flattened.set(def, out);
    return out;
  }

  private iface(def: InterfaceDef): InterfaceModel {
    const bases = this.baseDefs(def).map(({ def: b }) => `${b.module}::${b.node.name.text}`);
    const model: InterfaceModel = {
      module: def.module,
      name: def.node.name.text,
      protoName: safeIdent(def.node.name.text),
      annotations: this.annotations(def.node.annotations),
      bases,
      methods: this.flatten(def),
    };
    this.locs.set(model, def.node.name.loc);
    return model;
  }
}

function declared(m: MethodModel): string {
  return `${m.declaredIn.module}::${m.declaredIn.interface}`;
}
