// A device client written from docs/protocol.md and the .proto files alone:
// `ws` for the WebSocket, `protobufjs` loading proto/gen/proto/*.proto at run
// time (no generated code, nothing from the SDK). It is what a native app
// would implement: the Frame envelope, calls in both directions with ids per
// direction, interface and method indexes read from the `@index=N` comments
// the .proto carries, ITerminal served by handlers whose return is the ack,
// and application pings. native-client.test.ts runs it against the real
// platform, which is how the doc's "this page is enough" claim is checked.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import WebSocket from 'ws';

/** Frame.kind (docs/protocol.md, "The envelope"). */
export const Kind = { CALL: 1, RETURN: 2, ERROR: 3, ONEWAY: 4, PING: 5, PONG: 6 } as const;

/** A decoded Frame, int64 fields as numbers. */
export interface Frame {
  id: number;
  kind: number;
  iface: string;
  iface_index: number;
  method: string;
  method_index: number;
  payload: Uint8Array;
  extra: Record<string, string>;
  timeout_ms: number;
  error_code: string;
  error_message: string;
}

/** An `error` frame answering one of our calls. */
export class CallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'CallError';
  }
}

const PROTO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../proto/gen/proto');
const PROTO_FILES = ['messaging.proto', 'auth.proto', 'diag.proto', 'location.proto'];

interface MethodEntry {
  iface: string;
  ifaceIndex: number;
  name: string;
  index: number;
  request: protobuf.Type;
  response: protobuf.Type;
}

const indexOf = (comment: string | null): number => {
  const m = /@index=(\d+)/.exec(comment ?? '');
  return m ? Number(m[1]) : 0;
};

/** The protocol's schema: the Frame type and every interface's methods, by name and by index. */
export class Schema {
  private readonly byName = new Map<string, MethodEntry>();
  private readonly byIndex = new Map<string, MethodEntry>();
  private readonly ifaceIndexes = new Map<string, number>();

  private constructor(
    readonly root: protobuf.Root,
    readonly frameType: protobuf.Type,
  ) {
    for (const svc of allServices(root)) {
      const iface = svc.fullName.replace(/^\./, '');
      const ifaceIndex = indexOf(svc.comment);
      this.ifaceIndexes.set(iface, ifaceIndex);
      for (const m of svc.methodsArray) {
        m.resolve();
        const e: MethodEntry = {
          iface,
          ifaceIndex,
          name: m.name,
          index: indexOf(m.comment),
          request: m.resolvedRequestType!,
          response: m.resolvedResponseType!,
        };
        this.byName.set(`${iface}/${m.name}`, e);
        // Internal interfaces (e.g. location.ILocationUnit) have no index.
        if (ifaceIndex > 0 && e.index > 0) this.byIndex.set(`${ifaceIndex}/${e.index}`, e);
      }
    }
  }

  static async load(): Promise<Schema> {
    // keepCase: the field names stay as in the .proto (client_msg_id, to_);
    // alternateCommentMode: `//` comments are kept, they hold the @index=N.
    const root = await new protobuf.Root().load(
      PROTO_FILES.map((f) => path.join(PROTO_DIR, f)),
      { keepCase: true, alternateCommentMode: true },
    );
    root.resolveAll();
    return new Schema(root, root.lookupType('messaging.Frame'));
  }

  ifaceIndex(iface: string): number {
    const i = this.ifaceIndexes.get(iface);
    if (i === undefined) throw new Error(`no interface ${iface} in the .proto files`);
    return i;
  }

  method(iface: string, method: string): MethodEntry {
    const e = this.byName.get(`${iface}/${method}`);
    if (!e) throw new Error(`no method ${iface}.${method} in the .proto files`);
    return e;
  }

  /** Resolves the method an incoming call names, by name or by index. */
  find(f: Pick<Frame, 'iface' | 'iface_index' | 'method' | 'method_index'>): MethodEntry | undefined {
    if (f.iface && f.method) return this.byName.get(`${f.iface}/${f.method}`);
    const ifaceIndex = f.iface ? this.ifaceIndexes.get(f.iface) : f.iface_index;
    if (f.method) {
      for (const e of this.byName.values()) if (e.ifaceIndex === ifaceIndex && e.name === f.method) return e;
      return undefined;
    }
    return this.byIndex.get(`${ifaceIndex}/${f.method_index}`);
  }

