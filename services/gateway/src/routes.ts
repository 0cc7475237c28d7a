// Where a device call goes: an interface handled inside the gateway (a local
// servant) or one forwarded to an internal service as raw bytes. Resolution by
// name or by the IDL [index=N] annotations is pure and table-driven.
import { PlatformError } from '../../runtime/src/errors.js';
import type { InterfaceInfo, MethodInfo } from '../../runtime/src/tce.js';

export type Upstream = 'auth' | 'location';

export type RouteTarget =
  /** Served in the gateway by a servant object (methods take (...params, ctx)). */
  | { kind: 'local'; servant: object }
  /** Passed through unchanged to an internal gRPC service. */
  | { kind: 'forward'; upstream: Upstream };

export interface Route {
  info: InterfaceInfo;
  target: RouteTarget;
  /** Methods a device may call before it is authenticated. */
  publicMethods?: ReadonlySet<string>;
}

export interface Resolved {
  route: Route;
  method: MethodInfo;
}

export class RouteTable {
  private readonly byName = new Map<string, Route>();
  private readonly byIndex = new Map<number, Route>();
  /** Interfaces the device implements (ITerminal): named so the error says so. */
  private readonly deviceSide = new Set<string>();
  private readonly methodsByIndex = new Map<Route, Map<number, MethodInfo>>();

  constructor(routes: readonly Route[], deviceSide: readonly InterfaceInfo[] = []) {
    for (const r of routes) {
      if (this.byName.has(r.info.fullName)) throw new Error(`duplicate route for ${r.info.fullName}`);
      this.byName.set(r.info.fullName, r);
      if (r.info.index !== undefined) {
        const other = this.byIndex.get(r.info.index);
        if (other)
          throw new Error(`interface index ${r.info.index} used by ${other.info.fullName} and ${r.info.fullName}`);
        this.byIndex.set(r.info.index, r);
      }
      const mi = new Map<number, MethodInfo>();
      for (const m of Object.values(r.info.methods)) if (m.index !== undefined) mi.set(m.index, m);
      this.methodsByIndex.set(r, mi);
    }
    for (const d of deviceSide) this.deviceSide.add(d.fullName);
  }

  /** Finds the route and method of a call; throws UNIMPLEMENTED with a precise message. */
  resolve(f: { iface: string; iface_index: number; method: string; method_index: number }): Resolved {
    let route: Route | undefined;
    if (f.iface) {
      route = this.byName.get(f.iface);
      if (!route) {
        if (this.deviceSide.has(f.iface)) {
          throw new PlatformError('UNIMPLEMENTED', `${f.iface} is implemented by devices, not by the platform`);
        }
        throw new PlatformError('UNIMPLEMENTED', `unknown interface ${f.iface}`);
      }
    } else {
      if (!f.iface_index) throw new PlatformError('INVALID_ARGUMENT', 'a call needs iface or iface_index');
      route = this.byIndex.get(f.iface_index);
      if (!route) throw new PlatformError('UNIMPLEMENTED', `unknown interface index ${f.iface_index}`);
    }
    let method: MethodInfo | undefined;
    if (f.method) {
      method = Object.hasOwn(route.info.methods, f.method) ? route.info.methods[f.method] : undefined;
      if (!method) throw new PlatformError('UNIMPLEMENTED', `${route.info.fullName} has no method ${f.method}`);
    } else {
      if (!f.method_index) throw new PlatformError('INVALID_ARGUMENT', 'a call needs method or method_index');
      method = this.methodsByIndex.get(route)!.get(f.method_index);
      if (!method) {
        throw new PlatformError('UNIMPLEMENTED', `${route.info.fullName} has no method with index ${f.method_index}`);
      }
    }
    return { route, method };
  }

  interfaces(): string[] {
    return [...this.byName.keys()].sort();
  }
}
