// TypeScript shape of a Platform after defaulting (schema.ts is the source of
// truth; test/unit/operator/schema.test.ts checks the two agree on defaults).
import type { V1EnvVar, V1ResourceRequirements } from '@kubernetes/client-node';
import type { ComponentKey } from './components.js';

export interface ComponentSpec {
  replicas: number;
  resources?: V1ResourceRequirements;
  env: V1EnvVar[];
}

export interface QueueSpec {
  name: string;
  kind: 'queue' | 'topic' | 'partitioned';
  durable: boolean;
  partitions?: number;
}

export interface PlatformSpec {
  image: { repository: string; tag?: string; pullPolicy: 'Always' | 'IfNotPresent' | 'Never'; pullSecrets: string[] };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  mongo: { urlSecretRef?: { name: string; key: string } };
  ingress: {
    enabled: boolean;
    className: string;
    host?: string;
    tlsSecretName?: string;
    annotations: Record<string, string>;
  };
  networkPolicy: { enabled: boolean; ingressControllerNamespace: string; metricsNamespace?: string; mongoPort: number };
  gateway: ComponentSpec & { allowedOrigins: string[]; filesPublicUrl?: string };
  mq: ComponentSpec & { queues: QueueSpec[]; maxMessageBytes: number };
  auth: ComponentSpec & { accessTokenTTL: string; refreshTokenTTL: string };
  locationUnit: ComponentSpec & { partitions: number; staleAfter: string };
  fileService: ComponentSpec & { maxUploadBytes: number; retention: string };
}

export type ConditionType = 'Ready' | 'Progressing' | 'Degraded';

/** metav1.Condition, as JSON. */
export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  /** RFC 3339, second precision (what the API server stores). */
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface ComponentStatus {
  desired: number;
  replicas: number;
  readyReplicas: number;
  updatedReplicas: number;
  ready: string;
}

export interface PlatformStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  components?: Partial<Record<ComponentKey, ComponentStatus>>;
  endpoint?: string;
  locationUnitSelector?: string;
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  deletionTimestamp?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A Platform as the API server returns it (spec possibly from an older CRD: defaults.ts fills the gaps). */
export interface Platform {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: PlatformSpec;
  status?: PlatformStatus;
}
