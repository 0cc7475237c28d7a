// API errors with the status the server gave, so callers can choose the next
// step: 404 → absent, 409 → re-read and retry, 410 → relist, 422 → invalid,
// anything else → back off and try again.

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string,
    readonly body: unknown,
  ) {
    super(message);
  }

  static fromResponse(method: string, path: string, status: number, body: unknown): ApiError {
    const s = (body ?? {}) as { message?: string; reason?: string };
    const msg = typeof s.message === 'string' ? s.message : typeof body === 'string' ? body.slice(0, 500) : '';
    return new ApiError(`${method} ${path}: ${status} ${s.reason ?? ''} ${msg}`.trim(), status, s.reason ?? '', body);
  }

  get conflict(): boolean {
    return this.status === 409;
  }

  get gone(): boolean {
    return this.status === 410;
  }
}

export function isApiError(err: unknown, status?: number): err is ApiError {
  return err instanceof ApiError && (status === undefined || err.status === status);
}
