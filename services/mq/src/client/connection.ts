// The client's connection to EasyMQ: one gRPC channel to one of the given
// addresses. With several addresses (replicas run side by side, e.g. locally),
// a failure moves to the next one: standbys do not listen, so the client ends up
// at the leader. Retries back off exponentially with jitter.
import * as grpc from '@grpc/grpc-js';
import { BASE_GRPC_CLIENT_OPTIONS } from '../../../runtime/src/grpc-options.js';
import type { PlatformError } from '../../../runtime/src/errors.js';

export const RETRYABLE = new Set([
  'UNAVAILABLE',
  'CANCELLED',
  'DEADLINE_EXCEEDED',
  'INTERNAL',
  'ABORTED',
  'RESOURCE_EXHAUSTED',
]);

export function isRetryable(err: PlatformError): boolean {
  return RETRYABLE.has(err.code);
}

export interface ConnectionOptions {
  credentials?: grpc.ChannelCredentials;
  /** First retry delay (ms); doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

export class MqConnection {
  readonly addresses: string[];
  private index = 0;
  private current: grpc.Client | undefined;
  private readonly opts: ConnectionOptions;
  private closed = false;

  constructor(addresses: string | string[], opts: ConnectionOptions = {}) {
    this.addresses = (Array.isArray(addresses) ? addresses : addresses.split(',')).map((a) => a.trim()).filter(Boolean);
    if (this.addresses.length === 0) throw new Error('MqConnection: no address given');
    this.opts = opts;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  client(): grpc.Client {
    if (this.closed) throw new Error('MqConnection is closed');
    this.current ??= new grpc.Client(
      this.addresses[this.index % this.addresses.length]!,
      this.opts.credentials ?? grpc.credentials.createInsecure(),
      {
        ...BASE_GRPC_CLIENT_OPTIONS,
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
        'grpc.max_send_message_length': 64 * 1024 * 1024,
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 2000,
      },
    );
    return this.current;
  }

  /** A call on `client` failed as if the server were gone: use the next address (when there are several). */
  failed(client: grpc.Client | undefined, err: PlatformError): void {
    if (this.addresses.length < 2 || err.code !== 'UNAVAILABLE' || client !== this.current) return;
    this.current?.close();
    this.current = undefined;
    this.index++;
  }

  /** Delay before retry number `attempt` (0-based). */
  backoff(attempt: number): number {
    const base = this.opts.retryMs ?? 100;
    const max = this.opts.maxRetryMs ?? 2000;
    const d = Math.min(max, base * 2 ** Math.min(attempt, 10));
    return d / 2 + Math.random() * (d / 2);
  }

  close(): void {
    this.closed = true;
    this.current?.close();
    this.current = undefined;
  }
}
