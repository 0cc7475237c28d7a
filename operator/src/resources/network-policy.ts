// NetworkPolicies: deny everything to and from the platform's pods, then allow
// what the design needs — platform pods among themselves; the ingress
// controller to the gateway and file service ports; egress to DNS and MongoDB;
// optionally a metrics namespace to port 9090. The allow policies come before
// the deny in the list (and so are applied first), so running pods never see
// the deny without its exceptions.
import type {
  V1LabelSelector,
  V1NetworkPolicyEgressRule,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
  V1ObjectMeta,
} from '@kubernetes/client-node';
import { ALL_COMPONENTS, OPS_PORT } from '../api/components.js';
import type { BuildContext } from './context.js';
import { LABEL_COMPONENT, childMeta, childName, selectorLabels } from './names.js';

// Typed here rather than with V1NetworkPolicy: the client library renames the
// JSON field `from` to `_from`, and builders produce JSON for the API server.
interface NetworkPolicySpec {
  podSelector: V1LabelSelector;
  policyTypes: ('Ingress' | 'Egress')[];
  ingress?: { from?: V1NetworkPolicyPeer[]; ports?: V1NetworkPolicyPort[] }[];
  egress?: V1NetworkPolicyEgressRule[];
}

export interface NetworkPolicy {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'NetworkPolicy';
  metadata: V1ObjectMeta;
  spec: NetworkPolicySpec;
}

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

function policy(ctx: BuildContext, suffix: string, spec: NetworkPolicySpec): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMeta(ctx.platform, childName(ctx.platform, suffix)),
    spec,
  };
}

export function buildNetworkPolicies(ctx: BuildContext): NetworkPolicy[] {
  const p = ctx.platform;
  const np = p.spec.networkPolicy;
  if (!np.enabled) return [];
  const platformPods = { matchLabels: selectorLabels(p) };
  const publicComponents = ALL_COMPONENTS.filter((c) => c.public);
  const out: NetworkPolicy[] = [
    policy(ctx, 'allow-internal', {
      podSelector: platformPods,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: platformPods }] }],
      egress: [{ to: [{ podSelector: platformPods }] }],
    }),
    policy(ctx, 'allow-ingress-controller', {
      podSelector: {
        matchLabels: selectorLabels(p),
        matchExpressions: [{ key: LABEL_COMPONENT, operator: 'In', values: publicComponents.map((c) => c.name) }],
      },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: np.ingressControllerNamespace } } }],
          ports: publicComponents.map((c) => ({ protocol: 'TCP', port: c.port.number })),
        },
      ],
    }),
    policy(ctx, 'allow-egress', {
      podSelector: platformPods,
      policyTypes: ['Egress'],
      // MongoDB may run anywhere (in the cluster or a managed service), so only the port is fixed.
      egress: [
        {
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        { ports: [{ protocol: 'TCP', port: np.mongoPort }] },
      ],
    }),
  ];
  if (np.metricsNamespace) {
    out.push(
      policy(ctx, 'allow-metrics', {
        podSelector: platformPods,
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: np.metricsNamespace } } }],
            ports: [{ protocol: 'TCP', port: OPS_PORT }],
          },
        ],
      }),
    );
  }
  out.push(policy(ctx, 'default-deny', { podSelector: platformPods, policyTypes: ['Ingress', 'Egress'] }));
  return out;
}
