// Checks that only exist because of the proto3 mapping: reserved-word escaping
// and generated names (request/response and wrapper messages) must not collide
// with each other or with user names, and proto3 forbids two fields of one
// message with the same JSON name (foo_bar / fooBar). Catching these here gives
// an IDL position instead of a failure later in buf or protoc.
import type { Diagnostics, Loc } from './diagnostics.js';
import type { FieldModel, IdlModel, ModuleModel, TypeRef } from './model.js';
import { dependenciesOf } from './proto-deps.js';
import { absoluteRef, fieldTypeText, typeRefText, wrapperName, wrappersFor } from './proto-types.js';

type Locs = ReadonlyMap<object | string, Loc>;

/** Where declarations and their types are (see resolver's Resolved). */
export interface SourceMap {
  locs: Locs;
  typeLocs: ReadonlyMap<object, Loc>;
}

/** protoc's default JSON name: drop '_' and upper-case the letter after it. */
export function jsonName(name: string): string {
  let out = '';
  let upper = false;
  for (const c of name) {
    if (c === '_') upper = true;
    else {
      out += upper ? c.toUpperCase() : c;
      upper = false;
    }
  }
  return out;
}

export function checkProtoNames(model: IdlModel, { locs, typeLocs }: SourceMap, diags: Diagnostics): void {
  const packages = new Map<string, string>();
  for (const mod of model.modules) {
    const prev = packages.get(mod.protoPackage);
    const at = locs.get(mod.name);
    if (prev !== undefined && at) {
      diags.error(
        at,
        `module '${mod.name}' needs the proto package '${mod.protoPackage}', which is already used by module '${prev}'`,
      );
    }
    packages.set(mod.protoPackage, mod.name);
    checkModule(mod, locs, typeLocs, diags);
  }
  checkImportCycles(model, locs, typeLocs, diags);
}

/**
 * IDL modules may refer to each other freely, but each becomes a proto file
 * and proto3 rejects import cycles. Each cycle is reported once, at the
 * reference that closes it (starting from the alphabetically first module).
 */
function checkImportCycles(model: IdlModel, locs: Locs, typeLocs: Locs, diags: Diagnostics): void {
  const deps = new Map(model.modules.map((m) => [m.name, dependenciesOf(m)]));
  const next = (m: string): string[] => [...new Set((deps.get(m) ?? []).map((d) => d.module))].sort();
  const reach = (from: string): Set<string> => {
    const seen = new Set<string>();
    const todo = [from];
    while (todo.length) {
      for (const n of next(todo.pop() as string)) {
        if (!seen.has(n)) {
          seen.add(n);
          todo.push(n);
        }
      }
    }
    return seen;
  };
  const reachable = new Map(model.modules.map((m) => [m.name, reach(m.name)]));
  const reported = new Set<string>();
  for (const start of model.modules.map((m) => m.name)) {
    if (reported.has(start) || !reachable.get(start)?.has(start)) continue;
    const cycle = model.modules
      .map((m) => m.name)
      .filter((m) => reachable.get(start)?.has(m) && reachable.get(m)?.has(start));
    cycle.forEach((m) => reported.add(m));
    // Shortest path start -> ... -> last inside the cycle, then the edge last -> start closes it.
    const parent = new Map<string, string>([[start, '']]);
    const queue = [start];
    let last: string | undefined;
    while (queue.length && last === undefined) {
      const cur = queue.shift() as string;
      for (const n of next(cur)) {
        if (n === start) {
          last = cur;
          break;
        }
        if (!parent.has(n) && cycle.includes(n)) {
          parent.set(n, cur);
          queue.push(n);
        }
      }
    }
    if (last === undefined) continue;
    const path: string[] = [];
    for (let m: string | undefined = last; m; m = parent.get(m)) path.unshift(m);
    const closing = (deps.get(last) ?? []).find((d) => d.module === start);
    const at = closing && (typeLocs.get(closing.site) ?? locs.get(closing.site));
    if (!closing || !at) continue;
    const chain = path.length > 1 ? `${path.join(' -> ')}` : start;
    diags.error(
      at,
      `module '${last}' cannot use '${closing.what}': module '${start}' already depends on module '${last}' (${chain}), and proto3 does not allow import cycles`,
    );
  }
}

