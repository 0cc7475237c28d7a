// Test support for EasyMQ: a real broker process (startService) on a real store,
// a client, raw stream access for protocol tests, and collectors.
import * as grpc from '@grpc/grpc-js';
import { SubscribeEvent, SubscribeRequest } from '../../../proto/gen/ts/mq.js';
import { MqClient, type Delivery, type SubscribeOptions } from '../../../services/mq/src/client/index.js';
import { mqStreamDefinition } from '../../../services/mq/src/stream-definition.js';
import { freePort, startService, waitFor, type ServiceProcess } from '../../support/index.js';

export const ADMIN = 'admin-secret';
export const PW = 'queue-secret';

export interface Broker {
  svc: ServiceProcess;
  port: number;
  addr: string;
  env: Record<string, string>;
}

export async function startBroker(
  storeUrl: string,
  queues: Record<string, unknown>[],
  extra: Record<string, string> = {},
  port?: number,
): Promise<Broker> {
  const p = port ?? (await freePort());
  const env = {
    TCE_MONGO_URL: storeUrl,
    TCE_GRPC_PORT: String(p),
    TCE_MQ_ADMIN_PASSWORD: ADMIN,
    TCE_MQ_QUEUES: JSON.stringify(queues),
    TCE_MQ_PASSWORDS: JSON.stringify(Object.fromEntries(queues.map((q) => [q.name, PW]))),
    TCE_MQ_LEASE_TTL: '2s',
    TCE_SHUTDOWN_GRACE: '3s',
    ...extra,
  };
  // MQ_TEST_LOG=dir keeps each broker's log (debugging a failing test).
  const logFile = process.env.MQ_TEST_LOG ? `${process.env.MQ_TEST_LOG}/mq-${p}-${Date.now()}.log` : undefined;
  const svc = await startService({ name: 'mq', env, logFile });
  return { svc, port: p, addr: `127.0.0.1:${p}`, env };
}

/** Collects deliveries of a subscription; optionally does not ack. */
export class Collector {
  readonly got: Delivery[] = [];
  readonly errors: { code: string; message: string }[] = [];
  readonly states: string[] = [];
  readonly sub;

  constructor(mq: MqClient, opts: SubscribeOptions, handle?: (d: Delivery) => void | Promise<void>) {
    this.sub = mq.subscribe(
      {
        ...opts,
        onError: (e) => this.errors.push({ code: e.code, message: e.message }),
        onState: (s, info) => {
          this.states.push(info.err ? `${s}:${info.err.code}:${info.err.message}` : s);
          opts.onState?.(s, info);
        },
      },
      async (d) => {
        this.got.push(d);
        await handle?.(d);
      },
    );
  }

  payloads(): string[] {
    return this.got.map((d) => d.payload.toString());
  }

  async until(n: number, what = `${n} deliveries`, timeoutMs = 20_000): Promise<void> {
    await waitFor(what, () => this.got.length >= n || undefined, { timeoutMs });
  }

  close(): void {
    this.sub.close();
  }
}

/** Waits until the subscription is attached (its Subscribed event arrived). */
export async function subscribed(c: Collector): Promise<void> {
  await waitFor('the subscription to be attached', () => c.states.includes('subscribed'));
}

/** A raw Subscribe or Publish stream for protocol tests: send bytes, read frames, await the status. */
export class RawStream {
  readonly client: grpc.Client;
  readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  readonly frames: Buffer[] = [];
  readonly status: Promise<{ code: number; details: string }>;

  constructor(addr: string, method: 'Subscribe' | 'Publish') {
    this.client = new grpc.Client(addr, grpc.credentials.createInsecure());
    const def = mqStreamDefinition[method];
    this.call = this.client.makeBidiStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      new grpc.Metadata(),
    );
    this.call.on('data', (b: Buffer) => this.frames.push(b));
    this.status = new Promise((resolve) => {
      this.call.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
      this.call.on('status', (s: grpc.StatusObject) => {
        if (s.code === grpc.status.OK) resolve({ code: 0, details: s.details });
      });
    });
  }

  send(b: Uint8Array): void {
    this.call.write(Buffer.from(b));
  }

  sub(r: Partial<SubscribeRequest>): void {
    this.send(
      SubscribeRequest.encode({
        open: undefined,
        flow: undefined,
        acks: [],
        nacks: [],
        rejects: [],
        revoked: [],
        ...r,
      }).finish(),
    );
  }

  events(): SubscribeEvent[] {
    return this.frames.map((f) => SubscribeEvent.decode(f));
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

export const statusName = (code: number): string => grpc.status[code] ?? String(code);
