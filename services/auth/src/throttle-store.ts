// Failed-login state in MongoDB, so throttling survives restarts and holds
// across replicas. One document per failure: `<key>#<seq>`. FerretDB 1.x
// applies updates without isolation, so a counter in one document would lose
// increments under a parallel attack; an insert with a unique _id cannot.
// Claiming an attempt is "read the failures, decide, insert the next seq":
// two claimers that read the same state race for the same seq and exactly one
// wins — the other re-reads and decides again. Account attempts are claimed
// *before* the password is checked (a parallel burst cannot exceed the
// policy) and the claim is dropped on success; address failures are recorded
// after the check (shared addresses must not be slowed by logins in flight).
import type { Collection, Db } from 'mongodb';
import { PlatformError } from '../../runtime/src/errors.js';
import { isDuplicateKey } from '../../runtime/src/mongo-errors.js';
import { decide, refusalMessage, type Decision, type ThrottlePolicy } from './throttle-policy.js';

export interface FailureDoc {
  _id: string;
  key: string;
  seq: number;
  at: number;
  expires_at: number;
}

export const LOGIN_FAILURES = 'auth_login_failures';
/** A claim that loses this many races in a row gives up (only under an extreme parallel burst). */
const MAX_RACES = 25;

export interface Claim {
  id: string;
}

export const accountKey = (usernameKey: string): string => `acct:${usernameKey}`;
export const addressKey = (addr: string): string => `addr:${addr}`;

export class ThrottleStore {
  readonly col: Collection<FailureDoc>;

  constructor(db: Db) {
    this.col = db.collection<FailureDoc>(LOGIN_FAILURES);
  }

  async ensureIndexes(): Promise<void> {
    await this.col.createIndex({ key: 1 }, { name: 'key' });
    await this.col.createIndex({ expires_at: 1 }, { name: 'expires_at' });
  }

  private async read(key: string): Promise<{ times: number[]; nextSeq: number }> {
    const docs = await this.col.find({ key }, { projection: { seq: 1, at: 1 } }).toArray();
    let max = -1;
    for (const d of docs) max = Math.max(max, d.seq);
    return { times: docs.map((d) => d.at), nextSeq: max + 1 };
  }

  private doc(key: string, seq: number, now: number, p: ThrottlePolicy): FailureDoc {
    return { _id: `${key}#${seq}`, key, seq, at: now, expires_at: now + p.windowMs };
  }

  /** Throws RESOURCE_EXHAUSTED when `key` must wait. */
  async check(key: string, p: ThrottlePolicy, now: number): Promise<void> {
    const { times } = await this.read(key);
    refuseUnlessAllowed(decide(times, now, p), p);
  }

  /**
   * Decides and, when allowed, records a failure at `now` in one atomic step.
   * The caller drops the claim (`release`) if the password turns out right or
   * was never checked. Throws RESOURCE_EXHAUSTED when `key` must wait.
   */
  async claim(key: string, p: ThrottlePolicy, now: () => number): Promise<Claim> {
    for (let i = 0; i < MAX_RACES; i++) {
      const { times, nextSeq } = await this.read(key);
      const t = now();
      refuseUnlessAllowed(decide(times, t, p), p);
      const doc = this.doc(key, nextSeq, t, p);
      try {
        await this.col.insertOne(doc);
        return { id: doc._id };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    throw new PlatformError('RESOURCE_EXHAUSTED', refusalMessage(p, 1000));
  }

  async release(claim: Claim): Promise<void> {
    await this.col.deleteOne({ _id: claim.id });
  }

  /** Records a failure (no decision): for the address after a wrong password. */
  async recordFailure(key: string, p: ThrottlePolicy, now: number): Promise<void> {
    for (let i = 0; i < MAX_RACES; i++) {
      const { nextSeq } = await this.read(key);
      try {
        await this.col.insertOne(this.doc(key, nextSeq, now, p));
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
  }

  /** A successful login clears the account's failures. */
  async reset(key: string): Promise<void> {
    await this.col.deleteMany({ key });
  }

  async sweep(now: number): Promise<number> {
    const r = await this.col.deleteMany({ expires_at: { $lt: now } });
    return r.deletedCount;
  }
}

function refuseUnlessAllowed(d: Decision, p: ThrottlePolicy): void {
  if (!d.allowed) throw new PlatformError('RESOURCE_EXHAUSTED', refusalMessage(p, d.retryAfterMs));
}
