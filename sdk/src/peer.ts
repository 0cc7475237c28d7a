// One side of the device protocol over an open socket: calls out (ids,
// timeouts, extra) and calls in (the platform calling the device's ITerminal),
// both on the same connection.
import type { ModelCodec } from './codec.js';
import { TceError, type ErrorCode } from './errors.js';
import { ERROR_CODES } from '../../services/runtime/src/error-codes.js';
import { decodeFrame, encodeFrame, FrameKind, type WireFrame } from './protocol.js';

export interface PeerSocket {
  send(data: Uint8Array): void;
}

/** An object implementing IDL methods: (…params) => result (sync or async). */
export type Servant = object;

export interface CallOptions {
  /** ms; default 30 000 (TCE's default). */
  timeout?: number;
  extra?: Record<string, string>;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: TceError): void;
  timer: ReturnType<typeof setTimeout>;
  iface: string;
  method: string;
}

const CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export const DEFAULT_TIMEOUT_MS = 30_000;

export class RpcPeer {
  private readonly calls = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly socket: PeerSocket,
    private readonly codec: ModelCodec,
    /** Interfaces this side serves, by full name. */
    private readonly servants: ReadonlyMap<string, Servant>,
    private readonly onProtocolError: (reason: string) => void = () => undefined,
  ) {}

  get pending(): number {
    return this.calls.size;
  }

  call(iface: string, method: string, args: readonly unknown[], opts: CallOptions = {}): Promise<unknown> {
    if (this.closed) return Promise.reject(new TceError('UNAVAILABLE', 'not connected'));
    let payload: Uint8Array;
    try {
      payload = this.codec.encodeRequest(iface, method, args);
    } catch (err) {
      return Promise.reject(new TceError('INVALID_ARGUMENT', (err as Error).message));
    }
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT_MS;
    this.nextId = this.nextId >= Number.MAX_SAFE_INTEGER ? 1 : this.nextId + 1;
    const id = this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(id);
        reject(new TceError('DEADLINE_EXCEEDED', `${iface}.${method} got no answer in ${timeout} ms`));
      }, timeout);
      this.calls.set(id, { resolve, reject, timer, iface, method });
      this.socket.send(
        encodeFrame({ id, kind: FrameKind.CALL, iface, method, payload, extra: opts.extra ?? {}, timeout_ms: timeout }),
      );
    });
  }

  /** Fire and forget (void methods). */
  oneway(iface: string, method: string, args: readonly unknown[], opts: CallOptions = {}): void {
    if (this.closed) throw new TceError('UNAVAILABLE', 'not connected');
    const payload = this.codec.encodeRequest(iface, method, args);
    this.socket.send(encodeFrame({ id: 0, kind: FrameKind.ONEWAY, iface, method, payload, extra: opts.extra ?? {} }));
  }

  ping(): void {
    if (!this.closed) this.socket.send(encodeFrame({ id: 0, kind: FrameKind.PING }));
  }

  receive(data: Uint8Array): void {
    let f: WireFrame;
    try {
      f = decodeFrame(data);
    } catch (err) {
      this.onProtocolError(`undecodable frame: ${(err as Error).message}`);
      return;
    }
    switch (f.kind) {
      case FrameKind.RETURN:
      case FrameKind.ERROR: {
        const p = this.calls.get(f.id);
        if (!p) return;
        this.calls.delete(f.id);
        clearTimeout(p.timer);
        if (f.kind === FrameKind.ERROR) {
          p.reject(new TceError(CODES.has(f.error_code) ? (f.error_code as ErrorCode) : 'INTERNAL', f.error_message));
          return;
        }
        try {
          p.resolve(this.codec.decodeResponse(p.iface, p.method, f.payload));
        } catch (err) {
          p.reject(new TceError('INTERNAL', `undecodable answer: ${(err as Error).message}`));
        }
        return;
      }
      case FrameKind.CALL:
      case FrameKind.ONEWAY:
        void this.serve(f);
        return;
      case FrameKind.PING:
        this.socket.send(encodeFrame({ id: f.id, kind: FrameKind.PONG }));
        return;
      default:
        return;
    }
  }

  /** The connection is gone: every pending call fails with UNAVAILABLE. */
  close(reason = 'connection closed'): void {
    this.closed = true;
    for (const p of this.calls.values()) {
      clearTimeout(p.timer);
      p.reject(new TceError('UNAVAILABLE', reason));
    }
    this.calls.clear();
  }

  private async serve(f: WireFrame): Promise<void> {
    const answer = (frame: Partial<WireFrame>): void => {
      if (f.kind === FrameKind.CALL && !this.closed) this.socket.send(encodeFrame({ id: f.id, ...frame }));
    };
    const fail = (code: ErrorCode, message: string): void =>
      answer({ kind: FrameKind.ERROR, error_code: code, error_message: message });
    const servant = this.servants.get(f.iface);
    if (!servant) return fail('UNIMPLEMENTED', `this device does not implement ${f.iface}`);
    let args: unknown[];
    let iface;
    try {
      iface = this.codec.iface(f.iface);
      const m = iface.methods.find((x) => x.name === f.method) ?? iface.methods.find((x) => x.index === f.method_index);
      if (!m) return fail('UNIMPLEMENTED', `${f.iface} has no method ${f.method}`);
      const req = this.codec.decodeRequest(f.iface, m.name, f.payload);
      args = m.params.map((p) => req[p.protoName]);
      const fn = (servant as Record<string, unknown>)[m.name];
      if (typeof fn !== 'function') return fail('UNIMPLEMENTED', `${f.iface}.${m.name} is not implemented`);
      const value: unknown = await (fn as (...a: unknown[]) => unknown).apply(servant, args);
      answer({ kind: FrameKind.RETURN, payload: this.codec.encodeResponse(f.iface, m.name, value) });
    } catch (err) {
      if (err instanceof TceError) fail(err.code, err.message);
      else fail('INTERNAL', err instanceof Error ? err.message : 'handler failed');
    }
  }
}
