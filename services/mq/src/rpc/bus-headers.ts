// How a TCE call travels over EasyMQ: the request is an mq.Message whose payload
// is the serialized gRPC request and whose headers carry the method path, call
// id, reply queue (and its password), absolute deadline and the call metadata
// (extra, identity); the reply is a message with the same call id, a gRPC status
// code and details, and the serialized response.
import * as grpc from '@grpc/grpc-js';

export const H = {
  method: 'tce-method',
  callId: 'tce-call-id',
  replyTo: 'tce-reply-to',
  replyPassword: 'tce-reply-password',
  deadline: 'tce-deadline',
  status: 'tce-status',
  details: 'tce-details',
} as const;

const MD = 'md:';

/** Call metadata → headers (binary values base64). */
export function metadataToHeaders(md: grpc.Metadata, out: Record<string, string>): void {
  for (const [k, v] of Object.entries(md.getMap())) {
    out[`${MD}${k}`] = Buffer.isBuffer(v) ? v.toString('base64') : String(v);
  }
}

export function headersToMetadata(headers: Record<string, string>): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) {
    if (!k.startsWith(MD)) continue;
    const key = k.slice(MD.length);
    try {
      if (key.endsWith('-bin')) md.set(key, Buffer.from(v, 'base64'));
      else md.set(key, v);
    } catch {
      /* a key grpc-js refuses: dropped, as a gRPC server would never see it */
    }
  }
  return md;
}
