// What every builder receives: the defaulted Platform and the values of its
// Secret (found in the cluster or generated once, see controller/secret-material.ts).
// Builders are pure functions of this: same context in, identical objects out.
import type { Platform } from '../api/types.js';

/** Keys of the platform Secret `NAME-secrets`. */
export const SECRET_KEYS = {
  /** HMAC key for caller identity between services (TCE_INTERNAL_KEY): 32 random bytes, base64. */
  internalKey: 'internal-key',
  /** Access-token key set (TCE_TOKEN_KEYS): auth signs, the gateway and the file service verify. */
  tokenKeys: 'token-keys',
  /** EasyMQ admin API password. */
  mqAdminPassword: 'mq-admin-password',
  /** JSON object queue name → password, for every declared queue. */
  mqPasswords: 'mq-passwords',
  /** The mq_gps entry of mq-passwords, on its own (TCE_LOCATION_MQ_PASSWORD). */
  mqGpsPassword: 'mq-gps-password',
  /** HMAC key of signed download URLs (file service): 32 random bytes, base64. */
  urlSigningKey: 'url-signing-key',
} as const;

export type SecretKey = (typeof SECRET_KEYS)[keyof typeof SECRET_KEYS];

/** ConfigMap `NAME-config` keys. */
export const CONFIG_KEYS = {
  /** JSON queue declarations (TCE_MQ_QUEUES). */
  mqQueues: 'mq-queues',
} as const;

export interface BuildContext {
  /** The Platform with every default applied (api/defaults.ts). */
  platform: Platform;
  /** The platform Secret's values, decoded. */
  secrets: Record<SecretKey, string>;
  /** Image tag when spec.image.tag is unset (the operator's version). */
  defaultImageTag: string;
}
