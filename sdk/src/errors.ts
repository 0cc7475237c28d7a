// Errors the SDK reports: a platform error code (the closed list in
// docs/protocol.md) and the server's message.
import type { ErrorCode } from '../../services/runtime/src/error-codes.js';

export type { ErrorCode };

export class TceError extends Error {
  override name = 'TceError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Worth retrying on a new connection (the call may or may not have run). */
export const isRetryable = (err: unknown): boolean =>
  err instanceof TceError &&
  (err.code === 'UNAVAILABLE' || err.code === 'DEADLINE_EXCEEDED' || err.code === 'CANCELLED');
