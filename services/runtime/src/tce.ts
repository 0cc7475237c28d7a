// The TCE call modes on top of grpc-js. Generated `<Module>.tce.ts` files
// describe each interface (InterfaceInfo) and subclass ProxyBase with typed
// methods; servants are plain objects adapted to grpc-js handlers here.
//   normal   proxy.m(args, { timeout, extra })   timeout → deadline (default 30 s), extra → metadata
//   _oneway  proxy.m_oneway(args)                 void methods only; returns at once; errors logged
//   _async   proxy.m_async(args, cb?)             callback (err, result, proxy) and a promise
import * as grpc from '@grpc/grpc-js';
import { BASE_GRPC_CLIENT_OPTIONS } from './grpc-options.js';
import { contextFromCall, encodeExtra, type CallContext } from './call-context.js';
export type { CallContext } from './call-context.js';
import { fromGrpcError, toGrpcStatus, type PlatformError } from './errors.js';
import { IDENTITY_HEADER, signIdentity, type Identity } from './identity.js';
import { silentLogger, type Logger } from './logger.js';

export interface MessageType<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromPartial(object: never): T;
}

export interface MethodInfo {
  /** Name as written in the IDL. */
  name: string;
  /** gRPC path, /package.Service/method. */
  path: string;
  index: number | undefined;
  /** Request field names in parameter order. */
  params: readonly string[];
  /** Per parameter: its message type when it is a struct (an unset one is given its empty value). */
  structParams: readonly (MessageType<unknown> | undefined)[];
  returnsVoid: boolean;
  /** The return type's message type when the method returns a struct. */
  returnStruct: MessageType<unknown> | undefined;
  request: MessageType<unknown>;
  response: MessageType<unknown>;
}

export interface InterfaceInfo {
  module: string;
  name: string;
  /** Fully qualified service name, package.Service. */
  fullName: string;
  index: number | undefined;
  methods: Readonly<Record<string, MethodInfo>>;
  /** grpc-js service definition (ts-proto output). */
  service: grpc.ServiceDefinition;
}

export interface CallOptions {
  /** Milliseconds; becomes the gRPC deadline. Default 30 000 (TCE's default). */
  timeout?: number;
  /** Per-call string map, visible to the servant as ctx.extra. */
  extra?: Record<string, string>;
}

export type AsyncCallback<R, P> = (err: PlatformError | null, result: R | undefined, proxy: P) => void;

export const DEFAULT_TIMEOUT_MS = 30_000;

export interface ProxyOptions {
  credentials?: grpc.ChannelCredentials;
  channelOptions?: grpc.ClientOptions;
  /** Identity to sign into every call (internal services calling on a user's behalf). */
  identity?: { identity: Identity; key: Buffer };
  logger?: Logger;
  /** Default timeout for calls that give none. */
  defaultTimeout?: number;
}

export class ProxyBase {
  readonly client: grpc.Client;
  private readonly info: InterfaceInfo;
  private readonly opts: ProxyOptions;

  constructor(info: InterfaceInfo, target: string | grpc.Client, opts: ProxyOptions = {}) {
    this.info = info;
    this.opts = opts;
    this.client =
      typeof target === 'string'
        ? new grpc.Client(target, opts.credentials ?? grpc.credentials.createInsecure(), {
            ...BASE_GRPC_CLIENT_OPTIONS,
            ...opts.channelOptions,
          })
        : target;
  }

  close(): void {
    this.client.close();
  }

