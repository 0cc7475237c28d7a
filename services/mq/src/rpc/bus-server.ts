// Serving a TCE interface from an EasyMQ queue: every replica subscribed to the
// queue competes for calls; each call runs through the same servant adapter as
// over gRPC (services/runtime/src/tce.ts), so servants, ctx (extra, identity,
// deadline) and typed errors behave the same; the reply goes to the caller's
// reply queue. A call whose deadline has passed is answered DEADLINE_EXCEEDED
// without running the servant.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../../runtime/src/logger.js';
import { servantHandlers, type InterfaceInfo } from '../../../runtime/src/tce.js';
import type { MqClient } from '../client/mq-client.js';
import type { Delivery, Subscription } from '../client/subscription.js';
import { H, headersToMetadata } from './bus-headers.js';

export interface BusServeOptions {
  queue: string;
  password: string;
  logger: Logger;
  /** Verifies caller identities in metadata, as RpcServer does. */
  identityKey?: Buffer;
  /** Calls handled at once by this replica (default 64). */
  concurrency?: number;
}

type Handler = (call: unknown, cb: (err: grpc.ServiceError | null, value?: unknown) => void) => void;

/** Attaches `servant` (implementing `info`) to `opts.queue`. Close the returned subscription to stop. */
export function serveOnQueue(mq: MqClient, info: InterfaceInfo, servant: object, opts: BusServeOptions): Subscription {
  const handlers = servantHandlers(info, servant, { logger: opts.logger, identityKey: opts.identityKey });
  const byPath = new Map<string, { handler: Handler; def: grpc.MethodDefinition<unknown, unknown> }>();
  for (const [key, def] of Object.entries(info.service)) {
    byPath.set(def.path, {
      handler: handlers[key] as unknown as Handler,
      def: def as grpc.MethodDefinition<unknown, unknown>,
    });
  }
  const reply = (d: Delivery, code: grpc.status, details: string, payload: Buffer): Promise<void> => {
    const to = d.headers[H.replyTo];
    if (!to) return Promise.resolve(); // nobody waits for it
    return mq
      .publish(to, d.headers[H.replyPassword] ?? '', {
        payload,
        headers: { [H.callId]: d.headers[H.callId] ?? '', [H.status]: String(code), [H.details]: details },
      })
      .then(
        () => undefined,
        (err: unknown) => opts.logger.warn('Could not deliver an RPC reply', { replyTo: to, err }),
      );
  };
  return mq.subscribe(
    { queue: opts.queue, password: opts.password, concurrency: opts.concurrency ?? 64 },
    async (d) => {
      const m = byPath.get(d.headers[H.method] ?? '');
      if (!m) {
        await reply(
          d,
          grpc.status.UNIMPLEMENTED,
          `${info.fullName} has no method ${d.headers[H.method] ?? ''}`,
          Buffer.alloc(0),
        );
        return;
      }
      const deadline = Number(d.headers[H.deadline] ?? '') || Infinity;
      if (deadline <= Date.now()) {
        await reply(d, grpc.status.DEADLINE_EXCEEDED, 'the call expired before a servant took it', Buffer.alloc(0));
        return;
      }
      let request: unknown;
      try {
        request = m.def.requestDeserialize(d.payload);
      } catch {
        await reply(d, grpc.status.INVALID_ARGUMENT, 'malformed request', Buffer.alloc(0));
        return;
      }
      const call = {
        request,
        metadata: headersToMetadata(d.headers),
        getPeer: () => `mq:${opts.queue}`,
        getDeadline: () => deadline,
        get cancelled() {
          return Date.now() >= deadline;
        },
      };
      const out = await new Promise<{ code: grpc.status; details: string; payload: Buffer }>((resolve) => {
        m.handler(call, (err, value) => {
          if (err)
            resolve({
              code: err.code ?? grpc.status.INTERNAL,
              details: err.details ?? 'internal error',
              payload: Buffer.alloc(0),
            });
          else resolve({ code: grpc.status.OK, details: '', payload: m.def.responseSerialize(value) });
        });
      });
      await reply(d, out.code, out.details, out.payload);
    },
  );
}
