// The environment of each component's container: the one mapping from a
// Platform to the TCE_* variables the services read (their config schemas use
// exactly these names; docs/operator.md has the table). Output is sorted by
// name so the pod template is byte-identical between reconciles, then the
// Platform's extra env is appended in its own order.
import type { V1EnvVar } from '@kubernetes/client-node';
import { COMPONENTS, FILES_PATH, OPS_PORT, type ComponentInfo, type ComponentKey } from '../api/components.js';
import type { Platform } from '../api/types.js';
import { CONFIG_KEYS, SECRET_KEYS, type BuildContext, type SecretKey } from './context.js';
import { componentName, configMapName, secretName } from './names.js';

/** Used when spec.mongo.urlSecretRef is not set: a `mongodb` Service in the Platform's namespace. */
export const DEFAULT_MONGO_URL = 'mongodb://mongodb:27017/tce';

/**
 * The pod IP, for TCE_ADVERTISE_ADDR's `$(POD_IP)`. Kubernetes expands `$(VAR)`
 * only from variables listed earlier; "POD_IP" sorts before every "TCE_" name.
 */
export const POD_IP_ENV = 'POD_IP';

const value = (name: string, v: string | number): V1EnvVar => ({ name, value: String(v) });
const fieldRef = (name: string, fieldPath: string): V1EnvVar => ({
  name,
  valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } },
});

function fromSecret(platform: Platform, name: string, key: SecretKey): V1EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secretName(platform), key } } };
}

function fromConfig(platform: Platform, name: string, key: string): V1EnvVar {
  return { name, valueFrom: { configMapKeyRef: { name: configMapName(platform), key } } };
}

/** host:port of a component's Service, as other components dial it. */
export function serviceAddress(platform: Platform, key: ComponentKey): string {
  const c = COMPONENTS[key];
  return `${componentName(platform, c)}:${c.port.number}`;
}

/** Where devices fetch files: spec.gateway.filesPublicUrl, else from the Ingress host, else the relative path. */
export function filesPublicUrl(platform: Platform): string {
  const { gateway, ingress } = platform.spec;
  if (gateway.filesPublicUrl) return gateway.filesPublicUrl;
  if (ingress.enabled && ingress.host && !ingress.host.startsWith('*.')) {
    return `${ingress.tlsSecretName ? 'https' : 'http'}://${ingress.host}${FILES_PATH}`;
  }
  return FILES_PATH;
}

function commonEnv(ctx: BuildContext): V1EnvVar[] {
  const p = ctx.platform;
  const ref = p.spec.mongo.urlSecretRef;
  return [
    ref
      ? { name: 'TCE_MONGO_URL', valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } }
      : value('TCE_MONGO_URL', DEFAULT_MONGO_URL),
    value('TCE_LOG_LEVEL', p.spec.logLevel),
    value('TCE_OPS_PORT', OPS_PORT),
    fromSecret(p, 'TCE_INTERNAL_KEY', SECRET_KEYS.internalKey),
    value('TCE_BIND_HOST', '0.0.0.0'),
  ];
}

function ownEnv(ctx: BuildContext, c: ComponentInfo): V1EnvVar[] {
  const p = ctx.platform;
  const s = p.spec;
  switch (c.key) {
    case 'auth':
      return [
        value('TCE_GRPC_PORT', c.port.number),
        fromSecret(p, 'TCE_TOKEN_KEYS', SECRET_KEYS.tokenKeys),
        value('TCE_ACCESS_TOKEN_TTL', s.auth.accessTokenTTL),
        value('TCE_REFRESH_TOKEN_TTL', s.auth.refreshTokenTTL),
      ];
    case 'mq':
      return [
        value('TCE_GRPC_PORT', c.port.number),
        fromSecret(p, 'TCE_MQ_ADMIN_PASSWORD', SECRET_KEYS.mqAdminPassword),
        fromSecret(p, 'TCE_MQ_PASSWORDS', SECRET_KEYS.mqPasswords),
        fromConfig(p, 'TCE_MQ_QUEUES', CONFIG_KEYS.mqQueues),
        value('TCE_MQ_MAX_MESSAGE_BYTES', s.mq.maxMessageBytes),
      ];
    case 'locationUnit':
      return [
        value('TCE_GRPC_PORT', c.port.number),
        value('TCE_MQ_ADDR', serviceAddress(p, 'mq')),
        // The units consume mq_gps, a password-protected queue.
        fromSecret(p, 'TCE_LOCATION_MQ_PASSWORD', SECRET_KEYS.mqGpsPassword),
        value('TCE_GPS_PARTITIONS', s.locationUnit.partitions),
        value('TCE_LOCATION_STALE_AFTER', s.locationUnit.staleAfter),
        fieldRef(POD_IP_ENV, 'status.podIP'),
        value('TCE_ADVERTISE_ADDR', `$(${POD_IP_ENV}):${c.port.number}`),
      ];
    case 'fileService':
      return [
        value('TCE_HTTP_PORT', c.port.number),
        value('TCE_MAX_UPLOAD_BYTES', s.fileService.maxUploadBytes),
        value('TCE_FILE_RETENTION', s.fileService.retention),
        fromSecret(p, 'TCE_URL_SIGNING_KEY', SECRET_KEYS.urlSigningKey),
        // Verifies access tokens locally (the key set is shared with auth and the gateway).
        fromSecret(p, 'TCE_TOKEN_KEYS', SECRET_KEYS.tokenKeys),
      ];
    case 'gateway':
      return [
        value('TCE_WS_PORT', c.port.number),
        value('TCE_AUTH_ADDR', serviceAddress(p, 'auth')),
        value('TCE_MQ_ADDR', serviceAddress(p, 'mq')),
        // The gateway publishes to mq_gps and to its push topics, which it creates and removes (admin).
        fromSecret(p, 'TCE_MQ_PASSWORDS', SECRET_KEYS.mqPasswords),
        fromSecret(p, 'TCE_MQ_ADMIN_PASSWORD', SECRET_KEYS.mqAdminPassword),
        value('TCE_LOCATION_ADDR', serviceAddress(p, 'locationUnit')),
        value('TCE_FILES_PUBLIC_URL', filesPublicUrl(p)),
        value('TCE_ALLOWED_ORIGINS', s.gateway.allowedOrigins.join(',')),
        fieldRef('TCE_GATEWAY_ID', 'metadata.name'),
        fromSecret(p, 'TCE_TOKEN_KEYS', SECRET_KEYS.tokenKeys),
      ];
  }
}

/** The variables the operator sets for a component, sorted by name (byte order, not locale). */
export function operatorEnv(ctx: BuildContext, c: ComponentInfo): V1EnvVar[] {
  return [...commonEnv(ctx), ...ownEnv(ctx, c)].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The container's whole env: the operator's variables, then spec.<component>.env. */
export function componentEnv(ctx: BuildContext, c: ComponentInfo): V1EnvVar[] {
  return [...operatorEnv(ctx, c), ...ctx.platform.spec[c.key].env];
}

/** Names the operator sets for a component (extra env may not reuse them). */
export function operatorEnvNames(platform: Platform, c: ComponentInfo): Set<string> {
  const secrets = Object.fromEntries(Object.values(SECRET_KEYS).map((k) => [k, ''])) as BuildContext['secrets'];
  return new Set(operatorEnv({ platform, secrets, defaultImageTag: '' }, c).map((e) => e.name));
}
