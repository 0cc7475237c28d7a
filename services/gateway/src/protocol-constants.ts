// Constants of the device protocol (docs/protocol.md): frame kinds and the
// WebSocket close codes. No imports: the device SDK (bundled for browsers)
// shares this module with the gateway.
export const FrameKind = {
  CALL: 1,
  RETURN: 2,
  ERROR: 3,
  ONEWAY: 4,
  PING: 5,
  PONG: 6,
} as const;
export type FrameKindNo = (typeof FrameKind)[keyof typeof FrameKind];

/** WebSocket close codes the gateway uses (4000–4999 are the platform's own). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  POLICY_VIOLATION: 1008,
  TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  DISPLACED: 4001,
  TOKEN_REVOKED: 4002,
  TOKEN_EXPIRED: 4003,
  SLOW_CONSUMER: 4004,
  LOGIN_TIMEOUT: 4005,
  IDLE_TIMEOUT: 4006,
  DELIVERY_FAILED: 4007,
} as const;
