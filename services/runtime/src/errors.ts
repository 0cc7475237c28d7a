// The closed list of client-visible platform errors. Servants throw these; the
// edges (gRPC server, HTTP handlers, the device gateway) map them to a status
// exactly once. Anything else becomes INTERNAL with a generic message: details
// are logged, never leaked to the caller.
import * as grpc from '@grpc/grpc-js';

import { ERROR_CODES, type ErrorCode } from './error-codes.js';

export { ERROR_CODES, type ErrorCode };

export const GRPC_STATUS: Readonly<Record<ErrorCode, grpc.status>> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  ABORTED: grpc.status.ABORTED,
  OUT_OF_RANGE: grpc.status.OUT_OF_RANGE,
  UNIMPLEMENTED: grpc.status.UNIMPLEMENTED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  DEADLINE_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  CANCELLED: grpc.status.CANCELLED,
  INTERNAL: grpc.status.INTERNAL,
};

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 401,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 412,
  ABORTED: 409,
  OUT_OF_RANGE: 416,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
  CANCELLED: 499,
  INTERNAL: 500,
};

/** An error the caller is meant to see: a stable code and a precise message. */
export class PlatformError extends Error {
  override name = 'PlatformError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export const invalidArgument = (msg: string): PlatformError => new PlatformError('INVALID_ARGUMENT', msg);
export const notFound = (msg: string): PlatformError => new PlatformError('NOT_FOUND', msg);
export const unauthenticated = (msg: string): PlatformError => new PlatformError('UNAUTHENTICATED', msg);

export function isPlatformError(err: unknown): err is PlatformError {
  return err instanceof PlatformError;
}

const CODE_BY_STATUS = new Map<number, ErrorCode>(
  (Object.entries(GRPC_STATUS) as [ErrorCode, grpc.status][]).map(([k, v]) => [v, k]),
);

/** Server edge: the status object grpc-js sends for any thrown value. */
export function toGrpcStatus(err: unknown): { code: grpc.status; details: string } {
  if (err instanceof PlatformError) return { code: GRPC_STATUS[err.code], details: err.message };
  return { code: grpc.status.INTERNAL, details: 'internal error' };
}

/** Client edge: a grpc-js ServiceError back into a PlatformError with the same code and message. */
export function fromGrpcError(err: unknown): PlatformError {
  if (err instanceof PlatformError) return err;
  const e = err as Partial<grpc.ServiceError>;
  const code = typeof e.code === 'number' ? (CODE_BY_STATUS.get(e.code) ?? 'INTERNAL') : 'INTERNAL';
  return new PlatformError(code, e.details ?? e.message ?? String(err), { cause: err });
}
