// One device's WebSocket: frame intake (rate limit, decoding), the reverse
// calls the platform makes on the device (ITerminal) with their own ids and
// timeouts, the bounded send queue, and closing with a reason. Kept small on
// purpose — an idle connection holds a handful of fields and no timers (the
// gateway's single sweep does heartbeats and timeouts for all of them).
import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { PlatformError } from '../../runtime/src/errors.js';
import type { MethodInfo } from '../../runtime/src/tce.js';
import type { DeviceFeed } from './device-feed.js';
import {
  CallFrameEncoder,
  CloseCode,
  FrameKind,
  FrameError,
  decodeFrame,
  encodeFrame,
  errorCodeOf,
  type Frame,
} from './frame.js';
import { take } from './token-bucket.js';

/** What a verified access token says about the device on this connection. */
export interface Session {
  userId: string;
  deviceId: string;
  username: string;
  sid: string;
  /** Token issue time, seconds (revocation compares it). */
  iat: number;
  /** ms since epoch; the connection closes then unless renewed. */
  expiresAt: number;
}

/** Settings shared by every connection (one object, referenced, never copied). */
export interface ConnectionLimits {
  rateLimit: number;
  rateBurst: number;
  maxSendQueueBytes: number;
}

export interface ConnectionHooks {
  /** A call or oneway frame from the device. */
  onCall(conn: DeviceConnection, frame: Frame): void;
  /** The connection is gone (after close or error); called once. */
  onClosed(conn: DeviceConnection, code: number, reason: string): void;
  onProtocolError(conn: DeviceConnection, reason: string): void;
}

interface PendingCall {
  resolve(payload: Uint8Array): void;
  reject(err: PlatformError): void;
  timer: NodeJS.Timeout;
}

const WS_OPEN = 1;

/** One encoder per (interface, method, timeout) the gateway calls on devices: a handful. */
const callEncoders = new Map<string, CallFrameEncoder>();
function callEncoder(iface: string, method: MethodInfo, timeoutMs: number): CallFrameEncoder {
  const key = `${iface}\n${method.name}\n${timeoutMs}`;
  let e = callEncoders.get(key);
  if (!e) callEncoders.set(key, (e = new CallFrameEncoder(iface, method.name, method.index ?? 0, timeoutMs)));
  return e;
}
/** Shared, so an error listener costs no closure per connection. */
const ignore = (): void => undefined;
const uncork = (socket: Duplex): void => socket.uncork();

export class DeviceConnection {
  readonly id = crypto.randomBytes(9).toString('base64url');
  readonly openedAt: number;
  /** Last time anything (frame or pong) arrived. */
  lastSeen: number;
  /** A ping went out and nothing has arrived since. */
  pingOutstanding = false;
  session: Session | undefined;
  /** Delivery of the user's inbox to this device (set once the session starts). */
  feed: DeviceFeed | undefined;
  /** One feed per group the user belongs to (created when the first one opens). */
  groupFeeds: Map<string, DeviceFeed> | undefined;
  closed = false;
  /** The device connected with push_batch=1: it takes ITerminal.onMessages. */
  pushBatch = false;
  /** Its feeds may push: set once the answer that started the session has gone out (hub). */
  pushing = false;
  private tokens: number;
  private tokensAt: number;
  private calls: Map<number, PendingCall> | undefined;
  private nextCallId = 0;

  constructor(
    readonly ws: WebSocket,
    /** The upgraded socket under `ws` (corked while a burst of frames is written). */
    private readonly socket: Duplex,
    /** Remote address as seen by the gateway (or the proxy's X-Forwarded-For). */
    readonly peer: string,
    private readonly limits: ConnectionLimits,
    private readonly hooks: ConnectionHooks,
    now = Date.now(),
  ) {
    this.openedAt = now;
    this.lastSeen = now;
    this.tokens = limits.rateBurst;
    this.tokensAt = now;
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('pong', () => {
      this.lastSeen = Date.now();
      this.pingOutstanding = false;
    });
    ws.on('close', (code: number, reason: Buffer) => this.onClose(code, reason.toString('utf8')));
    // ws reports protocol violations (oversize → 1009, bad opcodes → 1002) here and closes by itself.
    ws.on('error', ignore);
  }

