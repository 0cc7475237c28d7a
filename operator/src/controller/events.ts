// Kubernetes Events on Platforms (kubectl describe platform): created, updated
// and deleted children, failures, readiness changes. The same event is not
// posted again within a window, so a failing reconcile retried with backoff
// does not flood the namespace.
import crypto from 'node:crypto';
import type { Logger } from '../../../services/runtime/src/logger.js';
import type { Platform } from '../api/types.js';
import type { KubeClient } from '../kube/client.js';
import { collectionPath, KINDS } from '../kube/kinds.js';
import { FIELD_MANAGER } from '../version.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(platform: Platform, type: EventType, reason: string, message: string): Promise<void>;
}

export function createEventRecorder(
  client: KubeClient,
  logger: Logger,
  instance: string,
  opts: { dedupeWindowMs?: number; now?: () => number } = {},
): EventRecorder {
  const window = opts.dedupeWindowMs ?? 10 * 60_000;
  const now = opts.now ?? Date.now;
  const recent = new Map<string, number>();
  return {
    async record(platform, type, reason, message) {
      const key = `${platform.metadata.uid}\u0000${type}\u0000${reason}\u0000${message}`;
      const t = now();
      const last = recent.get(key);
      if (last !== undefined && t - last < window) return;
      recent.set(key, t);
      if (recent.size > 10_000) for (const [k, v] of recent) if (t - v >= window) recent.delete(k);
      const ts = new Date(t).toISOString();
      const ns = platform.metadata.namespace;
      const event = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${platform.metadata.name}.${crypto.randomBytes(8).toString('hex')}`, namespace: ns },
        involvedObject: {
          apiVersion: platform.apiVersion,
          kind: platform.kind,
          name: platform.metadata.name,
          namespace: ns,
          uid: platform.metadata.uid,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: FIELD_MANAGER },
        reportingComponent: `tce.dev/${FIELD_MANAGER}`,
        reportingInstance: instance,
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
      };
      try {
        await client.request('POST', collectionPath(KINDS.Event, ns), event);
      } catch (err) {
        // An event is informational: failing to post one must not fail the reconcile.
        logger.warn('Failed to record event', { reason, err });
      }
    },
  };
}
