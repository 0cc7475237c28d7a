// Calling a TCE interface through EasyMQ with the ordinary generated proxies:
// a BusChannel stands in for the grpc-js Client a proxy is built on (it has the
// one method proxies use, makeUnaryRequest), so normal, _oneway and _async
// calls, timeouts (→ deadline) and extra (→ metadata) work unchanged:
//
//   const proxy = new IDiagProxy(new BusChannel(mq, { queue: 'rpc.diag', password,
//     replyQueue: 'replies.gw-1', replyPassword }) as unknown as grpc.Client);
//
// Replies come back on the caller's own reply queue, matched by call id.
import crypto from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { MqClient } from '../client/mq-client.js';
import type { Subscription } from '../client/subscription.js';
import { H, metadataToHeaders } from './bus-headers.js';

export interface BusChannelOptions {
  /** The queue the servants serve. */
  queue: string;
  password: string;
  /** This caller's own queue for replies (a plain queue nobody else consumes). */
  replyQueue: string;
  replyPassword: string;
}

interface Pending {
  deserialize: (b: Buffer) => unknown;
  callback: grpc.requestCallback<unknown>;
  timer: NodeJS.Timeout | undefined;
}

const statusError = (code: grpc.status, details: string): grpc.ServiceError =>
  Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), {
    code,
    details,
    metadata: new grpc.Metadata(),
  });

export class BusChannel {
  private readonly mq: MqClient;
  private readonly opts: BusChannelOptions;
  private readonly pending = new Map<string, Pending>();
  private replies: Subscription | undefined;

  constructor(mq: MqClient, opts: BusChannelOptions) {
    this.mq = mq;
    this.opts = opts;
  }

  makeUnaryRequest(
    path: string,
    serialize: (v: unknown) => Buffer,
    deserialize: (b: Buffer) => unknown,
    request: unknown,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<unknown>,
  ): { cancel(): void } {
    this.listen();
    const id = crypto.randomUUID();
    const deadline =
      options.deadline instanceof Date ? options.deadline.getTime() : Number(options.deadline ?? Infinity);
    const headers: Record<string, string> = {
      [H.method]: path,
      [H.callId]: id,
      [H.replyTo]: this.opts.replyQueue,
      [H.replyPassword]: this.opts.replyPassword,
    };
    if (Number.isFinite(deadline)) headers[H.deadline] = String(deadline);
    metadataToHeaders(metadata, headers);
    const finish = (err: grpc.ServiceError | null, value?: unknown): void => {
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.callback(err, value);
    };
    const timer = Number.isFinite(deadline)
      ? setTimeout(
          () => finish(statusError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded')),
          Math.max(0, deadline - Date.now()),
        )
      : undefined;
    this.pending.set(id, { deserialize, callback, timer });
    // The call id doubles as the idempotency key: a publish retried after a reconnect runs once.
    this.mq
      .publish(this.opts.queue, this.opts.password, { id, payload: serialize(request), headers })
      .catch((err: Error & { code?: string }) => {
        finish(
          statusError(
            grpc.status[(err.code ?? 'UNAVAILABLE') as keyof typeof grpc.status] ?? grpc.status.UNAVAILABLE,
            err.message,
          ),
        );
      });
    return { cancel: () => finish(statusError(grpc.status.CANCELLED, 'Cancelled on client')) };
  }

  close(): void {
    this.replies?.close();
    this.replies = undefined;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.callback(statusError(grpc.status.CANCELLED, 'channel closed'));
    }
  }

  private listen(): void {
    this.replies ??= this.mq.subscribe(
      { queue: this.opts.replyQueue, password: this.opts.replyPassword, credit: 1000 },
      (d) => {
        const p = this.pending.get(d.headers[H.callId] ?? '');
        if (!p) return; // late (deadline passed) or someone else's
        this.pending.delete(d.headers[H.callId]!);
        clearTimeout(p.timer);
        const code = Number(d.headers[H.status] ?? grpc.status.INTERNAL) as grpc.status;
        if (code !== grpc.status.OK) return p.callback(statusError(code, d.headers[H.details] ?? ''));
        try {
          p.callback(null, p.deserialize(d.payload));
        } catch {
          p.callback(statusError(grpc.status.INTERNAL, 'malformed reply'));
        }
      },
    );
  }
}
