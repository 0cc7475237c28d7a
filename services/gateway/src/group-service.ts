// Group conversations for devices: create, add, leave, list, send, history.
// A group message is stored once, in the group's own sequence (the send
// pipeline, with the group id as the stream); every member's devices get it
// through their own feed of that stream (hub.ts). Membership decides who may
// send, read and add.
import type { Group, HistoryPage, SendResult } from '../../../proto/gen/ts/messaging.js';
import { PlatformError, invalidArgument } from '../../runtime/src/errors.js';
import { GROUP_ID, isGroupId, newGroupId, type GroupDoc, type GroupStore } from './group-store.js';
import { readHistory } from './history.js';
import type { MessageStore } from './message-store.js';
import { findEnd, type SendPipeline, type SendRequest } from './send-pipeline.js';
import { USER_ID, type UserDirectory } from './user-directory.js';

export const MAX_GROUP_MEMBERS = 20_000;
export const MAX_MEMBERS_PER_CALL = 1000;
const MAX_NAME_CHARS = 100;
/**
 * How long a positive membership check is reused for sends. A member removed
 * on another replica may still send this long; leaving on this replica takes
 * effect at once.
 */
const MEMBER_CACHE_MS = 5000;
const MEMBER_CACHE_MAX = 100_000;

export interface GroupServiceDeps {
  groups: GroupStore;
  store: MessageStore;
  pipeline: SendPipeline;
  users: UserDirectory | undefined;
  /** Users joined or left: their connected devices open or close the group's feed. */
  membershipChanged(users: readonly string[], group: string, joined: boolean, since: number): void;
  now?: () => number;
}

export function checkGroupId(group: string): void {
  if (!GROUP_ID.test(group)) throw invalidArgument('group_id: expected g_ and 16 characters');
}

/** Distinct, well-formed user ids (the caller's own id dropped). */
export function checkMembers(members: readonly string[], caller: string): string[] {
  if (members.length > MAX_MEMBERS_PER_CALL) {
    throw invalidArgument(`at most ${MAX_MEMBERS_PER_CALL} members per call`);
  }
  const out = new Set<string>();
  for (const m of members) {
    if (!USER_ID.test(m) || isGroupId(m)) throw invalidArgument(`not a user id: ${JSON.stringify(m.slice(0, 40))}`);
    if (m !== caller) out.add(m);
  }
  return [...out];
}

/** RESOURCE_EXHAUSTED when adding `adding` users to a group of `count` would pass MAX_GROUP_MEMBERS. */
export function checkRoom(group: string, count: number, adding: number): void {
  if (count + adding > MAX_GROUP_MEMBERS) {
    throw new PlatformError(
      'RESOURCE_EXHAUSTED',
      `group ${group} would have more than ${MAX_GROUP_MEMBERS} members (it has ${count})`,
    );
  }
}

export class GroupService {
  private readonly memberCache = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly d: GroupServiceDeps) {
    this.now = d.now ?? Date.now;
  }

  async create(caller: string, name: string, members: readonly string[]): Promise<Group> {
    const trimmed = name.trim();
    if (!trimmed || [...trimmed].length > MAX_NAME_CHARS) {
      throw invalidArgument(`name: 1-${MAX_NAME_CHARS} characters`);
    }
    const others = checkMembers(members, caller);
    await this.assertUsersExist(others);
    const doc: GroupDoc = { _id: newGroupId(), name: trimmed, createdBy: caller, createdAt: this.now() };
    await this.d.groups.create(doc);
    await this.d.groups.addMembers(doc._id, [caller, ...others], 0, doc.createdAt);
    this.d.membershipChanged([caller, ...others], doc._id, true, 0);
    return this.describe(doc);
  }

  async send(caller: string, group: string, req: Omit<SendRequest, 'from' | 'to'>): Promise<SendResult> {
    checkGroupId(group);
    await this.assertMember(group, caller, true);
    return this.d.pipeline.submit({ ...req, from: caller, to: group });
  }

  async history(caller: string, group: string, beforeSeq: number, want: number): Promise<HistoryPage> {
    checkGroupId(group);
    await this.assertMember(group, caller, false);
    return readHistory(this.d.store, group, beforeSeq, want);
  }

  /** The caller's groups, without member lists (group() has them). */
  async list(caller: string): Promise<Group[]> {
    const mine = await this.d.groups.groupsOf(caller);
    const docs = await Promise.all(mine.map((m) => this.d.groups.get(m.g)));
    return docs.filter((g): g is GroupDoc => !!g).map((g) => this.toGroup(g, []));
  }

  async get(caller: string, group: string): Promise<Group> {
    checkGroupId(group);
    const doc = await this.d.groups.get(group);
    if (!doc) throw new PlatformError('NOT_FOUND', `group ${group} not found`);
    await this.assertMember(group, caller, false);
    return this.describe(doc);
  }

  async add(caller: string, group: string, members: readonly string[]): Promise<Group> {
    checkGroupId(group);
    const doc = await this.d.groups.get(group);
    if (!doc) throw new PlatformError('NOT_FOUND', `group ${group} not found`);
    await this.assertMember(group, caller, false);
    const others = checkMembers(members, caller);
    const count = await this.d.groups.count(group);
    checkRoom(group, count, others.length);
    await this.assertUsersExist(others);
    // New members get what is stored from now on: their devices start after the current end.
    const since = await findEnd(this.d.store, group, (await this.d.store.getCounter(group)).seq);
    const added = await this.d.groups.addMembers(group, others, since, this.now());
    this.d.membershipChanged(added, group, true, since);
    return this.describe(doc);
  }

  async leave(caller: string, group: string): Promise<void> {
    checkGroupId(group);
    const removed = await this.d.groups.removeMember(group, caller);
    this.memberCache.delete(`${group}\n${caller}`);
    if (!removed) await this.notMember(group);
    this.d.membershipChanged([caller], group, false, 0);
  }

  /** The group with its members. */
  private async describe(doc: GroupDoc): Promise<Group> {
    const members = await this.d.groups.memberList(doc._id);
    return this.toGroup(
      doc,
      members.map((m) => m.u),
    );
  }

  private toGroup(doc: GroupDoc, members: string[]): Group {
    return { group_id: doc._id, name: doc.name, created_by: doc.createdBy, created_at: doc.createdAt, members };
  }

  private async assertUsersExist(users: readonly string[]): Promise<void> {
    const dir = this.d.users;
    if (dir) await Promise.all(users.map((u) => dir.assertExists(u)));
  }

  /** PERMISSION_DENIED for a non-member, NOT_FOUND when the group does not exist. */
  private async assertMember(group: string, user: string, cached: boolean): Promise<void> {
    const key = `${group}\n${user}`;
    const now = this.now();
    if (cached && (this.memberCache.get(key) ?? 0) > now) return;
    if (await this.d.groups.membership(group, user)) {
      if (this.memberCache.size >= MEMBER_CACHE_MAX) this.memberCache.clear();
      this.memberCache.set(key, now + MEMBER_CACHE_MS);
      return;
    }
    await this.notMember(group);
  }

  private async notMember(group: string): Promise<never> {
    if (!(await this.d.groups.get(group))) throw new PlatformError('NOT_FOUND', `group ${group} not found`);
    throw new PlatformError('PERMISSION_DENIED', `not a member of group ${group}`);
  }
}
