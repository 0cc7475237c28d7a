// Membership without mq (static sharding): the units are a fixed list of
// addresses from TCE_LOCATION_PEERS, and each owns the partitions of its
// TCE_LOCATION_PARTITIONS. Used for benchmarks and local runs without a bus.
import type { Directory } from './coordinator.js';

export class StaticDirectory implements Directory {
  private readonly list: string[];

  constructor(self: string, peers: readonly string[]) {
    this.list = [...new Set([self, ...peers])];
  }

  members(): Promise<string[]> {
    return Promise.resolve(this.list);
  }
}
