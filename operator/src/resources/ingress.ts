// Ingress `NAME` for the nginx ingress controller: /ws → gateway, /files → file
// service. nginx-ingress applies annotations to every path of an Ingress, and
// each one below is harmless on the other path, so one Ingress carries both sets
// (the union of scripts/nginx's per-route settings, which nginx uses locally):
// - for /ws: read/send timeouts of an hour, or nginx closes quiet WebSockets
//   after 60 s (this also lets slow /files transfers run longer than locally);
// - for /files: request and proxy buffering off, so uploads and downloads stream
//   instead of being spooled to the controller's disk, HTTP/1.1 to the service,
//   and a body-size limit a little above the file service's own (it answers 413).
import type { V1Ingress, V1IngressRule } from '@kubernetes/client-node';
import { COMPONENTS, FILES_PATH, WS_PATH } from '../api/components.js';
import type { BuildContext } from './context.js';
import { childMeta, componentName, ingressName } from './names.js';

const NGINX = 'nginx.ingress.kubernetes.io';

/** Room for multipart framing around the largest allowed file. */
export const MULTIPART_SLACK_BYTES = 1024 * 1024;

/** One hour: mobile WebSockets are long-lived and quiet between heartbeats. */
export const WS_TIMEOUT_SECONDS = 3600;

export function ingressAnnotations(ctx: BuildContext): Record<string, string> {
  const spec = ctx.platform.spec;
  const ours: Record<string, string> = {
    [`${NGINX}/proxy-connect-timeout`]: '5',
    [`${NGINX}/proxy-read-timeout`]: String(WS_TIMEOUT_SECONDS),
    [`${NGINX}/proxy-send-timeout`]: String(WS_TIMEOUT_SECONDS),
    [`${NGINX}/proxy-body-size`]: String(spec.fileService.maxUploadBytes + MULTIPART_SLACK_BYTES),
    [`${NGINX}/proxy-request-buffering`]: 'off',
    [`${NGINX}/proxy-buffering`]: 'off',
    [`${NGINX}/proxy-http-version`]: '1.1',
  };
  const merged = { ...ours, ...spec.ingress.annotations };
  return Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function buildIngress(ctx: BuildContext): V1Ingress | undefined {
  const p = ctx.platform;
  const ing = p.spec.ingress;
  if (!ing.enabled) return undefined;
  const backend = (c: typeof COMPONENTS.gateway) => ({
    service: { name: componentName(p, c), port: { name: c.port.name } },
  });
  const rule: V1IngressRule = {
    ...(ing.host ? { host: ing.host } : {}),
    http: {
      paths: [
        { path: WS_PATH, pathType: 'Prefix', backend: backend(COMPONENTS.gateway) },
        { path: FILES_PATH, pathType: 'Prefix', backend: backend(COMPONENTS.fileService) },
      ],
    },
  };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: childMeta(p, ingressName(p), undefined, ingressAnnotations(ctx)),
    spec: {
      ingressClassName: ing.className,
      ...(ing.tlsSecretName && ing.host ? { tls: [{ hosts: [ing.host], secretName: ing.tlsSecretName }] } : {}),
      rules: [rule],
    },
  };
}
