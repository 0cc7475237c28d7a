// The EasyMQ client every service uses: publish (batched on a stream),
// subscribe (handler + ack, consumer groups with assignment callbacks),
// describeGroup / listMembers, and the admin API. Reconnects on its own.
//
//   const mq = new MqClient(process.env.TCE_MQ_ADDR!);
//   await mq.publish('mq_gps', pw, { key: userId, payload });
//   const sub = mq.subscribe({ queue: 'mq_gps', password: pw, group: 'location-units',
//     metadata: { address }, onAssigned, onRevoked }, async (d) => { ... });
import { IMqAdminProxy, IMqPublisherProxy } from '../../../../proto/gen/ts/mq.tce.js';
import type {
  GroupInfo,
  GroupMember,
  Message,
  PublishResult,
  QueueSpec,
  QueueStats,
} from '../../../../proto/gen/ts/mq.js';
import type { PlatformError } from '../../../runtime/src/errors.js';
import type { Logger } from '../../../runtime/src/logger.js';
import type { CallOptions } from '../../../runtime/src/tce.js';
import { partitionOf } from '../partitioner.js';
import { isRetryable, MqConnection, type ConnectionOptions } from './connection.js';
import { PublishChannel, type OutgoingMessage } from './publisher.js';
import { Subscription, type Handler, type SubscribeOptions } from './subscription.js';

export interface MessageInput {
  payload: Uint8Array | string;
  /** Partition key (partitioned queues). */
  key?: string;
  /** Idempotency key: a retried publish with the same id is stored once (within the broker's window). */
  id?: string;
  headers?: Record<string, string>;
  timestamp?: number;
}

export interface MqClientOptions extends ConnectionOptions {
  logger?: Logger;
  /** Unary calls (describeGroup, admin): how long to keep retrying retryable errors (default 10 s; 0 = once). */
  retryForMs?: number;
}

export function toMessage(m: MessageInput): Message {
  return {
    id: m.id ?? '',
    key: m.key ?? '',
    payload: typeof m.payload === 'string' ? Buffer.from(m.payload, 'utf8') : Buffer.from(m.payload),
    headers: m.headers ?? {},
    timestamp: m.timestamp ?? 0,
  };
}

/** The publish stream encodes the fields itself; only a string payload needs converting. */
function outgoing(m: MessageInput): OutgoingMessage {
  return typeof m.payload === 'string' ? { ...m, payload: Buffer.from(m.payload, 'utf8') } : (m as OutgoingMessage);
}

export class MqClient {
  readonly conn: MqConnection;
  private readonly opts: MqClientOptions;
  private readonly channels = new Map<string, PublishChannel>();
  private readonly subs = new Set<Subscription>();
  private lastChannel: { queue: string; password: string; ch: PublishChannel } | undefined;

  /** `addresses`: "host:port", or several comma-separated (replicas; the client finds the leader). */
  constructor(addresses: string | string[], opts: MqClientOptions = {}) {
    this.conn = new MqConnection(addresses, opts);
    this.opts = opts;
  }

  publish(queue: string, password: string, msg: MessageInput): Promise<PublishResult> {
    return this.channel(queue, password).publish(outgoing(msg));
  }

  publishBatch(queue: string, password: string, msgs: MessageInput[]): Promise<PublishResult[]> {
    const ch = this.channel(queue, password);
    return Promise.all(msgs.map((m) => ch.publish(outgoing(m))));
  }

  subscribe(opts: SubscribeOptions, handler: Handler): Subscription {
    const s = new Subscription(this.conn, { logger: this.opts.logger, ...opts }, handler);
    this.subs.add(s);
    return s;
  }

  describeGroup(queue: string, password: string, group: string, call?: CallOptions): Promise<GroupInfo> {
    return this.unary((c) => new IMqPublisherProxy(c).describeGroup(queue, password, group, call));
  }

  /** Members of a group with their metadata and partitions (e.g. location units finding each other). */
  async listMembers(queue: string, password: string, group: string): Promise<GroupMember[]> {
    return (await this.describeGroup(queue, password, group)).members;
  }

  /** The admin API with its credential bound. */
  admin(adminPassword: string): MqAdmin {
    return new MqAdmin(this, adminPassword);
  }

  /** Runs a unary call, retrying retryable failures (on the next address) for up to retryForMs. */
  async unary<T>(fn: (client: ReturnType<MqConnection['client']>) => Promise<T>): Promise<T> {
    const until = Date.now() + (this.opts.retryForMs ?? 10_000);
    for (let i = 0; ; i++) {
      const client = this.conn.client();
      try {
        return await fn(client);
      } catch (err) {
        const e = err as PlatformError;
        const delay = this.conn.backoff(i);
        if (!isRetryable(e) || e.code === 'RESOURCE_EXHAUSTED' || Date.now() + delay > until) throw e;
        this.conn.failed(client, e);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  close(): void {
    for (const s of this.subs) s.close();
    for (const c of this.channels.values()) c.close();
    this.subs.clear();
    this.channels.clear();
    this.lastChannel = undefined;
    this.conn.close();
  }

  private channel(queue: string, password: string): PublishChannel {
    // Publishers mostly use one queue over and over: skip building the map key then.
    const last = this.lastChannel;
    if (last && last.queue === queue && last.password === password) return last.ch;
    const k = `${queue}\u0000${password}`;
    let ch = this.channels.get(k);
    if (!ch) this.channels.set(k, (ch = new PublishChannel(this.conn, queue, password, this.opts.logger)));
    this.lastChannel = { queue, password, ch };
    return ch;
  }
}

export class MqAdmin {
  constructor(
    private readonly client: MqClient,
    private readonly password: string,
  ) {}

  create(spec: Partial<QueueSpec> & { name: string }, password: string): Promise<void> {
    const full: QueueSpec = {
      kind: '',
      durable: false,
      partitions: 0,
      ack_timeout_ms: 0,
      max_deliveries: 0,
      dead_letter: '',
      max_message_bytes: 0,
      max_depth: 0,
      subscriber_limit: 0,
      slow_policy: '',
      ...spec,
    };
    return this.client.unary((c) => new IMqAdminProxy(c).create(this.password, full, password));
  }

  remove(name: string): Promise<void> {
    return this.client.unary((c) => new IMqAdminProxy(c).remove(this.password, name));
  }

  purge(name: string): Promise<number> {
    return this.client.unary((c) => new IMqAdminProxy(c).purge(this.password, name));
  }

  list(): Promise<QueueSpec[]> {
    return this.client.unary((c) => new IMqAdminProxy(c).list(this.password));
  }

  stats(name: string): Promise<QueueStats> {
    return this.client.unary((c) => new IMqAdminProxy(c).stats(this.password, name));
  }

  groups(queue: string): Promise<GroupInfo[]> {
    return this.client.unary((c) => new IMqAdminProxy(c).groups(this.password, queue));
  }

  removeGroup(queue: string, group: string): Promise<void> {
    return this.client.unary((c) => new IMqAdminProxy(c).removeGroup(this.password, queue, group));
  }
}

export { partitionOf };
