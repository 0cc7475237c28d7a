// A bare-bones device for protocol tests: a `ws` socket speaking Frames by
// hand, so tests can send exactly the bytes they mean (bad ones included).
import { WebSocket } from 'ws';
import { codec, decodeFrame, encodeFrame, FrameKind, type WireFrame } from '../../../sdk/src/index.js';
import { waitFor } from '../../support/index.js';

export class RawClient {
  readonly frames: WireFrame[] = [];
  closed: { code: number; reason: string } | undefined;
  private nextId = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const f = decodeFrame(new Uint8Array(data));
      this.frames.push(f);
      // Answer the platform's calls (ITerminal) like a well-behaved device, or as told.
      if (f.kind === FrameKind.CALL && this.autoAnswer) {
        ws.send(
          encodeFrame(
            this.failCalls
              ? { id: f.id, kind: FrameKind.ERROR, ...this.failCalls }
              : { id: f.id, kind: FrameKind.RETURN, payload: codec.encodeResponse(f.iface, f.method, undefined) },
          ),
        );
      }
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString('utf8') }));
    ws.on('error', () => undefined);
  }

  /** False: the platform's calls get no answer at all. */
  autoAnswer = true;
  /** Set: the platform's calls are answered with this error instead of a return. */
  failCalls: { error_code: string; error_message: string } | undefined;

  /** The texts of the messages pushed to this device so far (onMessage calls). */
  pushedTexts(): string[] {
    return this.frames
      .filter((f) => f.kind === FrameKind.CALL && f.method === 'onMessage')
      .map((f) => {
        const msg = codec.decodeRequest(f.iface, f.method, f.payload).msg as { mime_text: string };
        return (JSON.parse(msg.mime_text) as { text: string }[])[0]!.text;
      });
  }

  static open(url: string, opts: { headers?: Record<string, string>; origin?: string } = {}): Promise<RawClient> {
    const ws = new WebSocket(url, { headers: opts.headers, origin: opts.origin, perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawClient(ws)));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body.trim())));
      });
      ws.once('error', reject);
    });
  }

  send(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  /** Sends a call and waits for its return or error frame. */
  async call(
    iface: string,
    method: string,
    args: unknown[],
    extra: Record<string, string> = {},
    by: 'name' | 'index' = 'name',
  ): Promise<WireFrame> {
    const id = ++this.nextId;
    const payload = codec.encodeRequest(iface, method, args);
    const m = codec.method(iface, method);
    const ifaceIndex = Number(codec.iface(iface).annotations.index ?? 0);
    this.ws.send(
      encodeFrame(
        by === 'name'
          ? { id, kind: FrameKind.CALL, iface, method, payload, extra }
          : { id, kind: FrameKind.CALL, iface_index: ifaceIndex, method_index: m.index ?? 0, payload, extra },
      ),
    );
    return this.reply(id);
  }

  /** A call frame with arbitrary names (unknown interfaces and methods). */
  async callRaw(f: Partial<WireFrame>): Promise<WireFrame> {
    const id = ++this.nextId;
    this.ws.send(encodeFrame({ kind: FrameKind.CALL, ...f, id }));
    return this.reply(id);
  }

  reply(id: number, timeoutMs = 10_000): Promise<WireFrame> {
    return waitFor(
      `the answer to call ${id}`,
      () =>
        this.frames.find(
          (f) =>
            f.id === id && (f.kind === FrameKind.RETURN || f.kind === FrameKind.ERROR || f.kind === FrameKind.PONG),
        ),
      { timeoutMs },
    );
  }

  waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    return waitFor('the gateway to close the connection', () => this.closed, { timeoutMs });
  }

  close(): void {
    this.ws.terminate();
  }
}

export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused: ${status} ${body}`);
  }
}

/** The upgrade's outcome when it is expected to fail. */
export async function refusal(
  url: string,
  opts: { headers?: Record<string, string>; origin?: string } = {},
): Promise<UpgradeRefused> {
  try {
    const c = await RawClient.open(url, opts);
    c.close();
  } catch (err) {
    if (err instanceof UpgradeRefused) return err;
    throw err;
  }
  throw new Error(`expected ${url} to refuse the upgrade`);
}

export function decodeValue(iface: string, method: string, f: WireFrame): unknown {
  if (f.kind !== FrameKind.RETURN)
    throw new Error(`expected a return, got ${f.kind} ${f.error_code}: ${f.error_message}`);
  return codec.decodeResponse(iface, method, f.payload);
}
