// Which other modules a module's proto file depends on, and through which
// declaration. The emitter turns this into imports; the checker uses the
// declarations to point at the reference that would close an import cycle.
import type { FieldModel, InterfaceModel, MethodModel, ModuleModel } from './model.js';
import { structsIn } from './proto-types.js';

export interface Dependency {
  /** The module depended on. */
  module: string;
  /** The declaration making the reference: a field, parameter, method (its result) or interface (a base). */
  site: FieldModel | MethodModel | InterfaceModel;
  /** What is referenced, as IDL writes it (`Geo::Point`, `Base::IService`). */
  what: string;
}

/** Dependencies on other modules, in the order the emitter writes the declarations. */
export function dependenciesOf(mod: ModuleModel): Dependency[] {
  const out: Dependency[] = [];
  const field = (f: FieldModel | MethodModel, type: FieldModel['type']): void => {
    for (const s of structsIn(type)) {
      if (s.module !== mod.name) out.push({ module: s.module, site: f, what: `${s.module}::${s.name}` });
    }
  };
  for (const s of mod.structs) for (const f of s.fields) field(f, f.type);
  for (const i of mod.interfaces) {
    for (const m of i.methods) {
      const { module, interface: declaring } = m.declaredIn;
      if (module !== mod.name) {
        out.push({ module, site: i, what: `${module}::${declaring}` });
      } else if (declaring === i.name) {
        for (const p of m.params) field(p, p.type);
        if (m.returns !== 'void') field(m, m.returns);
      }
    }
  }
  return out;
}
