// Leader election with a coordination.k8s.io/v1 Lease, after client-go's
// leaderelection: the leader renews the Lease every retry period; the others
// read it and take over only when it has not been renewed for a full lease
// duration *as measured by their own clock* (clocks of different machines are
// not compared). A leader that cannot renew within the renew deadline stops
// leading — the operator then exits, so two leaders never act at once. On a
// clean shutdown the leader releases the Lease, so a successor starts at once.
import type { Logger } from '../../../services/runtime/src/logger.js';
import { sleep } from '../kube/backoff.js';
import type { KubeClient } from '../kube/client.js';
import { isApiError } from '../kube/errors.js';
import { collectionPath, KINDS, objectPath } from '../kube/kinds.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type Lease = {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
};

export interface LeaderElectorOptions {
  client: KubeClient;
  logger: Logger;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  now?: () => number;
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private lease: Lease | undefined;
  /** The last record seen from another holder, and when (our clock) we first saw it. */
  private observed: { record: string; at: number } | undefined;
  private leading = false;
  private readonly now: () => number;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.now = opts.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns, then renews while leading, until `signal` aborts or leadership is lost. */
  async run(signal: AbortSignal): Promise<void> {
    const { logger, retryPeriodMs, renewDeadlineMs } = this.opts;
    // Campaign.
    while (!signal.aborted && !this.leading) {
      try {
        if (await this.tryAcquireOrRenew()) {
          this.leading = true;
          logger.info('Became leader', {
            lease: `${this.opts.namespace}/${this.opts.name}`,
            identity: this.opts.identity,
          });
          this.opts.onStartedLeading();
          break;
        }
      } catch (err) {
        logger.warn('Failed to read or acquire the leader Lease', { err });
      }
      await sleep(retryPeriodMs, signal);
    }
    // Renew.
    let lastRenew = this.now();
    while (!signal.aborted && this.leading) {
      await sleep(retryPeriodMs, signal);
      if (signal.aborted) break;
      try {
        if (await this.tryAcquireOrRenew()) {
          lastRenew = this.now();
          continue;
        }
        logger.warn('Leader Lease was taken over', { holder: this.lease?.spec.holderIdentity });
      } catch (err) {
        if (this.now() - lastRenew < renewDeadlineMs) {
          logger.warn('Failed to renew the leader Lease; retrying', { err });
          continue;
        }
        logger.error('Failed to renew the leader Lease before the deadline', { err });
      }
      this.leading = false;
      this.opts.onStoppedLeading();
    }
  }

  /** Gives the Lease up (clean shutdown) so another replica can lead without waiting for it to expire. */
  async release(): Promise<void> {
    if (!this.leading || !this.lease) return;
    this.leading = false;
    const lease: Lease = {
      ...this.lease,
      spec: { ...this.lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(this.now()) },
    };
    try {
      await this.opts.client.request('PUT', objectPath(KINDS.Lease, this.opts.namespace, this.opts.name), lease);
      this.opts.logger.info('Released the leader Lease');
    } catch (err) {
      this.opts.logger.warn('Failed to release the leader Lease', { err });
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity, leaseDurationMs } = this.opts;
    const now = this.now();
    const fresh: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    // While leading, renew from our own copy: one write per period and no read.
    let current = this.leading ? this.lease : undefined;
    if (!current) {
      current = await client.get<Lease>(KINDS.Lease, namespace, name);
      if (!current) {
        const created = await client.request<Lease>('POST', collectionPath(KINDS.Lease, namespace), {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: fresh,
        } satisfies Lease);
        this.lease = created;
        return true;
      }
    }
    const spec = current.spec ?? {};
    const mine = spec.holderIdentity === identity;
    if (!mine && spec.holderIdentity) {
      const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
      if (this.observed?.record !== record) this.observed = { record, at: now };
      const duration = (spec.leaseDurationSeconds ?? Math.ceil(leaseDurationMs / 1000)) * 1000;
      if (now < this.observed.at + duration) {
        this.lease = current;
        return false;
      }
    }
    const next: Lease = {
      ...current,
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      spec: mine
        ? { ...spec, renewTime: microTime(now), leaseDurationSeconds: fresh.leaseDurationSeconds }
        : { ...fresh, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 },
    };
    try {
      this.lease = await client.request<Lease>('PUT', objectPath(KINDS.Lease, namespace, name), next);
      return true;
    } catch (err) {
      // Someone else wrote the Lease first: re-read it next time.
      if (isApiError(err, 409)) {
        this.lease = undefined;
        if (this.leading) throw err;
        return false;
      }
      throw err;
    }
  }
}
