// Secret `NAME-secrets`: keys and passwords the components share. The values
// come from the context (found in the cluster, or generated once by
// controller/secret-material.ts); this builder only shapes the object.
import type { V1Secret } from '@kubernetes/client-node';
import type { BuildContext } from './context.js';
import { childMeta, secretName } from './names.js';

export function buildSecret(ctx: BuildContext): V1Secret {
  const data: Record<string, string> = {};
  for (const key of Object.keys(ctx.secrets).sort()) {
    data[key] = Buffer.from(ctx.secrets[key as keyof typeof ctx.secrets], 'utf8').toString('base64');
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(ctx.platform, secretName(ctx.platform)),
    type: 'Opaque',
    data,
  };
}
