// File and upload ids: 128 random bits, base64url (22 characters). They are the
// capability to read a file, so they must be unguessable — never derived from
// time or a counter (as ObjectIds are).
import crypto from 'node:crypto';

const ID = /^[A-Za-z0-9_-]{22}$/;

export function newId(): string {
  return crypto.randomBytes(16).toString('base64url');
}

export function isValidId(s: string): boolean {
  return ID.test(s);
}
