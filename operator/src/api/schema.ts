// The Platform's OpenAPI v3 schema: the single source of the CRD in crds/ (see
// crd.ts) and of the operator's own defaulting (defaults.ts). Every field has a
// default or is optional, so `spec: {}` is a valid Platform. Validation the
// schema cannot express goes into CEL rules here, close to the fields they guard.
import { PLATFORM_IMAGE_REPOSITORY } from '../version.js';

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps this project uses. */
export interface JSONSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean' | 'number';
  description?: string;
  properties?: Record<string, JSONSchema>;
  additionalProperties?: JSONSchema;
  items?: JSONSchema;
  required?: string[];
  default?: unknown;
  enum?: string[];
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  anyOf?: JSONSchema[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: { rule: string; message?: string; messageExpression?: string; reason?: string }[];
}

const DURATION = '^[0-9]+(ms|s|m|h|d)$';
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const QUANTITY =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

function duration(description: string, def: string): JSONSchema {
  return { type: 'string', description: `${description} Units: ms, s, m, h, d.`, pattern: DURATION, default: def };
}

const quantityMap: JSONSchema = {
  type: 'object',
  additionalProperties: {
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern: QUANTITY,
    'x-kubernetes-int-or-string': true,
  },
};

const resources: JSONSchema = {
  type: 'object',
  description:
    'CPU and memory of each pod, as in a container spec. When omitted the operator uses requests cpu 100m / memory 128Mi and a 512Mi memory limit.',
  properties: {
    requests: { ...quantityMap, description: 'Minimum resources the scheduler reserves.' },
    limits: { ...quantityMap, description: 'Maximum resources the container may use.' },
  },
};

const keyRef: JSONSchema = {
  type: 'object',
  required: ['name', 'key'],
  properties: {
    name: { type: 'string', maxLength: 253, pattern: DNS_SUBDOMAIN },
    key: { type: 'string', minLength: 1, maxLength: 253 },
    optional: { type: 'boolean' },
  },
};

const envVar: JSONSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[-._a-zA-Z][-._a-zA-Z0-9]*$' },
    value: { type: 'string' },
    valueFrom: {
      type: 'object',
      description: 'As in a container spec: one of secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef.',
      maxProperties: 1,
      properties: {
        secretKeyRef: keyRef,
        configMapKeyRef: keyRef,
        fieldRef: {
          type: 'object',
          required: ['fieldPath'],
          properties: { apiVersion: { type: 'string' }, fieldPath: { type: 'string', minLength: 1 } },
        },
        resourceFieldRef: {
          type: 'object',
          required: ['resource'],
          properties: {
            containerName: { type: 'string' },
            resource: { type: 'string', minLength: 1 },
            divisor: {
              anyOf: [{ type: 'integer' }, { type: 'string' }],
              pattern: QUANTITY,
              'x-kubernetes-int-or-string': true,
            },
          },
        },
      },
    },
  },
  'x-kubernetes-validations': [
    { rule: '!(has(self.value) && has(self.valueFrom))', message: 'set either value or valueFrom, not both' },
  ],
};

/** Fields every component has. */
function component(what: string, replicas: number, extra: Record<string, JSONSchema>): JSONSchema {
  return {
    type: 'object',
    description: what,
    default: {},
    properties: {
      replicas: {
        type: 'integer',
        format: 'int32',
        minimum: 0,
        maximum: 1000,
        default: replicas,
        description: 'Number of pods.',
      },
      resources,
      env: {
        type: 'array',
        description:
          'Extra environment variables, appended after the ones the operator sets (which they may not replace).',
        maxItems: 64,
        default: [],
        items: envVar,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      },
      ...extra,
    },
  };
}

const queue: JSONSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: {
      type: 'string',
      description: 'Queue or topic name.',
      minLength: 1,
      maxLength: 63,
      pattern: '^[a-z][a-z0-9_.-]*$',
    },
    kind: {
      type: 'string',
      enum: ['queue', 'topic', 'partitioned'],
      default: 'queue',
      description: 'queue: competing consumers; topic: fan-out; partitioned: keyed partitions with consumer groups.',
    },
    durable: {
      type: 'boolean',
      default: true,
      description: 'Durable messages are written to MongoDB before a publish is acknowledged.',
    },
    partitions: {
      type: 'integer',
      format: 'int32',
      minimum: 1,
      maximum: 1024,
      description: 'Partition count (partitioned queues only).',
    },
  },
  'x-kubernetes-validations': [
    {
      rule: "self.kind == 'partitioned' || !has(self.partitions)",
      message: 'partitions is only valid for kind partitioned',
    },
    { rule: "self.kind != 'partitioned' || has(self.partitions)", message: 'a partitioned queue needs partitions' },
  ],
};

