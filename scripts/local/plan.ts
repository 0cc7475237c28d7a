// The local platform as data: which processes run, in which order, with which
// environment. Pure (ports and secrets are inputs), so it is unit-tested and
// reads side by side with the operator's builders — the same variables a pod
// gets in Kubernetes.

export interface LocalPorts {
  mq: { grpc: number; ops: number };
  /** A second mq replica (standby; one holds the leader lease). Clients get both addresses. */
  mqStandby?: { grpc: number; ops: number };
  auth: { grpc: number; ops: number };
  units: { grpc: number; ops: number }[];
  /** grpc: files::IFileMeta (TCE_FILES_GRPC_PORT); optional so each replica gets its own port locally. */
  files: { http: number; ops: number; grpc?: number }[];
  gateways: { ws: number; ops: number }[];
  nginx: number;
}

export interface LocalSecrets {
  internalKey: string;
  tokenKeys: string;
  urlSigningKey: string;
  mqAdminPassword: string;
  mqPasswords: Record<string, string>;
}

export interface ProcessSpec {
  /** Unique instance name, e.g. gateway-1. */
  name: string;
  /** Folder under services/. */
  service: string;
  env: Record<string, string>;
}

/** Queues every local platform declares (the operator derives the same from the Platform spec). */
export function queueDeclarations(partitions: number): unknown[] {
  return [{ name: 'mq_gps', kind: 'partitioned', durable: true, partitions }];
}

export function localPlan(opts: {
  storeUrl: string;
  ports: LocalPorts;
  secrets: LocalSecrets;
  partitions: number;
  logLevel?: string;
}): ProcessSpec[] {
  const { ports, secrets } = opts;
  const common = (ops: number): Record<string, string> => ({
    TCE_MONGO_URL: opts.storeUrl,
    TCE_LOG_LEVEL: opts.logLevel ?? 'info',
    TCE_OPS_PORT: String(ops),
    TCE_BIND_HOST: '127.0.0.1',
    TCE_INTERNAL_KEY: secrets.internalKey,
  });
  const mqAddr = [ports.mq, ...(ports.mqStandby ? [ports.mqStandby] : [])].map((m) => `127.0.0.1:${m.grpc}`).join(',');
  const mqEnv = (m: { grpc: number; ops: number }): Record<string, string> => ({
    ...common(m.ops),
    TCE_GRPC_PORT: String(m.grpc),
    TCE_MQ_ADMIN_PASSWORD: secrets.mqAdminPassword,
    TCE_MQ_PASSWORDS: JSON.stringify(secrets.mqPasswords),
    TCE_MQ_QUEUES: JSON.stringify(queueDeclarations(opts.partitions)),
    // With a standby: a short lease so a killed leader is replaced within seconds.
    ...(ports.mqStandby ? { TCE_MQ_LEASE_TTL: '3s' } : {}),
  });
  const publicHttp = `http://127.0.0.1:${ports.nginx}`;
  const specs: ProcessSpec[] = [
    { name: 'mq', service: 'mq', env: mqEnv(ports.mq) },
    ...(ports.mqStandby ? [{ name: 'mq-2', service: 'mq', env: mqEnv(ports.mqStandby) }] : []),
    {
      name: 'auth',
      service: 'auth',
      env: { ...common(ports.auth.ops), TCE_GRPC_PORT: String(ports.auth.grpc), TCE_TOKEN_KEYS: secrets.tokenKeys },
    },
    ...ports.units.map((p, i) => ({
      name: `location-unit-${i + 1}`,
      service: 'location-unit',
      env: {
        ...common(p.ops),
        TCE_GRPC_PORT: String(p.grpc),
        TCE_MQ_ADDR: mqAddr,
        TCE_LOCATION_MQ_PASSWORD: secrets.mqPasswords.mq_gps ?? '',
        TCE_GPS_PARTITIONS: String(opts.partitions),
        TCE_ADVERTISE_ADDR: `127.0.0.1:${p.grpc}`,
      },
    })),
    ...ports.files.map((p, i) => ({
      name: `file-service-${i + 1}`,
      service: 'file-service',
      env: {
        ...common(p.ops),
        TCE_HTTP_PORT: String(p.http),
        TCE_TOKEN_KEYS: secrets.tokenKeys,
        TCE_URL_SIGNING_KEY: secrets.urlSigningKey,
        TCE_FILES_PUBLIC_URL: `${publicHttp}/files`,
        // Every replica on one host needs its own gRPC port (in Kubernetes each pod has the default).
        ...(p.grpc !== undefined ? { TCE_FILES_GRPC_PORT: String(p.grpc) } : {}),
      },
    })),
    ...ports.gateways.map((p, i) => ({
      name: `gateway-${i + 1}`,
      service: 'gateway',
      env: {
        ...common(p.ops),
        TCE_WS_PORT: String(p.ws),
        TCE_GATEWAY_ID: `gateway-${i + 1}`,
        TCE_AUTH_ADDR: `127.0.0.1:${ports.auth.grpc}`,
        TCE_MQ_ADDR: mqAddr,
        TCE_MQ_PASSWORDS: JSON.stringify(secrets.mqPasswords),
        TCE_MQ_ADMIN_PASSWORD: secrets.mqAdminPassword,
        TCE_GATEWAY_TRUST_PROXY: 'true',
        TCE_LOCATION_ADDR: `127.0.0.1:${ports.units[0]?.grpc ?? 0}`,
        TCE_FILES_PUBLIC_URL: `${publicHttp}/files`,
        TCE_ALLOWED_ORIGINS: `${publicHttp},http://localhost:${ports.nginx}`,
        TCE_TOKEN_KEYS: secrets.tokenKeys,
      },
    })),
  ];
  return specs;
}

/** One more location unit like `base` (scaling out): its own name, ports and advertised address. */
export function extraUnitSpec(base: ProcessSpec, index: number, port: { grpc: number; ops: number }): ProcessSpec {
  return {
    name: `location-unit-${index}`,
    service: 'location-unit',
    env: {
      ...base.env,
      TCE_GRPC_PORT: String(port.grpc),
      TCE_OPS_PORT: String(port.ops),
      TCE_ADVERTISE_ADDR: `127.0.0.1:${port.grpc}`,
    },
  };
}
