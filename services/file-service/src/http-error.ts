// Client-visible failures at the HTTP edge. They are PlatformErrors (the closed
// list of codes, so the gRPC edge maps them the same way) that may carry the
// exact HTTP status a protocol demands where the generic mapping is too coarse:
// 413 for a too-large body, 408 for a stalled one, 405 with Allow, 423 and 460
// for tus. Mapped to a response once, in http-server.ts.
import { HTTP_STATUS, PlatformError, type ErrorCode } from '../../runtime/src/errors.js';

export class HttpError extends PlatformError {
  override name = 'HttpError';
  constructor(
    code: ErrorCode,
    message: string,
    readonly status: number = HTTP_STATUS[code],
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }
}

export const badRequest = (msg: string): HttpError => new HttpError('INVALID_ARGUMENT', msg, 400);
export const notFound = (msg = 'no such file'): HttpError => new HttpError('NOT_FOUND', msg, 404);
export const forbidden = (msg: string): HttpError => new HttpError('PERMISSION_DENIED', msg, 403);
export const tooLarge = (max: number): HttpError =>
  new HttpError('RESOURCE_EXHAUSTED', `upload exceeds the limit of ${max} bytes`, 413);
export const bodyTimeout = (): HttpError => new HttpError('DEADLINE_EXCEEDED', 'request body arrived too slowly', 408);
export const methodNotAllowed = (allow: string[]): HttpError =>
  new HttpError('INVALID_ARGUMENT', `method not allowed; use ${allow.join(', ')}`, 405, { allow: allow.join(', ') });

/** The status and headers for any thrown value; unknown errors become a bare 500. */
export function httpStatusOf(err: unknown): {
  status: number;
  code: ErrorCode;
  message: string;
  headers: Record<string, string>;
} {
  if (err instanceof HttpError)
    return { status: err.status, code: err.code, message: err.message, headers: err.headers };
  if (err instanceof PlatformError)
    return { status: HTTP_STATUS[err.code], code: err.code, message: err.message, headers: {} };
  return { status: 500, code: 'INTERNAL', message: 'internal error', headers: {} };
}