export const platformSpecSchema: JSONSchema = {
  type: 'object',
  description: 'The desired platform. Every field has a default: `spec: {}` is a complete Platform.',
  default: {},
  properties: {
    image: {
      type: 'object',
      description: 'The services image every component runs from.',
      default: {},
      properties: {
        repository: {
          type: 'string',
          minLength: 1,
          maxLength: 255,
          pattern: '^[a-z0-9]([-a-z0-9._/:]*[a-z0-9])?$',
          default: PLATFORM_IMAGE_REPOSITORY,
        },
        tag: {
          type: 'string',
          description:
            "Image tag. When omitted: the operator's own version, so upgrading the operator upgrades the platform.",
          pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$',
        },
        pullPolicy: { type: 'string', enum: ['Always', 'IfNotPresent', 'Never'], default: 'IfNotPresent' },
        pullSecrets: {
          type: 'array',
          description: 'Names of image pull Secrets in the Platform namespace.',
          maxItems: 16,
          default: [],
          items: { type: 'string', maxLength: 253, pattern: DNS_SUBDOMAIN },
          'x-kubernetes-list-type': 'set',
        },
      },
    },
    logLevel: {
      type: 'string',
      enum: ['debug', 'info', 'warn', 'error'],
      default: 'info',
      description: 'Log level of every component.',
    },
    mongo: {
      type: 'object',
      description:
        'MongoDB. Without urlSecretRef the URL is mongodb://mongodb:27017/tce (a `mongodb` Service in the namespace).',
      default: {},
      properties: {
        urlSecretRef: {
          type: 'object',
          description: 'A Secret in the Platform namespace holding the mongodb:// URL (credentials included).',
          required: ['name'],
          properties: {
            name: { type: 'string', maxLength: 253, pattern: DNS_SUBDOMAIN },
            key: { type: 'string', minLength: 1, maxLength: 253, default: 'url' },
          },
        },
      },
    },
    ingress: {
      type: 'object',
      description: 'The public entry: /ws → gateway, /files → file service, for the nginx ingress controller.',
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        className: { type: 'string', maxLength: 253, pattern: DNS_SUBDOMAIN, default: 'nginx' },
        host: {
          type: 'string',
          description: 'Public host name. Without one the rule matches any host.',
          maxLength: 253,
          pattern: '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
        },
        tlsSecretName: {
          type: 'string',
          description: 'A kubernetes.io/tls Secret for host; makes the endpoint wss:// and https://.',
          maxLength: 253,
          pattern: DNS_SUBDOMAIN,
        },
        annotations: {
          type: 'object',
          description: 'Extra Ingress annotations (they override the operator’s on equal keys).',
          default: {},
          additionalProperties: { type: 'string' },
        },
      },
      'x-kubernetes-validations': [
        {
          rule: '!has(self.tlsSecretName) || has(self.host)',
          message: 'ingress.tlsSecretName needs ingress.host: a certificate is for a host',
        },
      ],
    },
    networkPolicy: {
      type: 'object',
      description:
        'Default-deny NetworkPolicies: gateway and file service reachable from the ingress controller, the rest only from platform pods; egress to MongoDB and DNS.',
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        ingressControllerNamespace: {
          type: 'string',
          description: 'Namespace of the ingress controller pods.',
          maxLength: 63,
          pattern: DNS_LABEL,
          default: 'ingress-nginx',
        },
        metricsNamespace: {
          type: 'string',
          description: 'When set, pods in this namespace (e.g. Prometheus) may scrape port 9090.',
          maxLength: 63,
          pattern: DNS_LABEL,
        },
        mongoPort: {
          type: 'integer',
          minimum: 1,
          maximum: 65535,
          default: 27017,
          description: 'Egress port to MongoDB.',
        },
      },
    },
    gateway: component('Device connections (WebSocket /ws, port 8080).', 2, {
      allowedOrigins: {
        type: 'array',
        description: 'Origins browsers may connect from (exact match, e.g. https://chat.example.com).',
        maxItems: 64,
        default: [],
        items: { type: 'string', maxLength: 253, pattern: '^https?://[^\\s,/]+$' },
        'x-kubernetes-list-type': 'set',
      },
      filesPublicUrl: {
        type: 'string',
        description:
          'Public base URL of the file service given to devices. Default: derived from ingress.host, or /files.',
        maxLength: 2048,
        pattern: '^(https?://[^\\s]+|/[^\\s]*)$',
      },
    }),
    mq: component('EasyMQ, the message bus (gRPC 50052). With replicas > 1 one is active, the others stand by.', 1, {
      queues: {
        type: 'array',
        description: 'Queues and topics created at start, besides the platform’s own (mq_gps).',
        maxItems: 100,
        default: [],
        items: queue,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        'x-kubernetes-validations': [
          { rule: "!self.exists(q, q.name == 'mq_gps')", message: 'mq_gps is declared by the platform itself' },
        ],
      },
      maxMessageBytes: {
        type: 'integer',
        format: 'int32',
        minimum: 1024,
        maximum: 67108864,
        default: 1048576,
        description: 'Largest message accepted.',
      },
    }),
    auth: component('Registration, login and tokens (gRPC 50051).', 2, {
      accessTokenTTL: duration('Lifetime of access tokens.', '15m'),
      refreshTokenTTL: duration('Lifetime of refresh tokens.', '30d'),
    }),
    locationUnit: {
      ...component('GPS state and location queries (gRPC 50053). The Platform’s scale subresource.', 1, {
        partitions: {
          type: 'integer',
          format: 'int32',
          minimum: 1,
          maximum: 1024,
          default: 64,
          description: 'Partitions of the mq_gps queue; each unit owns some. Fixed when the Platform is created.',
          'x-kubernetes-validations': [
            {
              rule: 'self == oldSelf',
              message: 'locationUnit.partitions is immutable: stored GPS data is partitioned by it',
            },
          ],
        },
        staleAfter: duration('Positions older than this are left out of nearby and within queries.', '15m'),
      }),
      'x-kubernetes-validations': [
        {
          // has(): the API server also checks this rule against the schema's own `default: {}`.
          rule: '!has(self.replicas) || !has(self.partitions) || self.replicas <= self.partitions',
          message:
            'locationUnit.replicas must not exceed locationUnit.partitions: every unit owns at least one partition',
        },
      ],
    },
    fileService: component('File upload and download (HTTP /files, port 8081).', 2, {
      maxUploadBytes: {
        type: 'integer',
        format: 'int64',
        minimum: 1,
        maximum: 1099511627776,
        default: 1073741824,
        description: 'Largest upload in bytes (also the ingress body-size limit, plus room for multipart framing).',
      },
      retention: duration('How long an unfetched offline-transfer file is kept.', '30d'),
    }),
  },
};

