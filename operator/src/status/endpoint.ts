// status.endpoint: where devices connect. From the Ingress host when there is
// one; else the address the ingress controller published; else, with the
// Ingress disabled, the gateway Service inside the cluster.
import type { V1Ingress } from '@kubernetes/client-node';
import { COMPONENTS, WS_PATH } from '../api/components.js';
import type { Platform } from '../api/types.js';
import { componentName } from '../resources/names.js';

export function endpoint(platform: Platform, ingress: V1Ingress | undefined): string {
  const ing = platform.spec.ingress;
  const gw = COMPONENTS.gateway;
  if (!ing.enabled) {
    return `ws://${componentName(platform, gw)}.${platform.metadata.namespace}.svc:${gw.port.number}${WS_PATH}`;
  }
  const scheme = ing.tlsSecretName ? 'wss' : 'ws';
  if (ing.host && !ing.host.startsWith('*.')) return `${scheme}://${ing.host}${WS_PATH}`;
  const lb = ingress?.status?.loadBalancer?.ingress?.[0];
  const addr = lb?.hostname ?? lb?.ip;
  return addr ? `ws://${addr}${WS_PATH}` : '';
}
