// Options every gRPC client of the platform starts from.
//
// channelz (grpc-js's per-call and per-socket statistics for the channelz
// admin service) is off: nothing here serves channelz, and its bookkeeping
// costs CPU on every call (~7% of a client's CPU per small unary call:
// bench/location/profile-run.ts, one `nearby` per call, 219 → 205 µs).
//
// Clients only: a grpc-js 1.14 server with channelz off no longer tracks its
// sessions, so its forceShutdown() would leave in-flight calls running
// (test/integration/runtime/call-modes.test.ts fails that way).
export const BASE_GRPC_CLIENT_OPTIONS = { 'grpc.enable_channelz': 0 } as const;
