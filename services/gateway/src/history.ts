// Paging backwards through one stream of gw_inbox (a user's inbox or a
// group's messages) with point reads only (see message-store.ts for why).
import type { HistoryPage, Message } from '../../../proto/gen/ts/messaging.js';
import { invalidArgument } from '../../runtime/src/errors.js';
import { toMessage } from './device-feed.js';
import type { InboxDoc, MessageStore } from './message-store.js';
import { findEnd } from './send-pipeline.js';

export const MAX_HISTORY_LIMIT = 100;
/** Point reads one history call may spend looking for matching messages. */
const HISTORY_SCAN = 1000;

/** Checks the paging arguments; returns the page size (0 means 20). */
export function historyLimit(beforeSeq: number, limit: number): number {
  if (!Number.isSafeInteger(beforeSeq) || beforeSeq < 0) throw invalidArgument('before_seq must be ≥ 0 (0 = newest)');
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_HISTORY_LIMIT) {
    throw invalidArgument(`limit must be between 1 and ${MAX_HISTORY_LIMIT} (0 = 20)`);
  }
  return limit || 20;
}

/** Newest first, before `beforeSeq` (0 = from the newest), keeping the messages `keep` accepts. */
export async function readHistory(
  store: MessageStore,
  stream: string,
  beforeSeq: number,
  want: number,
  keep: (d: InboxDoc) => boolean = () => true,
): Promise<HistoryPage> {
  const c = await store.getCounter(stream);
  const floor = c.trimmed;
  // Highest sequence number not yet examined; the newest page starts at the real end (the hint may lag).
  let top = beforeSeq > 0 ? beforeSeq - 1 : await findEnd(store, stream, Math.max(c.seq, floor));
  const messages: Message[] = [];
  // A retried send can exist twice with one msg_id (docs/protocol.md): a page shows it once.
  const shown = new Set<string>();
  let scanned = 0;
  while (top > floor && messages.length < want && scanned < HISTORY_SCAN) {
    const n = Math.min(32, top - floor, HISTORY_SCAN - scanned);
    const lo = top - n + 1;
    const docs = await store.getRange(stream, lo, n);
    scanned += n;
    let i = n - 1;
    for (; i >= 0; i--) {
      const d = docs[i];
      if (d && !d.tomb && keep(d) && !shown.has(d.msgId)) {
        shown.add(d.msgId);
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
