// Cross-gateway notices through EasyMQ: every gateway replica owns the
// transient topic `gw.<gateway id>`, creates it at start and subscribes to it;
// a replica that needs another one to push to its devices publishes to that
// replica's topic only. The topic password is derived from the internal key,
// so every replica can publish to every other and nothing else can.
import crypto from 'node:crypto';
import type { Logger } from '../../runtime/src/logger.js';
import { PlatformError } from '../../runtime/src/errors.js';
import type { MqClient, Subscription } from '../../mq/src/client/index.js';
import { decodeNotices, encodeNotices, NoticeBatcher, type Notice, type Notifier } from './notices.js';

export const topicName = (gatewayId: string): string => `gw.${gatewayId}`;

export interface MqNotifierOptions {
  /** The gateway's EasyMQ client (shared with GPS publishing; closed by its owner). */
  mq: MqClient;
  gatewayId: string;
  /** TCE_INTERNAL_KEY: derives the topic passwords. */
  internalKey: Buffer;
  /** TCE_MQ_ADMIN_PASSWORD: creates and removes the per-replica topics. */
  adminPassword: string;
  logger: Logger;
  /** Largest notice batch (bytes) per publish; larger batches are split. */
  maxMessageBytes?: number;
}

export class MqNotifier implements Notifier {
  private readonly mq: MqClient;
  private sub: Subscription | undefined;
  private state: string | undefined = 'not subscribed yet';
  private readonly batcher: NoticeBatcher;
  private readonly maxBytes: number;

  constructor(private readonly opts: MqNotifierOptions) {
    this.mq = opts.mq;
    this.maxBytes = opts.maxMessageBytes ?? 512 * 1024;
    this.batcher = new NoticeBatcher((g, n) => this.publish(g, n));
  }

  topicPassword(gatewayId: string): string {
    return crypto
      .createHmac('sha256', this.opts.internalKey)
      .update(`mq-topic:${topicName(gatewayId)}`)
      .digest('base64url');
  }

  async start(onNotices: (notices: Notice[]) => void, onResync: () => void): Promise<void> {
    const name = topicName(this.opts.gatewayId);
    await this.ensureTopic(name);
    let subscribedBefore = false;
    this.sub = this.mq.subscribe(
      {
        queue: name,
        password: this.topicPassword(this.opts.gatewayId),
        credit: 1000,
        onState: (st, info) => {
          if (st === 'subscribed') {
            this.state = undefined;
            // Notices sent while we were away are lost: let every local device re-read its inbox.
            if (subscribedBefore) onResync();
            subscribedBefore = true;
          } else {
            this.state = `mq subscription lost: ${info.err?.message ?? 'reconnecting'}`;
          }
        },
        onError: (err) => {
          this.state = `mq subscription failed: ${err.message}`;
          this.opts.logger.error('Push topic subscription failed', { err, topic: name });
        },
      },
      (d) => {
        try {
          onNotices(decodeNotices(d.payload));
        } catch (err) {
          this.opts.logger.warn('Dropped a malformed notice batch', { err });
        }
      },
    );
  }

  send(gatewayId: string, notice: Notice): void {
    this.batcher.add(gatewayId, notice);
  }

  ready(): string | undefined {
    return this.state;
  }

  async forget(gatewayId: string): Promise<void> {
    if (!this.opts.adminPassword) return;
    try {
      await this.mq.admin(this.opts.adminPassword).remove(topicName(gatewayId));
    } catch (err) {
      if ((err as PlatformError).code !== 'NOT_FOUND') throw err;
    }
  }

  async stop(): Promise<void> {
    this.sub?.close();
    // Give the subscription's last acks a moment before the client closes.
    await new Promise((r) => setTimeout(r, 50));
  }

  private async ensureTopic(name: string): Promise<void> {
    if (!this.opts.adminPassword) {
      this.opts.logger.warn('TCE_MQ_ADMIN_PASSWORD is not set: expecting the push topic to exist', { topic: name });
      return;
    }
    try {
      await this.mq
        .admin(this.opts.adminPassword)
        .create({ name, kind: 'topic', durable: false, slow_policy: 'drop' }, this.topicPassword(this.opts.gatewayId));
    } catch (err) {
      if ((err as PlatformError).code !== 'ALREADY_EXISTS') throw err;
    }
  }

  private publish(gatewayId: string, notices: Notice[]): void {
    for (const chunk of this.split(notices)) {
      this.mq
        .publish(topicName(gatewayId), this.topicPassword(gatewayId), { payload: encodeNotices(chunk) })
        .catch((err: unknown) =>
          this.opts.logger.warn('Failed to send notices to a gateway', {
            err,
            gateway: gatewayId,
            count: chunk.length,
          }),
        );
    }
  }

  /** Splits a batch so each publish stays under the bus's message size limit. */
  private split(notices: Notice[]): Notice[][] {
    const out: Notice[][] = [];
    let cur: Notice[] = [];
    let size = 0;
    for (const n of notices) {
      const s = JSON.stringify(n).length;
      if (cur.length > 0 && size + s > this.maxBytes) {
        out.push(cur);
        cur = [];
        size = 0;
      }
      cur.push(n);
      size += s;
    }
    if (cur.length) out.push(cur);
    return out;
  }
}
