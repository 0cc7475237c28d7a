// Users in MongoDB. The unique index on the normalised username is the only
// arbiter of "who registered first": FerretDB 1.x applies updates without
// isolation (concurrent read-modify-writes lose each other), but a unique
// index violation is atomic, so registration is an insert. A registration
// first inserts a *pending* user (winning the name), then hashes the password
// and activates it; losers fail fast without spending a hash. A pending user
// whose registration died is swept after PENDING_MS and its name freed.
import type { Collection, Db } from 'mongodb';
import { isDuplicateKey } from '../../runtime/src/mongo-errors.js';

export interface UserDoc {
  _id: string;
  username: string;
  username_key: string;
  display_name: string;
  email: string;
  password_hash: string | null;
  state: 'pending' | 'active';
  pending_until: number | null;
  created_at: number;
  updated_at: number;
  password_changed_at: number;
}

export const USERS = 'users';
/** How long a registration may take between winning the name and storing the hash. */
export const PENDING_MS = 2 * 60_000;

export class UserStore {
  readonly col: Collection<UserDoc>;

  constructor(db: Db) {
    this.col = db.collection<UserDoc>(USERS);
  }

  async ensureIndexes(): Promise<void> {
    await this.col.createIndex({ username_key: 1 }, { unique: true, name: 'username_key_unique' });
    await this.col.createIndex({ pending_until: 1 }, { name: 'pending_until' });
  }

  /** Claims the name with a pending user. False when the name is taken (or being registered). */
  async reserve(user: Omit<UserDoc, 'state' | 'pending_until' | 'password_hash'>, now: number): Promise<boolean> {
    const doc: UserDoc = { ...user, password_hash: null, state: 'pending', pending_until: now + PENDING_MS };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.col.insertOne(doc);
        return true;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      // A registration that died mid-way leaves a stale pending user: free its name once.
      const stale = await this.col.deleteOne({
        username_key: user.username_key,
        state: 'pending',
        pending_until: { $lt: now },
      });
      if (stale.deletedCount === 0) return false;
    }
    return false;
  }

  /** Stores the hash of a reserved user; false if the reservation is gone (swept after PENDING_MS). */
  async activate(id: string, passwordHash: string, now: number): Promise<boolean> {
    const r = await this.col.updateOne(
      { _id: id, state: 'pending' },
      { $set: { password_hash: passwordHash, state: 'active', pending_until: null, updated_at: now } },
    );
    return r.matchedCount === 1;
  }

  async abandon(id: string): Promise<void> {
    await this.col.deleteOne({ _id: id, state: 'pending' });
  }

  async findActiveByKey(key: string): Promise<UserDoc | null> {
    return this.col.findOne({ username_key: key, state: 'active' });
  }

  async findActiveById(id: string): Promise<UserDoc | null> {
    return this.col.findOne({ _id: id, state: 'active' });
  }

  async setPasswordHash(id: string, passwordHash: string, now: number): Promise<void> {
    await this.col.updateOne(
      { _id: id, state: 'active' },
      { $set: { password_hash: passwordHash, updated_at: now, password_changed_at: now } },
    );
  }

  /** Deletes pending users whose registration did not finish in time. */
  async sweepPending(now: number): Promise<number> {
    const r = await this.col.deleteMany({ state: 'pending', pending_until: { $lt: now } });
    return r.deletedCount;
  }
}
