// The RPC runtime's public surface, shared by every service.
export * from './errors.js';
export * from './config.js';
export { createLogger, silentLogger, type Logger, type LogLevel } from './logger.js';
export { createMetrics, type Metrics } from './metrics.js';
export { startOpsServer, type OpsServer, type ReadinessCheck } from './ops-server.js';
export { RpcServer, type RpcServerOptions } from './rpc-server.js';
export {
  ProxyBase,
  servantHandlers,
  DEFAULT_TIMEOUT_MS,
  type InterfaceInfo,
  type MethodInfo,
  type MessageType,
  type CallOptions,
  type AsyncCallback,
  type ProxyOptions,
} from './tce.js';
export { type CallContext, EXTRA_HEADER, encodeExtra, decodeExtra } from './call-context.js';
export { signIdentity, verifyIdentity, IDENTITY_HEADER, type Identity } from './identity.js';
export { runService, mainOf, type ServiceEnv, type RunningService } from './run.js';
export { DiagServant } from './diag-servant.js';