  /** Normal call: resolves with the method's value, rejects with a PlatformError. */
  protected invoke(method: string, args: unknown[], opts?: CallOptions): Promise<unknown> {
    const m = this.method(method);
    const request = m.request.fromPartial(Object.fromEntries(m.params.map((p, i) => [p, args[i]])) as never);
    const md = new grpc.Metadata();
    encodeExtra(md, opts?.extra);
    if (this.opts.identity) md.set(IDENTITY_HEADER, signIdentity(this.opts.identity.identity, this.opts.identity.key));
    const timeout = opts?.timeout ?? this.opts.defaultTimeout ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        m.path,
        (v: unknown) => Buffer.from(m.request.encode(v).finish()),
        (b: Buffer) => m.response.decode(b),
        request,
        md,
        { deadline: Date.now() + timeout },
        (err, res) => {
          if (err) return reject(fromGrpcError(err));
          if (m.returnsVoid) return resolve(undefined);
          const value = (res as { value?: unknown } | undefined)?.value;
          resolve(value === undefined && m.returnStruct ? m.returnStruct.fromPartial({} as never) : value);
        },
      );
    });
  }

  /** Oneway: fire and forget (void methods only — enforced by the generated types). */
  protected invokeOneway(method: string, args: unknown[], opts?: CallOptions): void {
    this.invoke(method, args, opts).catch((err: unknown) => {
      (this.opts.logger ?? silentLogger).warn('Oneway call failed', { method: `${this.info.fullName}.${method}`, err });
    });
  }

  /**
   * Async: with a callback, it gets (err, result, proxy) and nothing is returned;
   * without one, a promise is returned.
   */
  protected invokeAsync(
    method: string,
    args: unknown[],
    cb: AsyncCallback<unknown, this> | undefined,
    opts?: CallOptions,
  ): Promise<unknown> | undefined {
    const p = this.invoke(method, args, opts);
    if (!cb) return p;
    p.then(
      (r) => cb(null, r, this),
      (e: PlatformError) => cb(e, undefined, this),
    );
    return undefined;
  }

  private method(name: string): MethodInfo {
    const m = this.info.methods[name];
    if (!m) throw new Error(`${this.info.fullName} has no method ${name}`);
    return m;
  }
}

/** A servant: an object with one function per IDL method taking (...params, ctx). */
export type ServantFunctions = Record<string, (...args: never[]) => unknown>;

export interface ServantAdapterOptions {
  logger: Logger;
  identityKey: Buffer | undefined;
  /** Observes each finished call (metrics). */
  onCall?: (method: string, code: grpc.status, seconds: number) => void;
}

/** Adapts a servant object to grpc-js handlers; thrown PlatformErrors become their status. */
export function servantHandlers(
  info: InterfaceInfo,
  servant: object,
  opts: ServantAdapterOptions,
): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  const fns = servant as Record<string, unknown>;
  for (const m of Object.values(info.methods)) {
    const key = serviceKey(info, m.path);
    const fn = fns[m.name];
    if (typeof fn !== 'function') throw new Error(`servant for ${info.fullName} does not implement ${m.name}`);
    impl[key] = (
      call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      const started = process.hrtime.bigint();
      const ctx: CallContext = contextFromCall(call, opts.identityKey);
      const args: unknown[] = m.params.map((p) => call.request[p]);
      m.structParams.forEach((t, i) => {
        if (t && args[i] === undefined) args[i] = t.fromPartial({} as never);
      });
      const done = (code: grpc.status): void =>
        opts.onCall?.(`${info.fullName}/${m.name}`, code, Number(process.hrtime.bigint() - started) / 1e9);
      Promise.resolve()
        .then(() => (fn as (...a: unknown[]) => unknown).apply(servant, [...args, ctx]))
        .then(
          (value) => {
            done(grpc.status.OK);
            // fromPartial: servants may return plain objects with fields left out.
            callback(null, m.response.fromPartial((m.returnsVoid ? {} : { value }) as never));
          },
          (err: unknown) => {
            const st = toGrpcStatus(err);
            if (st.code === grpc.status.INTERNAL) {
              opts.logger.error('Servant method failed', { method: `${info.fullName}/${m.name}`, err });
            }
            done(st.code);
            callback({ code: st.code, details: st.details, metadata: new grpc.Metadata() }, null);
          },
        );
    };
  }
  return impl;
}

/** ts-proto keys its service definition by a lower-cased method name; find the key by path. */
function serviceKey(info: InterfaceInfo, path: string): string {
  for (const [k, def] of Object.entries(info.service)) if (def.path === path) return k;
  throw new Error(`${info.fullName}: no rpc with path ${path} in the service definition`);
}
