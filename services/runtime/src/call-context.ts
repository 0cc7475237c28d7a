// What a servant method receives besides its parameters (TCE's `ctx`): the
// caller's `extra` map, peer address, verified identity and the call deadline.
import * as grpc from '@grpc/grpc-js';
import { IDENTITY_HEADER, verifyIdentity, type Identity } from './identity.js';

export interface CallContext {
  /** The caller's `extra` string map (TCE's per-call extra data). */
  extra: Record<string, string>;
  peer: string;
  /** Set only when the call carried an identity signed with the internal key. */
  identity: Identity | undefined;
  /** Absolute deadline (ms since epoch), or Infinity. */
  deadline: number;
  metadata: grpc.Metadata;
  /** True once the caller cancelled or the deadline passed. */
  readonly cancelled: boolean;
}

/** Extra travels as one binary header holding UTF-8 JSON, so keys and values may be any strings. */
export const EXTRA_HEADER = 'tce-extra-bin';

export function encodeExtra(md: grpc.Metadata, extra: Record<string, string> | undefined): void {
  if (extra && Object.keys(extra).length > 0) md.set(EXTRA_HEADER, Buffer.from(JSON.stringify(extra), 'utf8'));
}

export function decodeExtra(md: grpc.Metadata): Record<string, string> {
  const v = md.get(EXTRA_HEADER)[0];
  if (!Buffer.isBuffer(v)) return {};
  try {
    const o = JSON.parse(v.toString('utf8')) as unknown;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return {};
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(o)) if (typeof val === 'string') out[k] = val;
    return out;
  } catch {
    return {};
  }
}

export function contextFromCall(
  call: grpc.ServerUnaryCall<unknown, unknown>,
  identityKey: Buffer | undefined,
): CallContext {
  const md = call.metadata;
  const idHeader = md.get(IDENTITY_HEADER)[0];
  const identity = identityKey && typeof idHeader === 'string' ? verifyIdentity(idHeader, identityKey) : undefined;
  const d = call.getDeadline();
  const deadline = d instanceof Date ? d.getTime() : d;
  return {
    extra: decodeExtra(md),
    peer: call.getPeer(),
    identity,
    deadline: Number.isFinite(deadline) ? deadline : Infinity,
    metadata: md,
    get cancelled() {
      return call.cancelled;
    },
  };
}