  get userId(): string | undefined {
    return this.session?.userId;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const now = Date.now();
    this.lastSeen = now;
    this.pingOutstanding = false;
    if (this.closed) return;
    const bucket = { tokens: this.tokens, at: this.tokensAt };
    const ok = take(bucket, now, this.limits.rateLimit, this.limits.rateBurst);
    this.tokens = bucket.tokens;
    this.tokensAt = bucket.at;
    if (!ok) {
      this.close(CloseCode.POLICY_VIOLATION, `rate limit exceeded (${this.limits.rateLimit} frames/s)`);
      return;
    }
    if (!isBinary) {
      this.hooks.onProtocolError(this, 'text frame');
      this.close(CloseCode.UNSUPPORTED_DATA, 'text frames are not supported; send binary Frame messages');
      return;
    }
    let f: Frame;
    try {
      f = decodeFrame(data);
    } catch (err) {
      const reason = err instanceof FrameError ? err.message : 'malformed frame';
      this.hooks.onProtocolError(this, reason);
      this.close(CloseCode.PROTOCOL_ERROR, `malformed frame: ${reason}`.slice(0, 120));
      return;
    }
    switch (f.kind) {
      case FrameKind.CALL:
      case FrameKind.ONEWAY:
        this.hooks.onCall(this, f);
        return;
      case FrameKind.RETURN:
      case FrameKind.ERROR:
        this.settle(f);
        return;
      case FrameKind.PING:
        this.send(encodeFrame({ id: f.id, kind: FrameKind.PONG }));
        return;
      case FrameKind.PONG:
        return;
    }
  }

  private settle(f: Frame): void {
    const p = this.calls?.get(f.id);
    if (!p) return; // late answer to a call that timed out: nothing waits for it
    this.calls!.delete(f.id);
    clearTimeout(p.timer);
    if (f.kind === FrameKind.RETURN) p.resolve(f.payload);
    else p.reject(new PlatformError(errorCodeOf(f.error_code), f.error_message || 'device returned an error'));
  }

  /**
   * Calls a method the device implements (ITerminal) and resolves with the
   * encoded response; rejects DEADLINE_EXCEEDED after timeoutMs, UNAVAILABLE
   * when the connection goes first.
   */
  call(iface: string, method: MethodInfo, request: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.closed || this.ws.readyState !== WS_OPEN) {
      return Promise.reject(new PlatformError('UNAVAILABLE', 'device connection is closed'));
    }
    this.nextCallId = this.nextCallId >= Number.MAX_SAFE_INTEGER ? 1 : this.nextCallId + 1;
    const id = this.nextCallId;
    const calls = (this.calls ??= new Map());
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        calls.delete(id);
        reject(
          new PlatformError('DEADLINE_EXCEEDED', `device did not answer ${iface}.${method.name} in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      calls.set(id, { resolve, reject, timer });
      this.send(callEncoder(iface, method, timeoutMs).encode(id, request));
    });
  }

  /** Oneway call on the device: nothing comes back. */
  callOneway(iface: string, method: MethodInfo, request: Uint8Array): void {
    this.send(
      encodeFrame({
        kind: FrameKind.ONEWAY,
        iface,
        method: method.name,
        method_index: method.index ?? 0,
        payload: request as Buffer,
      }),
    );
  }

  /** Queues a frame; a device whose queue grows past the bound is disconnected (slow consumer). */
  send(buf: Buffer): boolean {
    if (this.closed || this.ws.readyState !== WS_OPEN) return false;
    // Frames queued in the same tick (a batch of stored messages pushed to this
    // device, or its pushes and an answer) leave in one write: the socket stays
    // corked until the tick ends. A fan-out writes each device's share at once
    // instead of one syscall per frame.
    if (this.socket.writableCorked === 0) {
      this.socket.cork();
      process.nextTick(uncork, this.socket);
    }
    this.ws.send(buf);
    if (this.ws.bufferedAmount > this.limits.maxSendQueueBytes) {
      this.close(
        CloseCode.SLOW_CONSUMER,
        `slow consumer: send queue over ${this.limits.maxSendQueueBytes} bytes`,
        1000,
      );
      return false;
    }
    return true;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  ping(): void {
    if (this.closed || this.ws.readyState !== WS_OPEN) return;
    this.pingOutstanding = true;
    this.ws.ping();
  }

  /**
   * Closes with a code and reason; the socket is destroyed if the close
   * handshake does not finish within forceAfterMs (a device that stopped
   * reading never would).
   */
  close(code: number, reason: string, forceAfterMs = 5000): void {
    if (this.closed) return;
    this.markClosed(code, reason);
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
      return;
    }
    setTimeout(() => this.ws.terminate(), forceAfterMs).unref();
  }

  /** Drops the socket at once (shutdown, dead peer). */
  terminate(code: number, reason: string): void {
    if (!this.closed) this.markClosed(code, reason);
    this.ws.terminate();
  }

  private onClose(code: number, reason: string): void {
    this.markClosed(code, reason);
  }

  private markClosed(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.calls) {
      for (const p of this.calls.values()) {
        clearTimeout(p.timer);
        p.reject(new PlatformError('UNAVAILABLE', 'device connection closed'));
      }
      this.calls.clear();
    }
    this.hooks.onClosed(this, code, reason);
  }
}
