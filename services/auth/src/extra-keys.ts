// ctx.extra keys the gateway sets when it forwards a device's call to auth.
// (Plain strings on purpose: the gateway may use them without importing auth.)

/** The device's network address (IPv4 or IPv6), for per-address login throttling. */
export const CLIENT_ADDR_EXTRA = 'client-addr';
/** The device installation's own stable id (1–64 of A-Z a-z 0-9 . _ : -), used as the token's `did`. */
export const DEVICE_ID_EXTRA = 'device-id';
