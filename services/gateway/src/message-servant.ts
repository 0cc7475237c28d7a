// messaging::IMessageServer for devices: send (validated, stored durably, then
// answered), ack, history, presence, resume. The sender and the acting device
// come from the connection's session, never from the payload.
import type { Group, HistoryPage, Presence, SendResult } from '../../../proto/gen/ts/messaging.js';
import type { IMessageServerServant } from '../../../proto/gen/ts/messaging.tce.js';
import type { CallContext } from '../../runtime/src/call-context.js';
import { PlatformError, invalidArgument } from '../../runtime/src/errors.js';
import type { DeviceConnection } from './device-connection.js';
import { sessionOf } from './local-invoke.js';
import type { MessageStore } from './message-store.js';
import { MimeTextError, parseMimeText } from './mimetext.js';
import { historyLimit, readHistory } from './history.js';
import type { SendPipeline, SendRequest } from './send-pipeline.js';
import { checkGroupId, type GroupService } from './group-service.js';
import { isGroupId } from './group-store.js';
import { USER_ID, type UserDirectory } from './user-directory.js';

const CLIENT_MSG_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const MAX_PRESENCE_IDS = 256;

export interface MessageServantDeps {
  pipeline: SendPipeline;
  store: MessageStore;
  groups: GroupService;
  users: UserDirectory | undefined;
  /** Answers, and subscribes the connection to changes of these users (onPresence). */
  presenceOf(userIds: readonly string[], conn: DeviceConnection): Promise<Presence[]>;
  maxMessageBytes: number;
}

export class MessageServant implements IMessageServerServant {
  constructor(private readonly d: MessageServantDeps) {}

  async send(to: string, mime_text: string, client_msg_id: string, ctx: CallContext): Promise<SendResult> {
    const s = sessionOf(ctx);
    if (!USER_ID.test(to)) throw invalidArgument('to: expected a user id (1-128 printable ASCII characters)');
    if (isGroupId(to)) throw invalidArgument(`to: ${to} is a group; send to it with sendGroup`);
    const req = this.sendRequest(mime_text, client_msg_id, ctx);
    if (this.d.users && to !== s.userId) await this.d.users.assertExists(to);
    return this.d.pipeline.submit({ ...req, from: s.userId, to });
  }

  /** What send and sendGroup check alike: the body (to canonical form) and the client message id. */
  private sendRequest(mime_text: string, client_msg_id: string, ctx: CallContext): Omit<SendRequest, 'from' | 'to'> {
    if (client_msg_id && !CLIENT_MSG_ID.test(client_msg_id)) {
      throw invalidArgument('client_msg_id: expected 1-64 of A-Z a-z 0-9 . _ : -');
    }
    let canonical: string;
    try {
      canonical = parseMimeText(mime_text, this.d.maxMessageBytes).canonical;
    } catch (err) {
      if (err instanceof MimeTextError) throw invalidArgument(err.message);
      throw err;
    }
    return { mime: canonical, cmid: client_msg_id, retry: ctx.extra.retry === '1' || ctx.extra.retry === 'true' };
  }

  ack(seq: number, ctx: CallContext): void {
    const s = sessionOf(ctx);
    if (!Number.isSafeInteger(seq) || seq < 0) throw invalidArgument('seq must be a non-negative integer');
    // As resume: an ack before the feed exists would be lost silently.
    if (!s.conn.feed) throw new PlatformError('UNAVAILABLE', 'the session is still starting; retry');
    s.conn.feed.ack(seq);
  }

  async history(peer: string, before_seq: number, limit: number, ctx: CallContext): Promise<HistoryPage> {
    const s = sessionOf(ctx);
    if (peer && !USER_ID.test(peer)) throw invalidArgument('peer: expected a user id or empty for everyone');
    const want = historyLimit(before_seq, limit);
    return readHistory(this.d.store, s.userId, before_seq, want, (d) => !peer || d.from === peer);
  }

  async presence(user_ids: string[], ctx: CallContext): Promise<Presence[]> {
    const s = sessionOf(ctx);
    if (user_ids.length > MAX_PRESENCE_IDS) throw invalidArgument(`at most ${MAX_PRESENCE_IDS} user ids per call`);
    for (const u of user_ids)
      if (!USER_ID.test(u)) throw invalidArgument(`not a user id: ${JSON.stringify(u.slice(0, 40))}`);
    return this.d.presenceOf(user_ids, s.conn);
  }

  resume(after_seq: number, ctx: CallContext): void {
    const s = sessionOf(ctx);
    if (!Number.isSafeInteger(after_seq) || after_seq < 0)
      throw invalidArgument('after_seq must be a non-negative integer');
    if (!s.conn.feed) throw new PlatformError('UNAVAILABLE', 'the session is still starting; retry');
    s.conn.feed.resume(after_seq);
  }

  // ------------------------------------------------------------------ groups (group-service.ts)

  createGroup(name: string, members: string[], ctx: CallContext): Promise<Group> {
    return this.d.groups.create(sessionOf(ctx).userId, name, members);
  }

  sendGroup(group_id: string, mime_text: string, client_msg_id: string, ctx: CallContext): Promise<SendResult> {
    const s = sessionOf(ctx);
    checkGroupId(group_id);
    return this.d.groups.send(s.userId, group_id, this.sendRequest(mime_text, client_msg_id, ctx));
  }

  groupHistory(group_id: string, before_seq: number, limit: number, ctx: CallContext): Promise<HistoryPage> {
    const s = sessionOf(ctx);
    return this.d.groups.history(s.userId, group_id, before_seq, historyLimit(before_seq, limit));
  }

  groups(ctx: CallContext): Promise<Group[]> {
    return this.d.groups.list(sessionOf(ctx).userId);
  }

  addMembers(group_id: string, members: string[], ctx: CallContext): Promise<Group> {
    return this.d.groups.add(sessionOf(ctx).userId, group_id, members);
  }

  leaveGroup(group_id: string, ctx: CallContext): Promise<void> {
    return this.d.groups.leave(sessionOf(ctx).userId, group_id);
  }

  group(group_id: string, ctx: CallContext): Promise<Group> {
    return this.d.groups.get(sessionOf(ctx).userId, group_id);
  }
}
