// The config-hash pod annotation: a digest of the ConfigMap and Secret values a
// component's env references. Env from ConfigMaps and Secrets is read only when
// a container starts, so a change must roll the pods; inline env values are
// part of the pod template already and roll them by themselves.
import crypto from 'node:crypto';
import type { V1EnvVar } from '@kubernetes/client-node';
import { configMapData } from './configmap.js';
import type { BuildContext, SecretKey } from './context.js';
import { configMapName, secretName } from './names.js';

export function configHash(ctx: BuildContext, env: V1EnvVar[]): string {
  const config = configMapData(ctx);
  const cmName = configMapName(ctx.platform);
  const sName = secretName(ctx.platform);
  const parts: [string, string][] = [];
  for (const e of env) {
    const cm = e.valueFrom?.configMapKeyRef;
    const sec = e.valueFrom?.secretKeyRef;
    if (cm?.name === cmName) parts.push([e.name, config[cm.key] ?? '']);
    else if (sec?.name === sName) parts.push([e.name, ctx.secrets[sec.key as SecretKey] ?? '']);
  }
  return crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}