  encodeFrame(f: Partial<Frame>): Uint8Array {
    return this.frameType.encode(this.frameType.fromObject(f)).finish();
  }

  decodeFrame(data: Uint8Array): Frame {
    return this.frameType.toObject(this.frameType.decode(data), {
      longs: Number,
      defaults: true,
    }) as Frame;
  }

  encode(t: protobuf.Type, value: object): Uint8Array {
    const err = t.verify(value);
    if (err) throw new Error(`${t.name}: ${err}`);
    return t.encode(t.fromObject(value)).finish();
  }

  decode<T = Record<string, unknown>>(t: protobuf.Type, data: Uint8Array): T {
    return t.toObject(t.decode(data), { longs: Number, defaults: true, arrays: true }) as T;
  }
}

function allServices(ns: protobuf.NamespaceBase): protobuf.Service[] {
  const out: protobuf.Service[] = [];
  for (const o of ns.nestedArray) {
    if (o instanceof protobuf.Service) out.push(o);
    else if (o instanceof protobuf.Namespace) out.push(...allServices(o));
  }
  return out;
}

// The messages of messaging.proto the device sees (int64 as numbers).
export interface Message {
  msg_id: string;
  from_user: string;
  to_user: string;
  seq: number;
  mime_text: string;
  client_msg_id: string;
  sent_at: number;
  group_id: string;
}

export interface SendResult {
  msg_id: string;
  seq: number;
  sent_at: number;
  duplicate: boolean;
}

export interface SessionInfo {
  user_id: string;
  device_id: string;
  username: string;
  expires_at: number;
  gateway_id: string;
  files_url: string;
  acked_seq: number;
}

export interface Token {
  access_token: string;
  refresh_token: string;
  access_expires_at: number;
  refresh_expires_at: number;
  user_id: string;
  username: string;
  session_id: string;
  device_id: string;
  display_name: string;
}

/**
 * What the device implements of messaging.ITerminal. A call handler's
 * settling is the answer: resolving sends the `return` (for onMessage and
 * onMessages, the delivery ack), throwing sends an `error` frame.
 */
export interface TerminalHandlers {
  onMessage?(msg: Message): void | Promise<void>;
  onMessages?(msgs: Message[]): void | Promise<void>;
  onReset?(firstAvailableSeq: number): void | Promise<void>;
  onReceipt?(receipt: { msg_id: string; by_user: string; state: string; at: number }): void;
  onPresence?(presence: { user_id: string; online: boolean; last_seen: number }): void;
  onKicked?(reason: string): void;
}

export interface ConnectOptions {
  /** Sent as `Authorization: Bearer <token>` (authenticated at the upgrade). */
  accessToken?: string;
  /** Connect with `?push_batch=1`: several messages arrive in one onMessages call. */
  pushBatch?: boolean;
  handlers?: TerminalHandlers;
  /** How long to wait for the upgrade. */
  connectTimeoutMs?: number;
}

export interface CallOptions {
  extra?: Record<string, string>;
  /** The deadline sent in the frame (0 = the gateway's default, 30 s). */
  timeoutMs?: number;
  /** Name the interface and method by their indexes instead of their names. */
  byIndex?: boolean;
}

