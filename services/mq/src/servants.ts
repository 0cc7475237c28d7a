// The TCE servants of EasyMQ: IMqPublisher (publish, publishBatch,
// describeGroup — queue password) and IMqAdmin (admin credential). They only
// translate between IDL types and the broker.
import type { IMqAdminServant, IMqPublisherServant } from '../../../proto/gen/ts/mq.tce.js';
import type { GroupInfo, Message, PublishResult, QueueSpec, QueueStats } from '../../../proto/gen/ts/mq.js';
import { PlatformError } from '../../runtime/src/errors.js';
import type { Broker } from './broker.js';
import { normalizeSpec } from './queue-spec.js';
import { rawFromMessage } from './raw-message.js';

export const MAX_BATCH = 10_000;

export class PublisherServant implements IMqPublisherServant {
  constructor(private readonly broker: Broker) {}

  async publish(queue: string, password: string, msg: Message): Promise<PublishResult> {
    return (await this.publishBatch(queue, password, [msg]))[0]!;
  }

  async publishBatch(queue: string, password: string, msgs: Message[]): Promise<PublishResult[]> {
    if (msgs.length > MAX_BATCH) {
      throw new PlatformError('INVALID_ARGUMENT', `a batch carries at most ${MAX_BATCH} messages, got ${msgs.length}`);
    }
    const q = await this.broker.authorize(queue, password);
    const now = Date.now();
    const raws = msgs.map((m) => rawFromMessage(m, now));
    // All or nothing for what can be checked up front: a batch with an oversize message stores nothing.
    raws.forEach((r, i) => {
      if (r.bytes.length > q.spec.max_message_bytes) {
        throw new PlatformError(
          'RESOURCE_EXHAUSTED',
          `message ${i} of ${r.bytes.length} bytes exceeds the maximum of ${q.spec.max_message_bytes} bytes of queue '${queue}'`,
        );
      }
    });
    const out = await this.broker.publishTo(q, raws);
    return out.map((o) => {
      if ('err' in o) throw o.err;
      return o.ok;
    });
  }

  async describeGroup(queue: string, password: string, group: string): Promise<GroupInfo> {
    const q = await this.broker.authorize(queue, password);
    return this.broker.describeGroup(q, group);
  }
}

export class AdminServant implements IMqAdminServant {
  constructor(
    private readonly broker: Broker,
    private readonly maxMessageBytes: number,
  ) {}

  async create(admin: string, spec: QueueSpec, password: string): Promise<void> {
    this.broker.checkAdmin(admin);
    let decl;
    try {
      decl = normalizeSpec(spec as unknown as Record<string, unknown>, this.maxMessageBytes);
    } catch (err) {
      throw new PlatformError('INVALID_ARGUMENT', (err as Error).message);
    }
    await this.broker.create(decl, password);
  }

  async remove(admin: string, name: string): Promise<void> {
    this.broker.checkAdmin(admin);
    await this.broker.remove(name);
  }

  purge(admin: string, name: string): number {
    this.broker.checkAdmin(admin);
    return this.broker.purge(name);
  }

  list(admin: string): QueueSpec[] {
    this.broker.checkAdmin(admin);
    return this.broker.list();
  }

  stats(admin: string, name: string): QueueStats {
    this.broker.checkAdmin(admin);
    return this.broker.stats(name);
  }

  groups(admin: string, queue: string): GroupInfo[] {
    this.broker.checkAdmin(admin);
    return this.broker.groups(queue);
  }

  removeGroup(admin: string, queue: string, group: string): void {
    this.broker.checkAdmin(admin);
    this.broker.removeGroup(queue, group);
  }
}
