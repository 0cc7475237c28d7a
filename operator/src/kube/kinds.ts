// The API resources the operator reads and writes, and their REST paths.
import { API_GROUP, API_VERSION, PLATFORM_KIND, PLATFORM_PLURAL } from '../version.js';

export interface KindInfo {
  kind: string;
  apiVersion: string;
  plural: string;
  namespaced: boolean;
}

function kind(k: string, apiVersion: string, plural: string, namespaced = true): KindInfo {
  return { kind: k, apiVersion, plural, namespaced };
}

export const KINDS = {
  Platform: kind(PLATFORM_KIND, `${API_GROUP}/${API_VERSION}`, PLATFORM_PLURAL),
  Deployment: kind('Deployment', 'apps/v1', 'deployments'),
  Service: kind('Service', 'v1', 'services'),
  ConfigMap: kind('ConfigMap', 'v1', 'configmaps'),
  Secret: kind('Secret', 'v1', 'secrets'),
  ServiceAccount: kind('ServiceAccount', 'v1', 'serviceaccounts'),
  Ingress: kind('Ingress', 'networking.k8s.io/v1', 'ingresses'),
  NetworkPolicy: kind('NetworkPolicy', 'networking.k8s.io/v1', 'networkpolicies'),
  PodDisruptionBudget: kind('PodDisruptionBudget', 'policy/v1', 'poddisruptionbudgets'),
  Lease: kind('Lease', 'coordination.k8s.io/v1', 'leases'),
  Event: kind('Event', 'v1', 'events'),
  CustomResourceDefinition: kind(
    'CustomResourceDefinition',
    'apiextensions.k8s.io/v1',
    'customresourcedefinitions',
    false,
  ),
} as const satisfies Record<string, KindInfo>;

/** A Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    deletionTimestamp?: string | Date;
  };
  [field: string]: unknown;
}

export interface ObjectList<T = KubeObject> {
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** /api/v1/... for the core group, /apis/<group>/<version>/... otherwise. */
export function collectionPath(k: KindInfo, namespace?: string): string {
  const base = k.apiVersion.includes('/') ? `/apis/${k.apiVersion}` : `/api/${k.apiVersion}`;
  return k.namespaced && namespace ? `${base}/namespaces/${namespace}/${k.plural}` : `${base}/${k.plural}`;
}

export function objectPath(k: KindInfo, namespace: string | undefined, name: string, subresource?: string): string {
  return `${collectionPath(k, namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}

export function kindOf(obj: KubeObject): KindInfo | undefined {
  return Object.values(KINDS).find((k) => k.kind === obj.kind && k.apiVersion === obj.apiVersion);
}

/** `namespace/name`, the work-queue and cache key. */
export function objectKey(obj: KubeObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}
