// messaging::IMessageServer for devices: send (validated, stored durably, then
// answered), ack, history, presence, resume. The sender and the acting device
// come from the connection's session, never from the payload.
import type { HistoryPage, Message, Presence, SendResult } from '../../../proto/gen/ts/messaging.js';
import type { IMessageServerServant } from '../../../proto/gen/ts/messaging.tce.js';
import type { CallContext } from '../../runtime/src/call-context.js';
import { PlatformError, invalidArgument } from '../../runtime/src/errors.js';
import { toMessage } from './device-feed.js';
import type { DeviceConnection } from './device-connection.js';
import { sessionOf } from './local-invoke.js';
import type { MessageStore } from './message-store.js';
import { MimeTextError, parseMimeText } from './mimetext.js';
import { findEnd, type SendPipeline } from './send-pipeline.js';
import type { UserDirectory } from './user-directory.js';

const USER_ID = /^[\x21-\x7e]{1,128}$/;
const CLIENT_MSG_ID = /^[A-Za-z0-9._:-]{1,64}$/;
export const MAX_HISTORY_LIMIT = 100;
/** Point reads one history call may spend looking for a peer's messages. */
const HISTORY_SCAN = 1000;
const MAX_PRESENCE_IDS = 256;

export interface MessageServantDeps {
  pipeline: SendPipeline;
  store: MessageStore;
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
    if (this.d.users && to !== s.userId) await this.d.users.assertExists(to);
    return this.d.pipeline.submit({
      from: s.userId,
      to,
      mime: canonical,
      cmid: client_msg_id,
      retry: ctx.extra.retry === '1' || ctx.extra.retry === 'true',
    });
  }

  ack(seq: number, ctx: CallContext): void {
    const s = sessionOf(ctx);
    if (!Number.isSafeInteger(seq) || seq < 0) throw invalidArgument('seq must be a non-negative integer');
    s.conn.feed?.ack(seq);
  }

  async history(peer: string, before_seq: number, limit: number, ctx: CallContext): Promise<HistoryPage> {
    const s = sessionOf(ctx);
    if (peer && !USER_ID.test(peer)) throw invalidArgument('peer: expected a user id or empty for everyone');
    if (!Number.isSafeInteger(before_seq) || before_seq < 0)
      throw invalidArgument('before_seq must be ≥ 0 (0 = newest)');
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_HISTORY_LIMIT) {
      throw invalidArgument(`limit must be between 1 and ${MAX_HISTORY_LIMIT} (0 = 20)`);
    }
    const want = limit || 20;
    const c = await this.d.store.getCounter(s.userId);
    const floor = c.trimmed;
    // Highest sequence number not yet examined; the newest page starts at the real end (the hint may lag).
    let top = before_seq > 0 ? before_seq - 1 : await findEnd(this.d.store, s.userId, Math.max(c.seq, floor));
    const messages: Message[] = [];
    let scanned = 0;
    while (top > floor && messages.length < want && scanned < HISTORY_SCAN) {
      const n = Math.min(32, top - floor, HISTORY_SCAN - scanned);
      const lo = top - n + 1;
      const docs = await this.d.store.getRange(s.userId, lo, n);
      scanned += n;
      let i = n - 1;
      for (; i >= 0; i--) {
        const d = docs[i];
        if (d && !d.tomb && (!peer || d.from === peer)) {
          messages.push(toMessage(d));
          if (messages.length === want) {
            i--;
            break;
          }
        }
      }
      top = lo + i;
    }
    const hasMore = top > floor;
    return { messages, next_before_seq: hasMore ? top + 1 : 0, has_more: hasMore };
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
}
