// The platform's five components: their key in the Platform spec, their name in
// child objects and images, and their ports. ARCHITECTURE.md §2 fixes these;
// every builder reads them from here.

export const COMPONENT_KEYS = ['gateway', 'mq', 'auth', 'locationUnit', 'fileService'] as const;
export type ComponentKey = (typeof COMPONENT_KEYS)[number];

export interface ComponentInfo {
  key: ComponentKey;
  /** kebab-case name: Deployment/Service `NAME-<name>`, label value, entrypoint folder. */
  name: string;
  /** The component's serving port (WebSocket, HTTP or gRPC). */
  port: { name: string; number: number; protocol: 'ws' | 'http' | 'grpc' };
  /** Reached from outside through the Ingress (the others only from platform pods). */
  public: boolean;
}

/** Every process serves /metrics, /healthz and /readyz here. */
export const OPS_PORT = 9090;

export const COMPONENTS: Record<ComponentKey, ComponentInfo> = {
  gateway: { key: 'gateway', name: 'gateway', port: { name: 'ws', number: 8080, protocol: 'ws' }, public: true },
  mq: { key: 'mq', name: 'mq', port: { name: 'grpc', number: 50052, protocol: 'grpc' }, public: false },
  auth: { key: 'auth', name: 'auth', port: { name: 'grpc', number: 50051, protocol: 'grpc' }, public: false },
  locationUnit: {
    key: 'locationUnit',
    name: 'location-unit',
    port: { name: 'grpc', number: 50053, protocol: 'grpc' },
    public: false,
  },
  fileService: {
    key: 'fileService',
    name: 'file-service',
    port: { name: 'http', number: 8081, protocol: 'http' },
    public: true,
  },
};

/** Components in a fixed order (the spec's order), for deterministic output. */
export const ALL_COMPONENTS: readonly ComponentInfo[] = COMPONENT_KEYS.map((k) => COMPONENTS[k]);

/** Path of a component's entrypoint inside the image (tsc output of services/<name>/src/main.ts). */
export function entrypoint(c: ComponentInfo): string {
  return `dist/services/${c.name}/src/main.js`;
}

/** The GPS queue the gateway publishes to and the location units consume (ARCHITECTURE.md §3). */
export const GPS_QUEUE = 'mq_gps';

/** Ingress paths (ARCHITECTURE.md §2). */
export const WS_PATH = '/ws';
export const FILES_PATH = '/files';
