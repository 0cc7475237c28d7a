// Recognising store errors by code (the driver's classes differ across versions).

/** E11000: an insert hit a unique index. FerretDB 1.x reports the same code. */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}
