// One reconcile of one Platform, as a recipe:
//   read → default → validate → secret material → children → status.
// Each step is its own module with its own tests. Errors choose what happens
// next: an invalid spec is reported in the status and not retried until the
// spec changes; a missing external reference is re-checked every minute;
// anything else is thrown, so the work queue retries with backoff.
import type { Logger } from '../../../services/runtime/src/logger.js';
import { withDefaults } from '../api/defaults.js';
import type { Platform } from '../api/types.js';
import { validatePlatform } from '../api/validate.js';
import type { KubeClient } from '../kube/client.js';
import type { Informer } from '../kube/informer.js';
import { KINDS } from '../kube/kinds.js';
import type { OperatorMetrics } from '../metrics.js';
import { desiredChildren } from '../resources/children.js';
import type { BuildContext } from '../resources/context.js';
import { secretName } from '../resources/names.js';
import type { Outcome } from '../status/observed.js';
import type { EventRecorder } from './events.js';
import { reconcileChildren, type ChildCaches } from './reconcile-children.js';
import { reconcileStatus } from './reconcile-status.js';
import type { HandlerResult } from './work-queue.js';
import { completeSecretMaterial, decodeSecretData, SecretMaterialError, type KeyGenerator } from './secret-material.js';

export interface ReconcilerDeps {
  client: KubeClient;
  caches: ChildCaches & { platforms: Informer };
  events: EventRecorder;
  logger: Logger;
  metrics: OperatorMetrics;
  keys: KeyGenerator;
  /** Image tag for Platforms that do not name one. */
  defaultImageTag: string;
  now(): number;
}

/** Re-check interval for problems outside the Platform (a referenced Secret that does not exist yet). */
export const EXTERNAL_RECHECK_MS = 60_000;

export async function reconcile(deps: ReconcilerDeps, key: string): Promise<HandlerResult> {
  const [namespace = '', name = ''] = key.split('/');
  const found = deps.caches.platforms.get(namespace, name) as unknown as Platform | undefined;
  // Deleted: owner references let the garbage collector remove the children.
  if (!found || found.metadata.deletionTimestamp) return {};
  const platform = withDefaults(found);
  const log = deps.logger.child({ platform: key });

  const problems = validatePlatform(platform);
  if (problems.length) return invalid(deps, platform, problems.join('; '));

  const external = await checkReferences(deps, platform);
  if (external) return invalid(deps, platform, external, EXTERNAL_RECHECK_MS);

  let ctx: BuildContext;
  try {
    ctx = await buildContext(deps, platform);
  } catch (err) {
    if (err instanceof SecretMaterialError) {
      return invalid(deps, platform, `Secret ${secretName(platform)}: ${err.message}`, EXTERNAL_RECHECK_MS);
    }
    throw err;
  }

  try {
    await reconcileChildren({ ...deps, logger: log }, platform, desiredChildren(ctx));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await reportFailure(deps, platform, { kind: 'failed', message });
    throw new Error(`Reconciling ${key} failed: ${message}`, { cause: err });
  }
  await reconcileStatus(deps, platform, { kind: 'applied' });
  deps.metrics.reconciles.inc({ result: 'applied' });
  return {};
}

async function invalid(
  deps: ReconcilerDeps,
  platform: Platform,
  message: string,
  requeueAfterMs?: number,
): Promise<HandlerResult> {
  deps.logger.warn('Rejected Platform spec', {
    platform: `${platform.metadata.namespace}/${platform.metadata.name}`,
    message,
  });
  await reconcileStatus(deps, platform, { kind: 'invalid', message });
  await deps.events.record(platform, 'Warning', 'InvalidSpec', message);
  deps.metrics.reconciles.inc({ result: 'invalid' });
  return requeueAfterMs === undefined ? {} : { requeueAfterMs };
}

/** Writes the failure into the status; a failure to do so must not hide the original error. */
async function reportFailure(deps: ReconcilerDeps, platform: Platform, outcome: Outcome): Promise<void> {
  try {
    await reconcileStatus(deps, platform, outcome);
    if (outcome.kind === 'failed') await deps.events.record(platform, 'Warning', 'ReconcileFailed', outcome.message);
  } catch (err) {
    deps.logger.warn('Failed to write status', { err });
  }
}

/** The Secret named by spec.mongo.urlSecretRef must exist and hold the key. */
async function checkReferences(deps: ReconcilerDeps, platform: Platform): Promise<string | undefined> {
  const ref = platform.spec.mongo.urlSecretRef;
  if (!ref) return undefined;
  const secret = await deps.client.get<{ data?: Record<string, string> }>(
    KINDS.Secret,
    platform.metadata.namespace,
    ref.name,
  );
  if (!secret) return `spec.mongo.urlSecretRef: Secret ${ref.name} not found`;
  if (!secret.data?.[ref.key]) return `spec.mongo.urlSecretRef: Secret ${ref.name} has no key ${ref.key}`;
  return undefined;
}

async function buildContext(deps: ReconcilerDeps, platform: Platform): Promise<BuildContext> {
  const ns = platform.metadata.namespace;
  const name = secretName(platform);
  let existing = deps.caches.child(KINDS.Secret).get(ns, name) as { data?: Record<string, string> } | undefined;
  // Not in the cache (which sees only labelled objects): ask the API before generating
  // anything, so a Secret whose label was removed is not overwritten with new keys.
  existing ??= await deps.client.get<{ data?: Record<string, string> }>(KINDS.Secret, ns, name);
  const material = completeSecretMaterial(decodeSecretData(existing?.data), platform, deps.keys);
  if (material.generated.length) {
    deps.logger.info('Generated secret values', {
      platform: `${ns}/${platform.metadata.name}`,
      keys: material.generated,
    });
  }
  return { platform, secrets: material.values, defaultImageTag: deps.defaultImageTag };
}
