// A gRPC server for TCE servants: grpc.health.v1, server reflection (so stock
// clients such as grpcurl can list and call services), per-call metrics and
// graceful shutdown (drain in-flight calls, then force after a deadline).
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { addReflection, loadDescriptorIndex } from './reflection.js';
import { servantHandlers, type InterfaceInfo } from './tce.js';

export interface RpcServerOptions {
  logger: Logger;
  metrics?: Metrics;
  /** Key that verifies caller identities in metadata (see identity.ts). */
  identityKey?: Buffer;
  /** FileDescriptorSet of the served services (proto/gen/descriptors.binpb), for reflection. */
  descriptorSet?: string;
  maxMessageBytes?: number;
}

export class RpcServer {
  readonly server: grpc.Server;
  private readonly health: HealthImplementation;
  private readonly services: string[] = [];
  private readonly opts: RpcServerOptions;

  constructor(opts: RpcServerOptions) {
    this.opts = opts;
    const max = opts.maxMessageBytes ?? 4 * 1024 * 1024;
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': max,
      'grpc.max_send_message_length': max,
      'grpc.keepalive_permit_without_calls': 1,
    });
    this.health = new HealthImplementation({ '': 'NOT_SERVING' });
    this.health.addToServer(this.server);
    if (opts.descriptorSet) addReflection(this.server, loadDescriptorIndex(opts.descriptorSet));
  }

  /** Registers a servant for one IDL interface. */
  addServant(info: InterfaceInfo, servant: object): this {
    const m = this.opts.metrics;
    this.server.addService(
      info.service,
      servantHandlers(info, servant, {
        logger: this.opts.logger,
        identityKey: this.opts.identityKey,
        onCall: m
          ? (method, code, seconds) => {
              m.rpcHandled.inc({ method, code: grpc.status[code] ?? String(code) });
              m.rpcSeconds.observe({ method }, seconds);
            }
          : undefined,
      }),
    );
    this.services.push(info.fullName);
    this.health.setStatus(info.fullName, 'NOT_SERVING');
    return this;
  }

  /** Binds and starts; returns the bound port (useful with port 0). */
  async listen(address: string): Promise<number> {
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    this.setServing('SERVING');
    this.opts.logger.info('Started gRPC server', { address, port, services: this.services });
    return port;
  }

  setServing(status: ServingStatus): void {
    this.health.setStatus('', status);
    for (const s of this.services) this.health.setStatus(s, status);
  }

  /** Stops accepting calls, lets in-flight ones finish, forces after graceMs. */
  async shutdown(graceMs: number): Promise<void> {
    this.setServing('NOT_SERVING');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.opts.logger.warn('Forced gRPC shutdown after grace period', { graceMs });
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
