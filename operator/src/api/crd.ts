// The Platform CustomResourceDefinition, built from schema.ts. write-crd.ts
// renders it into crds/ and the chart; a unit test keeps both files current.
import { dump } from 'js-yaml';
import { API_GROUP, API_VERSION, CRD_NAME, PLATFORM_KIND, PLATFORM_PLURAL, VERSION } from '../version.js';
import { platformSchema } from './schema.js';

/** Annotation on the CRD naming the operator version that wrote it (crd-upgrade.ts compares it). */
export const CRD_VERSION_ANNOTATION = 'tce.dev/operator-version';

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: Record<string, unknown>;
}

export function platformCrd(): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: CRD_NAME,
      labels: { 'app.kubernetes.io/part-of': 'tce-platform' },
      annotations: { [CRD_VERSION_ANNOTATION]: VERSION },
    },
    spec: {
      group: API_GROUP,
      scope: 'Namespaced',
      names: {
        kind: PLATFORM_KIND,
        listKind: `${PLATFORM_KIND}List`,
        plural: PLATFORM_PLURAL,
        singular: 'platform',
        shortNames: ['tcep'],
        categories: ['tce'],
      },
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: platformSchema },
          subresources: {
            status: {},
            // `kubectl scale platform NAME --replicas=N` and HPAs scale the location units.
            scale: {
              specReplicasPath: '.spec.locationUnit.replicas',
              statusReplicasPath: '.status.components.locationUnit.replicas',
              labelSelectorPath: '.status.locationUnitSelector',
            },
          },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Gateways', type: 'string', jsonPath: '.status.components.gateway.ready' },
            { name: 'Units', type: 'string', jsonPath: '.status.components.locationUnit.ready' },
            { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint', priority: 1 },
            { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}

const HEADER = `# Generated from operator/src/api/schema.ts by \`make crd\` — do not edit by hand.
# The Platform CRD (tce.dev/v1alpha1). The chart carries an identical copy in
# charts/tce-platform/crds/; test/unit/operator/crd.test.ts keeps both current.
`;

export function platformCrdYaml(): string {
  return HEADER + dump(platformCrd(), { lineWidth: -1, noRefs: true });
}
