// Membership through EasyMQ: the units form one consumer group of `mq_gps`.
// The group's assignment notices drive the partition manager (the mq client
// runs them as barriers: in-flight handlers finish, onRevoked completes —
// points durable, partition dropped — and only then is the revocation
// confirmed to the broker, which hands the partition to its next owner; that
// owner's onAssigned rebuilds it before the partition's deliveries reach it).
// Each unit registers its gRPC address as member metadata, so any unit lists
// all others with describeGroup.
import { GpsPoint } from '../../../proto/gen/ts/location.js';
import { MqClient } from '../../mq/src/client/index.js';
import type { Delivery, Subscription } from '../../mq/src/client/index.js';
import type { Logger } from '../../runtime/src/logger.js';
import type { Directory } from './coordinator.js';
import type { IngestPipeline } from './ingest-pipeline.js';
import type { PartitionManager } from './partition-manager.js';
import { pointProblem } from './point-check.js';

export const GPS_QUEUE = 'mq_gps';
export const GROUP = 'location-units';
/** Deliveries in flight per unit: enough to fill several store batches. */
const CREDIT = 5000;
const MEMBERS_TTL_MS = 1000;
/** A graceful stop waits this long for quiet (no handler running) before leaving the group. */
const QUIESCE_MS = 100;

export interface MqMembershipOptions {
  mqAddr: string;
  password: string;
  addr: string;
  manager: PartitionManager;
  pipeline: IngestPipeline;
  partitions: number;
  logger: Logger;
  onPoint: (result: 'invalid' | 'not_owned') => void;
}

export interface MqMembership {
  directory: Directory;
  notReadyReason(): string | undefined;
  stop(graceMs: number): Promise<void>;
}

export async function startMqMembership(o: MqMembershipOptions): Promise<MqMembership> {
  const mq = new MqClient(o.mqAddr, { logger: o.logger });
  let subscribed = false;
  let failed: string | undefined;

  // Handlers running now: a graceful stop waits for them (their points become durable and acked).
  let active = 0;
  const handle = async (d: Delivery): Promise<void> => {
    active++;
    try {
      await handleOne(d);
    } finally {
      active--;
    }
  };
  const handleOne = async (d: Delivery): Promise<void> => {
    let point;
    try {
      point = GpsPoint.decode(d.payload);
    } catch {
      point = undefined;
    }
    const problem = point ? pointProblem(point, Date.now()) : 'payload is not a location.GpsPoint';
    if (!point || problem !== undefined) {
      // A bad point is never retried: to the dead-letter queue, for inspection.
      o.onPoint('invalid');
      o.logger.warn('Dropped GPS point', { partition: d.partition, seq: d.seq, problem });
      d.reject();
      return;
    }
    if (!(await o.pipeline.submit(point, d.partition))) {
      o.onPoint('not_owned');
      throw new Error(`partition ${d.partition} is not owned here`); // nacked: redelivered to the owner
    }
  };

  const sub: Subscription = mq.subscribe(
    {
      queue: GPS_QUEUE,
      password: o.password,
      group: GROUP,
      credit: CREDIT,
      concurrency: CREDIT,
      metadata: { address: o.addr },
      onAssigned: async (assigned) => {
        o.logger.info('Assigned partitions', { assigned });
        await o.manager.assign(assigned);
      },
      onRevoked: async (revoked) => {
        await o.manager.revoke(revoked);
      },
      onState: (state, info) => {
        subscribed = state === 'subscribed';
        if (!subscribed) o.logger.warn('Lost the mq subscription; reconnecting', { err: info.err });
      },
      onError: (err) => {
        failed = `${err.code}: ${err.message}`;
        o.logger.error('The mq subscription stopped', { err });
      },
    },
    handle,
  );

  let cache: { at: number; members: string[] } | undefined;
  let refreshing: Promise<void> | undefined;
  const refresh = (): Promise<void> =>
    (refreshing ??= (async () => {
      try {
        const list = await mq.listMembers(GPS_QUEUE, o.password, GROUP);
        const members = list.map((m) => m.metadata.address).filter((a): a is string => !!a);
        if (!members.includes(o.addr)) members.push(o.addr);
        cache = { at: Date.now(), members };
      } catch (err) {
        // The bus is briefly unreachable: the last known members stay the best guess.
        o.logger.warn('Listing the group members failed', { err });
      } finally {
        refreshing = undefined;
      }
    })());
  const directory: Directory = {
    // A stale list answers at once while a fresh one is fetched: a query must
    // not wait for the bus (its retries take seconds). A unit missing from a
    // stale list only makes an answer partial, with its partitions named.
    async members(): Promise<string[]> {
      if (cache && Date.now() - cache.at < MEMBERS_TTL_MS) return cache.members;
      const fetching = refresh();
      if (!cache) await fetching;
      return cache?.members ?? [o.addr];
    },
  };

  return {
    directory,
    notReadyReason: () => failed ?? (subscribed ? undefined : 'not subscribed to mq_gps yet'),
    async stop(graceMs: number) {
      // Leaving the group, in this order: (1) credit 0, so the broker sends
      // nothing more; (2) the deliveries already here are handled as usual —
      // their partitions are still ours, their points become durable and are
      // acked; (3) close: the broker takes the partitions back and hands them on.
      // Revoking locally first would be wrong: the broker still sees this unit as
      // the owner and keeps redelivering the partitions' messages to it; each
      // nack counts as a delivery, and after max_deliveries the broker
      // dead-letters them — acknowledged points lost.
      sub.setCredit(0);
      const deadline = Date.now() + graceMs;
      do {
        await o.pipeline.flush();
        // Lets acks go out and deliveries sent before the broker saw credit 0 arrive.
        await new Promise((r) => setTimeout(r, QUIESCE_MS));
      } while ((active > 0 || o.pipeline.pending > 0) && Date.now() < deadline);
      // (2b) no compaction round may run on after the handoff: the next owner's
      // rebuild reads latest records and segments that a round rewrites.
      await o.manager.stopCompaction();
      const mine = sub.owned();
      sub.close(); // whatever arrives later is never acked here: the broker redelivers it to the next owner
      await o.manager.revoke(mine);
      mq.close();
    },
  };
}
