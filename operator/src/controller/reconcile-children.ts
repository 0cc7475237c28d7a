// Step "children" of a reconcile: apply every desired child that the cluster
// does not already have exactly (server-side apply, one field manager, taking
// back fields someone edited), then delete children that are no longer desired.
import type { Logger } from '../../../services/runtime/src/logger.js';
import type { Platform } from '../api/types.js';
import type { KubeClient } from '../kube/client.js';
import { isApiError } from '../kube/errors.js';
import type { Informer } from '../kube/informer.js';
import type { KindInfo, KubeObject } from '../kube/kinds.js';
import { firstDifference } from '../kube/semantic.js';
import { CHILD_KINDS, type DesiredChild } from '../resources/children.js';
import type { EventRecorder } from './events.js';

export interface ChildCaches {
  child(kind: KindInfo): Informer;
}

/** The owner reference that makes `obj` a child of a Platform with this uid. */
export function controllerUid(obj: KubeObject): string | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller)?.uid;
}

/** Another controller owns an object the Platform needs: a human has to resolve it. */
export class OwnershipConflictError extends Error {
  override name = 'OwnershipConflictError';
}

/**
 * Server-side apply; when the object existed and the apply could not restore
 * it — a hand edit re-keyed a list entry (a Service port's number, a
 * container's name), which leaves the foreign entry beside ours, or makes the
 * apply invalid (duplicate port names) — a merge patch replaces those lists whole.
 */
async function write(client: KubeClient, kind: KindInfo, object: KubeObject, existed: boolean): Promise<KubeObject> {
  try {
    const applied = await client.apply<KubeObject>(kind, object);
    if (!existed || firstDifference(object, applied) === undefined) return applied;
  } catch (err) {
    if (!existed || !isApiError(err, 422)) throw err;
  }
  return client.mergePatch<KubeObject>(kind, object);
}

export interface ChildrenResult {
  created: string[];
  updated: string[];
  deleted: string[];
}

/** Settles every promise, then throws the first failure (so no write is left running behind an error). */
async function allOrFirstError(work: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Applies the desired children kind by kind, in the builders' order; children of
 * one kind (five Deployments, six Services) are written concurrently, since
 * nothing orders them among themselves. Then deletes owned children no longer
 * desired. One event per kind of change summarises the reconcile.
 */
export async function reconcileChildren(
  deps: { client: KubeClient; caches: ChildCaches; events: EventRecorder; logger: Logger },
  platform: Platform,
  desired: DesiredChild[],
): Promise<ChildrenResult> {
  const ns = platform.metadata.namespace;
  const uid = platform.metadata.uid;
  const result: ChildrenResult = { created: [], updated: [], deleted: [] };
  const byKind = new Map<string, DesiredChild[]>();
  for (const d of desired) byKind.set(d.kind.kind, [...(byKind.get(d.kind.kind) ?? []), d]);
  try {
    for (const group of byKind.values()) {
      await allOrFirstError(
        group.map(async ({ kind, object }) => {
          const name = object.metadata?.name ?? '';
          const cache = deps.caches.child(kind);
          const observed = cache.get(ns, name);
          let changed: string | undefined;
          if (observed) {
            const owner = controllerUid(observed);
            if (owner !== undefined && owner !== uid) {
              throw new OwnershipConflictError(
                `${kind.kind} ${name} exists and is controlled by another object (uid ${owner})`,
              );
            }
            changed = firstDifference(object, observed);
            if (changed === undefined) return;
          }
          const applied = await write(deps.client, kind, object, observed !== undefined);
          cache.upsertIfNewer({ ...applied, apiVersion: kind.apiVersion, kind: kind.kind });
          if (observed) {
            deps.logger.info('Updated child', { kind: kind.kind, name, field: changed });
            result.updated.push(`${kind.kind} ${name} (${changed})`);
          } else {
            deps.logger.info('Created child', { kind: kind.kind, name });
            result.created.push(`${kind.kind} ${name}`);
          }
        }),
      );
    }
    const wanted = new Set(desired.map((d) => `${d.kind.kind}/${d.object.metadata?.name ?? ''}`));
    for (const kind of CHILD_KINDS) {
      for (const obj of deps.caches.child(kind).list(ns)) {
        const name = obj.metadata?.name ?? '';
        if (controllerUid(obj) !== uid || wanted.has(`${kind.kind}/${name}`)) continue;
        // The uid precondition makes sure we delete this object, not a namesake created since.
        await deps.client.delete(kind, ns, name, obj.metadata?.uid);
        deps.logger.info('Deleted child', { kind: kind.kind, name });
        result.deleted.push(`${kind.kind} ${name}`);
      }
    }
  } finally {
    // Also after a failure: what was written is reported.
    await recordChanges(deps.events, platform, result);
  }
  return result;
}

async function recordChanges(events: EventRecorder, platform: Platform, r: ChildrenResult): Promise<void> {
  const list = (xs: string[]): string => [...xs].sort().join(', ');
  if (r.created.length) await events.record(platform, 'Normal', 'Created', `Created ${list(r.created)}`);
  if (r.updated.length) await events.record(platform, 'Normal', 'Updated', `Updated ${list(r.updated)}`);
  if (r.deleted.length) {
    await events.record(platform, 'Normal', 'Deleted', `Deleted ${list(r.deleted)}: no longer desired`);
  }
}
