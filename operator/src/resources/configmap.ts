// ConfigMap `NAME-config`: configuration too structured for a plain env value
// (the queue declarations), referenced from the pods' env by key.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { CONFIG_KEYS, type BuildContext } from './context.js';
import { childMeta, configMapName } from './names.js';
import { declaredQueues } from './queues.js';

export function configMapData(ctx: BuildContext): Record<string, string> {
  return { [CONFIG_KEYS.mqQueues]: JSON.stringify(declaredQueues(ctx.platform)) };
}

export function buildConfigMap(ctx: BuildContext): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(ctx.platform, configMapName(ctx.platform)),
    data: configMapData(ctx),
  };
}
