// ServiceAccount `NAME` for the platform's pods. They never call the Kubernetes
// API, so it has no roles and its token is not mounted.
import type { V1ServiceAccount } from '@kubernetes/client-node';
import type { BuildContext } from './context.js';
import { childMeta, serviceAccountName } from './names.js';

export function buildServiceAccount(ctx: BuildContext): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: childMeta(ctx.platform, serviceAccountName(ctx.platform)),
    automountServiceAccountToken: false,
  };
}
