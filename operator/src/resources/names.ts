// One place for child names, labels and owner references, so every builder
// names and labels its objects the same way (ARCHITECTURE.md §2 fixes the names).
import type { V1OwnerReference } from '@kubernetes/client-node';
import type { ComponentInfo } from '../api/components.js';
import type { Platform } from '../api/types.js';
import { FIELD_MANAGER, PLATFORM_API_VERSION, PLATFORM_KIND } from '../version.js';

export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';

/** The operator watches only objects with this label (see controller/informers.ts). */
export const MANAGED_BY_SELECTOR = `${LABEL_MANAGED_BY}=${FIELD_MANAGER}`;

/** Pod template annotation: a digest of the config a component reads at start; a change rolls its pods. */
export const CONFIG_HASH_ANNOTATION = 'tce.dev/config-hash';

/** `NAME-<suffix>`, or `NAME` itself (Ingress, ServiceAccount). */
export function childName(platform: Platform, suffix?: string): string {
  return suffix ? `${platform.metadata.name}-${suffix}` : platform.metadata.name;
}

export function componentName(platform: Platform, c: ComponentInfo): string {
  return childName(platform, c.name);
}

export const headlessServiceName = (platform: Platform, c: ComponentInfo): string =>
  childName(platform, `${c.name}-headless`);
export const configMapName = (platform: Platform): string => childName(platform, 'config');
export const secretName = (platform: Platform): string => childName(platform, 'secrets');
export const serviceAccountName = (platform: Platform): string => childName(platform);
export const ingressName = (platform: Platform): string => childName(platform);

/** Labels that select the pods of one component (Deployment selectors are immutable: never add to these). */
export function selectorLabels(platform: Platform, c?: ComponentInfo): Record<string, string> {
  return {
    [LABEL_NAME]: 'tce-platform',
    [LABEL_INSTANCE]: platform.metadata.name,
    ...(c ? { [LABEL_COMPONENT]: c.name } : {}),
  };
}

/** Labels of every child object (and pod). */
export function labels(platform: Platform, c?: ComponentInfo): Record<string, string> {
  return {
    ...selectorLabels(platform, c),
    [LABEL_PART_OF]: 'tce-platform',
    [LABEL_MANAGED_BY]: FIELD_MANAGER,
  };
}

/** The label selector string of a component's pods (status.locationUnitSelector, for the scale subresource). */
export function selectorString(platform: Platform, c: ComponentInfo): string {
  return Object.entries(selectorLabels(platform, c))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Controller owner reference: children are garbage-collected with their Platform. */
export function ownerReference(platform: Platform): V1OwnerReference {
  return {
    apiVersion: PLATFORM_API_VERSION,
    kind: PLATFORM_KIND,
    name: platform.metadata.name,
    uid: platform.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** metadata of a child object. */
export function childMeta(
  platform: Platform,
  name: string,
  c?: ComponentInfo,
  annotations?: Record<string, string>,
): {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences: V1OwnerReference[];
} {
  return {
    name,
    namespace: platform.metadata.namespace,
    labels: labels(platform, c),
    ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
    ownerReferences: [ownerReference(platform)],
  };
}
