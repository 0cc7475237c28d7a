// Access tokens shared by auth (signs), the gateway and the file service (verify locally).
export { parseKeySet, generateKeySet, rotateKeySet, type KeySet, type TokenKey } from './keyset.js';
export {
  signAccessToken,
  verifyAccessToken,
  ISSUER,
  AUDIENCE,
  type AccessClaims,
  type SignOptions,
} from './access-token.js';
export {
  RevocationList,
  revoke,
  revocations,
  isRevokedBy,
  ensureRevocationIndexes,
  sweepRevocations,
  REVOCATIONS,
  type RevocationRecord,
} from './revocation.js';
export { tokenKeysSchema, revocationSchema, verifierSchema, keySetFromConfig } from './config.js';
