// Group conversations in MongoDB. A group's messages are one stream in
// gw_inbox under the group id (same insert-is-the-sequence scheme as a user's
// inbox, see message-store.ts); this file keeps who belongs to which group and
// which gateway replicas hold members' devices.
// Membership is one document per (group, user), added by insert and removed by
// delete: both are single-document operations the unique _id arbitrates, so
// concurrent adds and leaves cannot lose each other (FerretDB 1.x applies
// updates to one document without isolation — a member list inside one
// document would lose concurrent changes).
import crypto from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { BatchedLookup } from './batched-lookup.js';
import { insertManyConflicts, isDuplicateKey } from './message-store.js';
import { storePace, type StorePace } from './store-pacing.js';

export interface GroupDoc {
  _id: string;
  name: string;
  createdBy: string;
  createdAt: number;
}

export interface MemberDoc {
  /** "<group>\n<user>" */
  _id: string;
  g: string;
  u: string;
  /** The group's highest sequence number when the user joined: devices start after it. */
  since: number;
  at: number;
}

/** A replica that holds (or held) a member's device: group pushes go to its topic. */
export interface GroupGatewayDoc {
  /** "<group>\n<gateway id>" */
  _id: string;
  g: string;
  gw: string;
  at: number;
}

export const GROUP_COLLECTIONS = {
  groups: 'gw_groups',
  members: 'gw_group_members',
  gateways: 'gw_group_gateways',
} as const;

export const GROUP_ID = /^g_[A-Za-z0-9_-]{16}$/;
export const isGroupId = (s: string): boolean => s.startsWith('g_');
export const newGroupId = (): string => `g_${crypto.randomBytes(12).toString('base64url')}`;
export const memberId = (group: string, user: string): string => `${group}\n${user}`;

export class GroupStore {
  readonly groups: Collection<GroupDoc>;
  readonly members: Collection<MemberDoc>;
  readonly gateways: Collection<GroupGatewayDoc>;

  constructor(
    db: Db,
    readonly pace: StorePace = storePace(),
  ) {
    this.groups = db.collection<GroupDoc>(GROUP_COLLECTIONS.groups);
    this.members = db.collection<MemberDoc>(GROUP_COLLECTIONS.members);
    this.gateways = db.collection<GroupGatewayDoc>(GROUP_COLLECTIONS.gateways);
  }

  /** Secondary indexes MongoDB uses for the membership queries (FerretDB scans either way). */
  async ensureIndexes(): Promise<void> {
    await this.members.createIndex({ u: 1 });
    await this.members.createIndex({ g: 1, at: 1 });
    await this.gateways.createIndex({ g: 1 });
    await this.gateways.createIndex({ gw: 1 });
  }

  async create(doc: GroupDoc): Promise<void> {
    await this.pace.writes.run(() => this.groups.insertOne(doc), true);
  }

  get(group: string): Promise<GroupDoc | null> {
    return this.pace.reads.run(() => this.groups.findOne({ _id: group }), true);
  }

  /** Members in the order they joined. */
  async memberList(group: string): Promise<MemberDoc[]> {
    return this.pace.reads.run(() => this.members.find({ g: group }).sort({ at: 1, _id: 1 }).toArray(), true);
  }

  async count(group: string): Promise<number> {
    return this.pace.reads.run(() => this.members.countDocuments({ g: group }), true);
  }

  membership(group: string, user: string): Promise<MemberDoc | null> {
    return this.pace.reads.run(() => this.members.findOne({ _id: memberId(group, user) }), true);
  }

  /**
   * The user's memberships (which group feeds a device of theirs gets). Session
   * starts that ask at the same time share one query: on FerretDB each query
   * scans every membership (~250 ms at 10 000), so one per session made a
   * 10 000-device reconnect storm take ~40 minutes.
   */
  groupsOf(user: string): Promise<MemberDoc[]> {
    return this.membershipsOf.get(user);
  }

  private readonly membershipsOf = new BatchedLookup<MemberDoc>(
    (users) => this.pace.reads.run(() => this.members.find({ u: { $in: users } }).toArray(), true),
    (m) => m.u,
  );

  /** Adds members; returns the users that were not members yet. */
  async addMembers(group: string, users: readonly string[], since: number, now = Date.now()): Promise<string[]> {
    if (users.length === 0) return [];
    const docs: MemberDoc[] = users.map((u, i) => ({ _id: memberId(group, u), g: group, u, since, at: now + i / 1e3 }));
    const taken = await this.pace.writes.run(() => insertManyConflicts(this.members, docs), true);
    return users.filter((_, i) => !taken.has(i));
  }

  /** True when the user was a member. */
  async removeMember(group: string, user: string): Promise<boolean> {
    const r = await this.pace.writes.run(() => this.members.deleteOne({ _id: memberId(group, user) }), true);
    return r.deletedCount > 0;
  }

  /** Records that `gateway` holds members' devices of `group` (idempotent). */
  async registerGateway(group: string, gateway: string, now = Date.now()): Promise<void> {
    try {
      await this.pace.writes.run(
        () => this.gateways.insertOne({ _id: `${group}\n${gateway}`, g: group, gw: gateway, at: now }),
        true,
      );
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  async gatewaysOf(group: string): Promise<string[]> {
    const docs = await this.pace.reads.run(() => this.gateways.find({ g: group }).toArray());
    return docs.map((d) => d.gw);
  }

  /** A dead replica's registrations (sweeper). */
  async forgetGateway(gateway: string): Promise<number> {
    const r = await this.gateways.deleteMany({ gw: gateway });
    return r.deletedCount;
  }
}
