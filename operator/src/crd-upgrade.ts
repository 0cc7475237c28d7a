// Keeps the Platform CRD in the cluster current. Helm installs crds/ on the
// first install and never upgrades it; so on start the leader applies the CRD
// it carries when the cluster's is older (by the version annotation) or
// differs — never when the cluster's was written by a newer operator, so an old
// replica during a rollout cannot downgrade the schema.
import type { Logger } from '../../services/runtime/src/logger.js';
import { CRD_VERSION_ANNOTATION, platformCrd } from './api/crd.js';
import type { KubeClient } from './kube/client.js';
import { isApiError } from './kube/errors.js';
import { KINDS, type KubeObject } from './kube/kinds.js';
import { containedIn } from './kube/semantic.js';
import { CRD_NAME, VERSION } from './version.js';

/** Compares dotted numeric versions (pre-release suffixes ignored); <0, 0 or >0. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string): number[] =>
    v
      .split(/[-+]/)[0]!
      .split('.')
      .map((n) => Number(n) || 0);
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export type CrdUpgradeResult = 'current' | 'upgraded' | 'created' | 'newer-in-cluster';

export async function upgradeCrd(client: KubeClient, logger: Logger): Promise<CrdUpgradeResult> {
  const desired = platformCrd() as unknown as KubeObject;
  const current = await client.get(KINDS.CustomResourceDefinition, undefined, CRD_NAME);
  if (current) {
    const theirs = current.metadata?.annotations?.[CRD_VERSION_ANNOTATION] ?? '0.0.0';
    if (compareVersions(theirs, VERSION) > 0) {
      logger.info('Kept the newer Platform CRD in the cluster', { cluster: theirs, operator: VERSION });
      return 'newer-in-cluster';
    }
    if (containedIn(desired, current)) return 'current';
  }
  try {
    await client.apply(KINDS.CustomResourceDefinition, desired);
  } catch (err) {
    if (isApiError(err, 403)) {
      throw new Error(
        `Not allowed to ${current ? 'update' : 'create'} CRD ${CRD_NAME}: apply crds/platforms.tce.dev.yaml yourself or grant the operator access (chart: crds.manage)`,
        { cause: err },
      );
    }
    throw err;
  }
  logger.info(current ? 'Upgraded the Platform CRD' : 'Created the Platform CRD', { version: VERSION });
  return current ? 'upgraded' : 'created';
}