function checkModule(mod: ModuleModel, locs: Locs, typeLocs: Locs, diags: Diagnostics): void {
  /** Package-level proto names: messages and services share one namespace. */
  const names = new Map<string, { what: string; identity: string | undefined }>();
  const claim = (name: string, what: string, purpose: string, at: Loc | undefined, identity?: string): void => {
    const prev = names.get(name);
    if (!prev) {
      names.set(name, { what, identity });
      return;
    }
    if (identity !== undefined && prev.identity === identity) return;
    if (at) diags.error(at, `${what} needs the proto name '${name}'${purpose}, which is already used by ${prev.what}`);
  };

  for (const s of mod.structs) {
    claim(s.protoName, `struct '${s.name}'`, '', locs.get(s));
    checkFields(s.fields, `struct '${s.name}'`, 'field', locs, diags);
  }
  for (const i of mod.interfaces) {
    claim(i.protoName, `interface '${i.name}'`, '', locs.get(i));
  }
  for (const i of mod.interfaces) {
    const rpcs = new Map<string, string>();
    for (const m of i.methods) {
      const prev = rpcs.get(m.protoName);
      if (prev !== undefined) {
        const at = locs.get(m);
        if (at) {
          diags.error(
            at,
            `method '${m.name}' needs the rpc name '${m.protoName}' in interface '${i.name}', which is already used by method '${prev}'`,
          );
        }
      }
      rpcs.set(m.protoName, m.name);
      if (m.declaredIn.interface !== i.name || m.declaredIn.module !== mod.name) continue;
      const what = `method '${i.name}.${m.name}'`;
      claim(m.requestMessage, what, ' for its request message', locs.get(m), `request:${i.name}.${m.name}`);
      claim(m.responseMessage, what, ' for its response message', locs.get(m), `response:${i.name}.${m.name}`);
      checkFields(m.params, `method '${i.name}.${m.name}'`, 'parameter', locs, diags);
    }
  }

  const wrappersOf = (t: TypeRef, at: Loc | undefined): void => {
    for (const w of wrappersFor(t)) {
      claim(
        wrapperName(w),
        `type '${typeRefText(w)}'`,
        ' for its wrapper message',
        at,
        `wrapper:${fieldTypeText(w, absoluteRef)}`,
      );
    }
  };
  for (const s of mod.structs) for (const f of s.fields) wrappersOf(f.type, typeLocs.get(f));
  for (const i of mod.interfaces) {
    for (const m of i.methods) {
      if (m.declaredIn.interface !== i.name || m.declaredIn.module !== mod.name) continue;
      for (const p of m.params) wrappersOf(p.type, typeLocs.get(p));
      if (m.returns !== 'void') wrappersOf(m.returns, typeLocs.get(m));
    }
  }
}

function checkFields(
  fields: readonly FieldModel[],
  owner: string,
  role: 'field' | 'parameter',
  locs: Locs,
  diags: Diagnostics,
): void {
  const byProto = new Map<string, string>();
  const byJson = new Map<string, string>();
  for (const f of fields) {
    const at = locs.get(f);
    const sameProto = byProto.get(f.protoName);
    const json = jsonName(f.protoName);
    const sameJson = byJson.get(json);
    if (sameProto !== undefined) {
      if (at) {
        diags.error(
          at,
          `${role} '${f.name}' of ${owner} needs the proto name '${f.protoName}', which is already used by ${role} '${sameProto}'`,
        );
      }
    } else if (sameJson !== undefined) {
      if (at) {
        diags.error(
          at,
          `${role} '${f.name}' of ${owner} has the same proto3 JSON name '${json}' as ${role} '${sameJson}'`,
        );
      }
    }
    if (!byProto.has(f.protoName)) byProto.set(f.protoName, f.name);
    if (!byJson.has(json)) byJson.set(json, f.name);
  }
}