interface Pending {
  resolve(f: Frame): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** The upgrade was refused with a plain HTTP answer. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused: ${status} ${body}`);
    this.name = 'UpgradeRefused';
  }
}

export class NativeClient {
  /** Every frame received, in order (for assertions and for reporting exact frames). */
  readonly received: Frame[] = [];
  /** Set once the WebSocket has closed. */
  closeInfo: { code: number; reason: string } | undefined;
  /** Errors from handlers, or frames we could not make sense of. */
  readonly problems: string[] = [];
  handlers: TerminalHandlers;

  private nextId = 1;
  private serving: Promise<void> = Promise.resolve();
  private readonly pending = new Map<number, Pending>();
  private readonly closedWaiters: ((c: { code: number; reason: string }) => void)[] = [];

  private constructor(
    readonly schema: Schema,
    private readonly ws: WebSocket,
    handlers: TerminalHandlers,
  ) {
    this.handlers = handlers;
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data, isBinary) => this.onData(data as Buffer, isBinary));
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`connection closed (${code} ${reason.toString()})`));
      }
      this.pending.clear();
      for (const w of this.closedWaiters.splice(0)) w(this.closeInfo);
    });
    ws.on('error', (err) => this.problems.push(`socket error: ${err.message}`));
  }

  /** Opens `url` (ws://host/ws); resolves once the WebSocket is open. */
  static async connect(url: string, schema: Schema, opts: ConnectOptions = {}): Promise<NativeClient> {
    const u = new URL(url);
    if (opts.pushBatch) u.searchParams.set('push_batch', '1');
    const headers: Record<string, string> = {};
    if (opts.accessToken) headers.Authorization = `Bearer ${opts.accessToken}`;
    const ws = new WebSocket(u, { headers, handshakeTimeout: opts.connectTimeoutMs ?? 10_000 });
    // Handlers are attached before the first frame can arrive: the gateway
    // may push as soon as the upgrade is done when a token came with it.
    const client = new NativeClient(schema, ws, opts.handlers ?? {});
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
      });
      ws.once('error', reject);
    });
    return client;
  }

  /**
   * Calls `iface.method` with the request message's fields (names as in the
   * .proto) and returns the result: the response message's `value` (undefined
   * for void methods); an `error` frame rejects with CallError.
   */
  async call<T = unknown>(iface: string, method: string, req: object = {}, opts: CallOptions = {}): Promise<T> {
    const m = this.schema.method(iface, method);
    const payload = this.schema.encode(m.request, req);
    const f = await this.callFrame(
      opts.byIndex
        ? { iface_index: m.ifaceIndex, method_index: m.index, payload, extra: opts.extra, timeout_ms: opts.timeoutMs }
        : { iface, method, payload, extra: opts.extra, timeout_ms: opts.timeoutMs },
    );
    return this.schema.decode<{ value: T }>(m.response, f.payload).value;
  }

  /** Sends a call frame as given (an id is added) and resolves with the `return` frame. */
  callFrame(f: Partial<Frame>): Promise<Frame> {
    const id = this.nextId++;
    const deadline = (f.timeout_ms || 30_000) + 5_000;
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to call ${id} (${f.iface || f.iface_index}.${f.method || f.method_index})`));
      }, deadline);
      this.pending.set(id, { resolve, reject, timer });
      this.sendFrame({ ...f, id, kind: Kind.CALL });
    });
  }

  /** A oneway call: no answer. */
  oneway(iface: string, method: string, req: object = {}, extra?: Record<string, string>): void {
    const m = this.schema.method(iface, method);
    this.sendFrame({ kind: Kind.ONEWAY, id: 0, iface, method, payload: this.schema.encode(m.request, req), extra });
  }

  /** An application ping (kind 5); resolves with the pong frame. */
  ping(): Promise<Frame> {
    const id = this.nextId++;
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no pong for ping ${id}`));
      }, 10_000);
      this.pending.set(id, { resolve, reject, timer });
      this.sendFrame({ id, kind: Kind.PING });
    });
  }

  /**
   * The messages the platform pushed on this connection (onMessage and
   * onMessages calls, redeliveries included), in the order they came.
   */
  pushed(): Message[] {
    const out: Message[] = [];
    for (const f of this.received) {
      if (f.kind !== Kind.CALL) continue;
      const m = this.schema.find(f);
      if (m?.iface !== 'messaging.ITerminal') continue;
      if (m.name === 'onMessage') out.push(this.schema.decode<{ msg: Message }>(m.request, f.payload).msg);
      if (m.name === 'onMessages') out.push(...this.schema.decode<{ msgs: Message[] }>(m.request, f.payload).msgs);
    }
    return out;
  }

  /** The ITerminal calls received, by method name (e.g. to see onMessages batches). */
  terminalCalls(name: string): Frame[] {
    return this.received.filter(
      (f) =>
        f.kind === Kind.CALL &&
        this.schema.find(f)?.iface === 'messaging.ITerminal' &&
        this.schema.find(f)?.name === name,
    );
  }

  sendFrame(f: Partial<Frame>): void {
    this.ws.send(this.schema.encodeFrame(f), { binary: true });
  }

  /** Resolves when the connection has closed (at once if it has). */
  closed(): Promise<{ code: number; reason: string }> {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    return new Promise((r) => this.closedWaiters.push(r));
  }

  async close(): Promise<void> {
    if (this.closeInfo) return;
    const done = this.closed();
    this.ws.close(1000);
    const t = setTimeout(() => this.ws.terminate(), 2_000);
    await done;
    clearTimeout(t);
  }

  private onData(data: Buffer, isBinary: boolean): void {
    if (!isBinary) {
      this.problems.push(`text message from the gateway: ${data.toString()}`);
      return;
    }
    let f: Frame;
    try {
      f = this.schema.decodeFrame(data);
    } catch (err) {
      this.problems.push(`undecodable frame: ${(err as Error).message}`);
      return;
    }
    this.received.push(f);
    switch (f.kind) {
      case Kind.RETURN:
      case Kind.ERROR:
      case Kind.PONG: {
        const p = this.pending.get(f.id);
        if (!p) {
          this.problems.push(`answer to no open call: ${JSON.stringify(summary(f))}`);
          return;
        }
        this.pending.delete(f.id);
        clearTimeout(p.timer);
        if (f.kind === Kind.ERROR) p.reject(new CallError(f.error_code, f.error_message));
        else p.resolve(f);
        return;
      }
      case Kind.PING:
        this.sendFrame({ id: f.id, kind: Kind.PONG });
        return;
      case Kind.CALL:
      case Kind.ONEWAY:
        // One after another, in the order they came: pushes arrive in seq
        // order with several in flight, and the app's duplicate check (drop
        // seq <= the last handled) needs them handled in that order.
        this.serving = this.serving
          .then(() => this.serve(f))
          .catch((err: unknown) => void this.problems.push(`serving ${f.method}: ${String(err)}`));
        return;
      default:
        this.problems.push(`unknown frame kind: ${JSON.stringify(summary(f))}`);
    }
  }

  /** Serves a call or oneway from the platform on our ITerminal. */
  private async serve(f: Frame): Promise<void> {
    const answerError = (code: string, message: string): void => {
      if (f.kind === Kind.CALL)
        this.sendFrame({ id: f.id, kind: Kind.ERROR, error_code: code, error_message: message });
    };
    const m = this.schema.find(f);
    if (!m || m.iface !== 'messaging.ITerminal') {
      this.problems.push(`call of an unknown method: ${JSON.stringify(summary(f))}`);
      answerError(
        'UNIMPLEMENTED',
        `the device has no method ${f.iface || f.iface_index}.${f.method || f.method_index}`,
      );
      return;
    }
    try {
      const req = this.schema.decode<Record<string, unknown>>(m.request, f.payload);
      const h = this.handlers;
      switch (m.name) {
        case 'onMessage':
          await h.onMessage?.(req.msg as Message);
          break;
        case 'onMessages':
          if (h.onMessages) await h.onMessages(req.msgs as Message[]);
          else for (const msg of req.msgs as Message[]) await h.onMessage?.(msg);
          break;
        case 'onReset':
          await h.onReset?.(req.first_available_seq as number);
          break;
        case 'onReceipt':
          h.onReceipt?.(req.receipt as never);
          break;
        case 'onPresence':
          h.onPresence?.(req.presence as never);
          break;
        case 'onKicked':
          h.onKicked?.(req.reason as string);
          break;
        default:
          answerError('UNIMPLEMENTED', `the device does not implement ${m.name}`);
          return;
      }
    } catch (err) {
      this.problems.push(`handler ${m.name} failed: ${(err as Error).message}`);
      answerError('INTERNAL', 'internal error');
      return;
    }
    if (f.kind === Kind.CALL && !this.closeInfo) {
      this.sendFrame({ id: f.id, kind: Kind.RETURN, payload: this.schema.encode(m.response, {}) });
    }
  }
}

/** A frame without its payload bytes, for messages. */
export function summary(f: Frame): Record<string, unknown> {
  const { payload, ...rest } = f;
  return { ...rest, payload_bytes: payload.length };
}