const condition: JSONSchema = {
  type: 'object',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: { type: 'string', maxLength: 316 },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    reason: { type: 'string', maxLength: 1024 },
    message: { type: 'string', maxLength: 32768 },
  },
};

const componentStatus: JSONSchema = {
  type: 'object',
  properties: {
    desired: { type: 'integer', format: 'int32', description: 'Replicas the spec asks for.' },
    replicas: { type: 'integer', format: 'int32', description: 'Pods the Deployment has.' },
    readyReplicas: { type: 'integer', format: 'int32' },
    updatedReplicas: { type: 'integer', format: 'int32' },
    ready: { type: 'string', description: 'ready/desired, for kubectl get.' },
  },
};

export const platformStatusSchema: JSONSchema = {
  type: 'object',
  properties: {
    observedGeneration: {
      type: 'integer',
      format: 'int64',
      description: 'The generation the operator last reconciled completely.',
    },
    conditions: {
      type: 'array',
      items: condition,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    },
    components: {
      type: 'object',
      properties: Object.fromEntries(
        ['gateway', 'mq', 'auth', 'locationUnit', 'fileService'].map((k) => [k, componentStatus]),
      ),
    },
    endpoint: { type: 'string', description: 'Where devices connect (WebSocket URL).' },
    locationUnitSelector: {
      type: 'string',
      description: 'Label selector of the location-unit pods (scale subresource).',
    },
  },
};

export const platformSchema: JSONSchema = {
  type: 'object',
  description: 'A tce-platform installation: gateway, mq, auth, location units and file service.',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: {
      type: 'object',
      properties: {
        // Children are named NAME-location-unit-headless, and Service names are DNS-1035
        // labels: at most 63 characters, starting with a letter.
        name: { type: 'string', maxLength: 40, pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$' },
      },
    },
    spec: platformSpecSchema,
    status: platformStatusSchema,
  },
};
