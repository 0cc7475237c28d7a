// The hand-written gRPC service mq.MqStream (Subscribe, Publish): bidirectional
// streams of raw frames whose messages are declared in mq.idl. Shared by the
// broker (stream-service.ts) and the client.
import type * as grpc from '@grpc/grpc-js';

export const MQ_STREAM_SERVICE = 'mq.MqStream';
const raw = (b: Buffer): Buffer => b;

function bidi(method: string): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path: `/${MQ_STREAM_SERVICE}/${method}`,
    requestStream: true,
    responseStream: true,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  };
}

/** The service definition, shared by the broker and the client. */
export const mqStreamDefinition = {
  Subscribe: bidi('Subscribe'),
  Publish: bidi('Publish'),
} satisfies grpc.ServiceDefinition;
