// gRPC proxies to the other units, one per address, kept while the address is
// a member and closed when it leaves.
import { ILocationUnitProxy } from '../../../proto/gen/ts/location.tce.js';

export class PeerPool {
  private readonly proxies = new Map<string, ILocationUnitProxy>();

  get(addr: string): ILocationUnitProxy {
    let p = this.proxies.get(addr);
    if (!p) this.proxies.set(addr, (p = new ILocationUnitProxy(addr)));
    return p;
  }

  /** Closes proxies of addresses no longer in `members`. */
  retain(members: readonly string[]): void {
    const keep = new Set(members);
    for (const [addr, p] of this.proxies) {
      if (!keep.has(addr)) {
        p.close();
        this.proxies.delete(addr);
      }
    }
  }

  close(): void {
    for (const p of this.proxies.values()) p.close();
    this.proxies.clear();
  }
}
