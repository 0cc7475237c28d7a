// Notices between gateway replicas: what one replica asks another to do for
// devices connected there. They travel through the receiving replica's own mq
// topic (never broadcast) and are best effort: everything they carry is either
// already durable (messages — a lost notice only delays a push until the next
// read) or advisory (receipts, presence, displacement).
import type { Presence, Receipt } from '../../../proto/gen/ts/messaging.js';
import type { InboxDoc } from './message-store.js';

export type Notice =
  /** Stored messages for recipients with a device on the receiving gateway. */
  | { t: 'msgs'; docs: InboxDoc[] }
  /** Delivery receipts for senders with a device there. */
  | { t: 'receipts'; items: { user: string; receipt: Receipt }[] }
  /** A newer connection of this device opened elsewhere: close the older one. */
  | { t: 'kick'; user: string; device: string; conn: string; at: number }
  /** Online/offline changes for watchers there. */
  | { t: 'presence'; items: Presence[] }
  /** A user joined or left a group: their devices there open or close the group's feed. */
  | { t: 'member'; user: string; group: string; joined: boolean; since: number };

/** The wire form: one JSON document holding the notices of one flush. */
export function encodeNotices(notices: Notice[]): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, n: notices }), 'utf8');
}

export function decodeNotices(buf: Uint8Array): Notice[] {
  const o = JSON.parse(Buffer.from(buf).toString('utf8')) as { v?: unknown; n?: unknown };
  if (o.v !== 1 || !Array.isArray(o.n)) throw new Error('not a gateway notice batch');
  return o.n as Notice[];
}

/** How notices reach other replicas. The production implementation is mq-notifier.ts. */
export interface Notifier {
  /** Starts receiving the notices addressed to this replica. */
  start(onNotices: (notices: Notice[]) => void, onResync: () => void): Promise<void>;
  /** Queues a notice for a replica (sent in a batch on the next tick). */
  send(gatewayId: string, notice: Notice): void;
  /** Whether notices can be sent and received now. */
  ready(): string | undefined;
  /** Removes what a dead replica left in the bus. */
  forget(gatewayId: string): Promise<void>;
  stop(): Promise<void>;
}

/** Batches notices per target replica until the end of the current tick. */
export class NoticeBatcher {
  private readonly pending = new Map<string, Notice[]>();
  private scheduled = false;

  constructor(private readonly flush: (gatewayId: string, notices: Notice[]) => void) {}

  add(gatewayId: string, n: Notice): void {
    let list = this.pending.get(gatewayId);
    if (!list) this.pending.set(gatewayId, (list = []));
    list.push(n);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const all = [...this.pending];
        this.pending.clear();
        for (const [g, list] of all) this.flush(g, list);
      });
    }
  }
}
