// The auth service's public surface for other parts of the platform: its
// configuration schema (operator, README) and the ctx.extra keys the gateway sets.
export { authSchema, authOwnSchema } from './config.js';
export { CLIENT_ADDR_EXTRA, DEVICE_ID_EXTRA } from './extra-keys.js';
