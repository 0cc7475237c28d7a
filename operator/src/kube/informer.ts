// A cache of one resource kind kept current by list + watch: list, then watch
// from the list's resourceVersion (with bookmarks, so a quiet watch still
// advances), re-watch from the last seen version when the server ends a watch,
// relist on 410 Gone and periodically, back off on errors. Consumers get an
// event per change and read the cache instead of the API.
import type { Logger } from '../../../services/runtime/src/logger.js';
import { backoffDelay, sleep } from './backoff.js';
import type { KubeClient } from './client.js';
import { isApiError } from './errors.js';
import { collectionPath, objectKey, type KindInfo, type KubeObject } from './kinds.js';

export type InformerEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type InformerHandler<T extends KubeObject> = (type: InformerEventType, obj: T, old: T | undefined) => void;

export interface InformerOptions<T extends KubeObject> {
  client: KubeClient;
  kind: KindInfo;
  logger: Logger;
  /** Watch one namespace; all when undefined. */
  namespace?: string;
  labelSelector?: string;
  onEvent: InformerHandler<T>;
  /** A full relist every so often, as a safety net (default 30 min). */
  relistPeriodMs?: number;
  pageSize?: number;
}

interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T & { code?: number; message?: string };
}

/** Compares resourceVersions when both are integers (etcd's are); unknown → treat as newer. */
export function isNewer(candidate: string | undefined, current: string | undefined): boolean {
  if (!current || !candidate) return true;
  if (!/^\d+$/.test(candidate) || !/^\d+$/.test(current)) return candidate !== current;
  return BigInt(candidate) > BigInt(current);
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly store = new Map<string, T>();
  private resourceVersion: string | undefined;
  private syncedFlag = false;
  private syncedWaiters: (() => void)[] = [];
  private lastList = 0;
  private failures = 0;

  constructor(private readonly opts: InformerOptions<T>) {}

  get kind(): KindInfo {
    return this.opts.kind;
  }

  get synced(): boolean {
    return this.syncedFlag;
  }

  /** Resolves after the first complete list. */
  waitForSync(): Promise<void> {
    if (this.syncedFlag) return Promise.resolve();
    return new Promise((resolve) => this.syncedWaiters.push(resolve));
  }

  get(namespace: string, name: string): T | undefined {
    return this.store.get(`${namespace}/${name}`);
  }

  list(namespace?: string): T[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /**
   * Puts an object the operator just wrote into the cache, unless the watch has
   * already delivered something newer: the next reconcile then compares with
   * what it wrote instead of a stale copy, and does not write it again.
   */
  upsertIfNewer(obj: T): void {
    const key = objectKey(obj);
    const cur = this.store.get(key);
    if (!cur || isNewer(obj.metadata?.resourceVersion, cur.metadata?.resourceVersion)) this.store.set(key, obj);
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { logger, kind } = this.opts;
    const relistPeriod = this.opts.relistPeriodMs ?? 30 * 60_000;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined || Date.now() - this.lastList > relistPeriod) await this.relist();
        await this.watch(signal);
        this.failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        if (isApiError(err, 410)) {
          // Our resourceVersion is older than etcd's compaction window: start over from a list.
          logger.info('Watch expired; relisting', { kind: kind.kind });
          this.resourceVersion = undefined;
          continue;
        }
        this.failures++;
        const delay = backoffDelay(this.failures, { baseMs: 500, maxMs: 30_000 });
        logger.warn('Watch failed; retrying', { kind: kind.kind, err, retryInMs: delay });
        await sleep(delay, signal);
      }
    }
  }

  private async relist(): Promise<void> {
    const { client, kind, namespace, labelSelector } = this.opts;
    const items: T[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await client.list<T>(kind, namespace, {
        labelSelector,
        limit: this.opts.pageSize ?? 500,
        continue: cont,
      });
      for (const item of page.items) items.push({ ...item, apiVersion: kind.apiVersion, kind: kind.kind });
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion;
    } while (cont);
    const seen = new Set<string>();
    for (const item of items) {
      const key = objectKey(item);
      seen.add(key);
      const old = this.store.get(key);
      this.store.set(key, item);
      if (!old) this.opts.onEvent('ADDED', item, undefined);
      else if (old.metadata?.resourceVersion !== item.metadata?.resourceVersion)
        this.opts.onEvent('MODIFIED', item, old);
    }
    for (const [key, old] of [...this.store]) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.opts.onEvent('DELETED', old, old);
      }
    }
    this.resourceVersion = rv;
    this.lastList = Date.now();
    if (!this.syncedFlag) {
      this.syncedFlag = true;
      for (const w of this.syncedWaiters.splice(0)) w();
    }
  }

  private async watch(signal: AbortSignal): Promise<void> {
    const { client, kind, namespace, labelSelector } = this.opts;
    // The server ends each watch after timeoutSeconds; spread them so watches do not renew together.
    const timeoutSeconds = 240 + Math.floor(Math.random() * 120);
    // An ERROR event (e.g. 410 Gone inside a running watch) ends this watch through `stop`.
    const stop = new AbortController();
    let failure: { code?: number; message?: string } | undefined;
    await client.stream(
      collectionPath(kind, namespace),
      { watch: 1, resourceVersion: this.resourceVersion, allowWatchBookmarks: true, labelSelector, timeoutSeconds },
      (line) => {
        if (failure) return;
        const ev = line as WatchEvent<T>;
        if (ev.type === 'ERROR') {
          failure = ev.object;
          stop.abort();
          return;
        }
        const rv = ev.object.metadata?.resourceVersion;
        if (ev.type === 'BOOKMARK') {
          this.resourceVersion = rv;
          return;
        }
        const obj = { ...ev.object, apiVersion: kind.apiVersion, kind: kind.kind } as T;
        const key = objectKey(obj);
        const old = this.store.get(key);
        if (ev.type === 'DELETED') this.store.delete(key);
        else this.store.set(key, obj);
        this.resourceVersion = rv;
        this.opts.onEvent(ev.type, obj, old);
      },
      AbortSignal.any([signal, stop.signal]),
      (timeoutSeconds + 30) * 1000,
    );
    if (failure?.code === 410) {
      this.opts.logger.info('Watch expired; relisting', { kind: kind.kind });
      this.resourceVersion = undefined;
    } else if (failure) {
      throw new Error(`watch of ${kind.plural} failed: ${failure.code ?? ''} ${failure.message ?? ''}`);
    }
  }
}
