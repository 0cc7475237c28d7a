// Service `NAME-<component>` per component (its serving port and the ops port),
// plus the headless `NAME-location-unit-headless`: a DNS name for every
// location-unit pod, ready or not (operators and debugging reach one unit
// directly through it). Units do not use it to find each other: each
// registers its advertised address in the mq_gps consumer group.
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { ALL_COMPONENTS, COMPONENTS, OPS_PORT, type ComponentInfo } from '../api/components.js';
import type { BuildContext } from './context.js';
import { childMeta, componentName, headlessServiceName, selectorLabels } from './names.js';

/** Standard appProtocol values (KEP-3726), so meshes and load balancers pick the right protocol. */
const APP_PROTOCOL: Record<ComponentInfo['port']['protocol'], string> = {
  ws: 'kubernetes.io/ws',
  http: 'http',
  grpc: 'kubernetes.io/h2c',
};

function servingPort(c: ComponentInfo): V1ServicePort {
  return {
    name: c.port.name,
    port: c.port.number,
    targetPort: c.port.name,
    protocol: 'TCP',
    appProtocol: APP_PROTOCOL[c.port.protocol],
  };
}

export function buildService(ctx: BuildContext, c: ComponentInfo): V1Service {
  const p = ctx.platform;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(p, componentName(p, c), c),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(p, c),
      ports: [servingPort(c), { name: 'ops', port: OPS_PORT, targetPort: 'ops', protocol: 'TCP', appProtocol: 'http' }],
    },
  };
}

export function buildHeadlessService(ctx: BuildContext, c: ComponentInfo): V1Service {
  const p = ctx.platform;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(p, headlessServiceName(p, c), c),
    spec: {
      type: 'ClusterIP',
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(p, c),
      ports: [servingPort(c)],
    },
  };
}

/** A Service per component, then the location units' headless Service. */
export function buildServices(ctx: BuildContext): V1Service[] {
  return [...ALL_COMPONENTS.map((c) => buildService(ctx, c)), buildHeadlessService(ctx, COMPONENTS.locationUnit)];
}
