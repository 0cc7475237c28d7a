// Does a recipient exist? Asked of auth (IAuthServer.getUser) and cached, so a
// send to a known user costs no round trip; unknown names are remembered
// briefly so a typo storm does not hammer auth. Without auth configured the
// check is off (standalone test mode) — see docs/gateway.md.
import { IAuthServerProxy } from '../../../proto/gen/ts/auth.tce.js';
import { PlatformError } from '../../runtime/src/errors.js';

/** What the gateway accepts as a user id (auth issues u_…; tests and tools may use others). */
export const USER_ID = /^[\x21-\x7e]{1,128}$/;

export interface UserDirectory {
  assertExists(userId: string): Promise<void>;
  close(): void;
}

const POSITIVE_TTL_MS = 10 * 60_000;
const NEGATIVE_TTL_MS = 5_000;
const MAX_ENTRIES = 200_000;

export class AuthUserDirectory implements UserDirectory {
  private readonly cache = new Map<string, { exists: boolean; until: number }>();
  private readonly inflight = new Map<string, Promise<boolean>>();

  constructor(private readonly proxy: IAuthServerProxy) {}

  async assertExists(userId: string): Promise<void> {
    const now = Date.now();
    const c = this.cache.get(userId);
    let exists: boolean;
    if (c && c.until > now) exists = c.exists;
    else {
      let p = this.inflight.get(userId);
      if (!p) {
        p = this.lookup(userId).finally(() => this.inflight.delete(userId));
        this.inflight.set(userId, p);
      }
      exists = await p;
    }
    if (!exists) throw new PlatformError('NOT_FOUND', `no such user: ${userId}`);
  }

  private async lookup(userId: string): Promise<boolean> {
    let exists: boolean;
    try {
      await this.proxy.getUser(userId, { timeout: 5000 });
      exists = true;
    } catch (err) {
      const e = err as PlatformError;
      if (e.code === 'NOT_FOUND' || e.code === 'INVALID_ARGUMENT') exists = false;
      else throw new PlatformError('UNAVAILABLE', 'cannot check the recipient right now; retry', { cause: err });
    }
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(userId, { exists, until: Date.now() + (exists ? POSITIVE_TTL_MS : NEGATIVE_TTL_MS) });
    return exists;
  }

  close(): void {
    this.proxy.close();
  }
}
