// Deployment `NAME-<component>` for each component: restricted Pod Security
// profile plus a read-only root filesystem, probes on the ops port, and the
// config-hash annotation that rolls pods when their ConfigMap/Secret values change.
import type { V1Container, V1Deployment, V1PodSpec, V1ResourceRequirements } from '@kubernetes/client-node';
import { ALL_COMPONENTS, OPS_PORT, entrypoint, type ComponentInfo } from '../api/components.js';
import { componentEnv } from './component-env.js';
import { configHash } from './config-hash.js';
import type { BuildContext } from './context.js';
import {
  CONFIG_HASH_ANNOTATION,
  childMeta,
  componentName,
  labels,
  selectorLabels,
  serviceAccountName,
} from './names.js';

/** The distroless image's `nonroot` user. */
export const RUN_AS_USER = 65532;

/** When spec.<component>.resources is unset. Memory limit only: CPU limits throttle latency-sensitive I/O. */
export const DEFAULT_RESOURCES: V1ResourceRequirements = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { memory: '512Mi' },
};

export function image(ctx: BuildContext): string {
  const img = ctx.platform.spec.image;
  return `${img.repository}:${img.tag ?? ctx.defaultImageTag}`;
}

function container(ctx: BuildContext, c: ComponentInfo): V1Container {
  const spec = ctx.platform.spec;
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: 'ops', scheme: 'HTTP' },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold,
  });
  return {
    name: c.name,
    image: image(ctx),
    imagePullPolicy: spec.image.pullPolicy,
    // The image's entrypoint is node (distroless, no shell); each component is one script in it.
    args: ['--enable-source-maps', entrypoint(c)],
    ports: [
      { name: c.port.name, containerPort: c.port.number, protocol: 'TCP' },
      { name: 'ops', containerPort: OPS_PORT, protocol: 'TCP' },
    ],
    env: componentEnv(ctx, c),
    resources: spec[c.key].resources ?? DEFAULT_RESOURCES,
    // Generous startup window (a process starts answering /healthz once its servers listen),
    // then liveness restarts a hung process and readiness takes it out of Services
    // (a location unit is not ready while it rebuilds assigned partitions: /readyz).
    startupProbe: probe('/healthz', 2, 60),
    livenessProbe: probe('/healthz', 10, 3),
    readinessProbe: probe('/readyz', 5, 2),
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    // The root filesystem is read-only; Node and libraries may still want a scratch /tmp.
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };
}

function podSpec(ctx: BuildContext, c: ComponentInfo): V1PodSpec {
  const p = ctx.platform;
  return {
    serviceAccountName: serviceAccountName(p),
    // The services never call the Kubernetes API.
    automountServiceAccountToken: false,
    // Service links would put ~10 variables per Service in every pod's env; nothing reads them.
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS_USER,
      runAsGroup: RUN_AS_USER,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...(p.spec.image.pullSecrets.length
      ? { imagePullSecrets: p.spec.image.pullSecrets.map((name) => ({ name })) }
      : {}),
    terminationGracePeriodSeconds: 30,
    // Spread replicas over nodes when possible, so one node's loss takes one replica.
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              topologyKey: 'kubernetes.io/hostname',
              labelSelector: { matchLabels: selectorLabels(p, c) },
            },
          },
        ],
      },
    },
    containers: [container(ctx, c)],
    volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
  };
}

/**
 * Most components surge instead of taking pods away first: gateways hold
 * connections, units own partitions. mq is the exception: a new mq pod is a
 * standby that only becomes ready once it holds the lease, which the old leader
 * hands over when it stops — so surging would stall every rollout.
 */
export function rolloutStrategy(c: ComponentInfo): NonNullable<V1Deployment['spec']>['strategy'] {
  return c.key === 'mq'
    ? { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }
    : { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
}

export function buildDeployment(ctx: BuildContext, c: ComponentInfo): V1Deployment {
  const p = ctx.platform;
  const env = componentEnv(ctx, c);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(p, componentName(p, c), c),
    spec: {
      replicas: p.spec[c.key].replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(p, c) },
      strategy: rolloutStrategy(c),
      template: {
        metadata: { labels: labels(p, c), annotations: { [CONFIG_HASH_ANNOTATION]: configHash(ctx, env) } },
        spec: podSpec(ctx, c),
      },
    },
  };
}

/** One Deployment per component. */
export function buildDeployments(ctx: BuildContext): V1Deployment[] {
  return ALL_COMPONENTS.map((c) => buildDeployment(ctx, c));
}
