// Generic forwarding of device calls to an internal gRPC service: the frame's
// payload is already the method's protobuf request, so it is passed through as
// bytes (identity serializers) — no per-method code, no decode/encode. The
// call's deadline and extra travel as gRPC deadline and metadata; the caller's
// identity is signed into metadata with the internal key, never taken from the
// device's payload.
import * as grpc from '@grpc/grpc-js';
import { encodeExtra } from '../../runtime/src/call-context.js';
import { BASE_GRPC_CLIENT_OPTIONS } from '../../runtime/src/grpc-options.js';
import { PlatformError, fromGrpcError } from '../../runtime/src/errors.js';
import { IDENTITY_HEADER, signIdentity, type Identity } from '../../runtime/src/identity.js';

const passThrough = (b: Buffer): Buffer => b;

export interface ForwardCall {
  path: string;
  payload: Uint8Array;
  deadline: number;
  extra: Record<string, string>;
  identity: Identity | undefined;
}

export class Forwarder {
  readonly client: grpc.Client;

  constructor(
    readonly name: string,
    readonly address: string,
    private readonly identityKey: Buffer,
    maxMessageBytes: number,
  ) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      ...BASE_GRPC_CLIENT_OPTIONS,
      'grpc.max_receive_message_length': maxMessageBytes,
      'grpc.max_send_message_length': maxMessageBytes,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_permit_without_calls': 1,
    });
  }

  call(c: ForwardCall): Promise<Buffer> {
    const md = new grpc.Metadata();
    encodeExtra(md, c.extra);
    if (c.identity) md.set(IDENTITY_HEADER, signIdentity(c.identity, this.identityKey));
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        c.path,
        passThrough,
        passThrough,
        Buffer.from(c.payload.buffer, c.payload.byteOffset, c.payload.byteLength),
        md,
        { deadline: c.deadline },
        (err, res) => {
          if (err) {
            const e = fromGrpcError(err);
            // A transport failure says nothing useful to a device beyond "try again".
            if (e.code === 'UNAVAILABLE') reject(new PlatformError('UNAVAILABLE', `${this.name} is unavailable`));
            else reject(e);
          } else resolve(res ?? Buffer.alloc(0));
        },
      );
    });
  }

  /** Whether the channel is usable (for readiness): connects lazily on first check. */
  ready(): boolean {
    const st = this.client.getChannel().getConnectivityState(true);
    return st === grpc.connectivityState.READY || st === grpc.connectivityState.IDLE;
  }

  close(): void {
    this.client.close();
  }
}
