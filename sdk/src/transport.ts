// Opening the WebSocket: the browser's own WebSocket where there is one, the
// `ws` package in Node (imported only there, so bundles for browsers do not
// need it; mark it external). Both are driven through the same small surface.

export interface SocketLike {
  binaryType: string;
  readyState: number;
  bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', fn: () => void): void;
  addEventListener(type: 'message', fn: (ev: { data: unknown }) => void): void;
  addEventListener(type: 'close', fn: (ev: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', fn: (ev: unknown) => void): void;
}

export interface OpenOptions {
  /** Node only: extra handshake headers (e.g. Authorization). */
  headers?: Record<string, string>;
  /** Node only: the Origin header to send. */
  origin?: string;
  /** Supply a WebSocket implementation (tests, React Native, …). */
  WebSocket?: new (url: string) => SocketLike;
}

const isNode = (): boolean =>
  typeof process !== 'undefined' && typeof (process as { versions?: { node?: string } }).versions?.node === 'string';

export async function openSocket(url: string, opts: OpenOptions = {}): Promise<SocketLike> {
  let ws: SocketLike;
  if (opts.WebSocket) ws = new opts.WebSocket(url);
  else if (isNode()) {
    const mod = (await import('ws')) as unknown as { WebSocket: new (url: string, o: object) => SocketLike };
    ws = new mod.WebSocket(url, { headers: opts.headers, origin: opts.origin, perMessageDeflate: false });
  } else {
    const W = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
    if (!W) throw new Error('no WebSocket implementation available; pass options.WebSocket');
    ws = new W(url);
  }
  ws.binaryType = 'arraybuffer';
  return ws;
}

/** A WebSocket message as bytes (ArrayBuffer in browsers and with binaryType arraybuffer in ws). */
export function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (data instanceof Uint8Array) return data;
  if (Array.isArray(data) && data.every((d) => d instanceof Uint8Array)) {
    const total = data.reduce((n: number, d: Uint8Array) => n + d.length, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const d of data as Uint8Array[]) {
      out.set(d, o);
      o += d.length;
    }
    return out;
  }
  return undefined;
}
