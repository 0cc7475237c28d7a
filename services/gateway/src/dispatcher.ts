// Device calls: resolve the interface and method (by name or IDL index), check
// the session, run the call locally or forward it, and answer with a return or
// an error frame. Errors are mapped here, once: PlatformErrors keep their code
// and message; anything else is logged and answered INTERNAL "internal error".
import type { Logger } from '../../runtime/src/logger.js';
import { PlatformError } from '../../runtime/src/errors.js';
import { DEFAULT_TIMEOUT_MS } from '../../runtime/src/tce.js';
import type { DeviceConnection } from './device-connection.js';
import type { Forwarder } from './forwarder.js';
import { encodeFrame, errorFrame, FrameKind, type Frame } from './frame.js';
import { deviceContext, invokeLocal } from './local-invoke.js';
import type { GatewayMetrics } from './metrics.js';
import type { RouteTable, Upstream } from './routes.js';

/** Longest deadline a device may ask for. */
export const MAX_CALL_TIMEOUT_MS = 5 * 60_000;
/** Calls from one device running at once; more are refused (RESOURCE_EXHAUSTED). */
export const MAX_CALLS_IN_FLIGHT = 64;

export interface DispatcherOptions {
  routes: RouteTable;
  forwarders: Partial<Record<Upstream, Forwarder>>;
  logger: Logger;
  metrics: GatewayMetrics;
  /** After a forwarded call returned: e.g. bind the connection to the token a login returned. */
  afterForward?: (conn: DeviceConnection, iface: string, method: string, response: Uint8Array) => Promise<void>;
  /** Extra entries the gateway sets on forwarded calls (the device cannot override them). */
  forwardExtra?: (conn: DeviceConnection, upstream: Upstream) => Record<string, string>;
}

export class Dispatcher {
  private readonly inFlight = new WeakMap<DeviceConnection, number>();

  constructor(private readonly opts: DispatcherOptions) {}

  handle(conn: DeviceConnection, f: Frame): void {
    const n = this.inFlight.get(conn) ?? 0;
    if (n >= MAX_CALLS_IN_FLIGHT) {
      if (f.kind === FrameKind.CALL) {
        conn.send(
          errorFrame(f.id, 'RESOURCE_EXHAUSTED', `more than ${MAX_CALLS_IN_FLIGHT} calls in flight on this connection`),
        );
      } else {
        // A oneway has no way to say "refused"; count it so the loss is visible.
        this.opts.metrics.onewayDropped.inc();
      }
      return;
    }
    this.inFlight.set(conn, n + 1);
    void this.run(conn, f).finally(() => this.inFlight.set(conn, (this.inFlight.get(conn) ?? 1) - 1));
  }

  private async run(conn: DeviceConnection, f: Frame): Promise<void> {
    const oneway = f.kind === FrameKind.ONEWAY;
    const started = process.hrtime.bigint();
    let label = 'unknown';
    let code = 'OK';
    try {
      const { route, method } = this.opts.routes.resolve(f);
      label = `${route.info.fullName}/${method.name}`;
      if (oneway && !method.returnsVoid) {
        throw new PlatformError('INVALID_ARGUMENT', `${label} returns a value: call it, not oneway`);
      }
      if (!conn.session && !route.publicMethods?.has(method.name)) {
        throw new PlatformError(
          'UNAUTHENTICATED',
          'login required: call auth.IAuthServer.userAuth or messaging.ISession.authenticate first',
        );
      }
      const timeout = Math.min(f.timeout_ms > 0 ? f.timeout_ms : DEFAULT_TIMEOUT_MS, MAX_CALL_TIMEOUT_MS);
      const deadline = Date.now() + timeout;
      let payload: Uint8Array;
      if (route.target.kind === 'local') {
        payload = await withDeadline(
          invokeLocal(route.target.servant, method, f.payload, deviceContext(conn, f.extra, deadline)),
          deadline,
          label,
        );
      } else {
        const upstream = route.target.upstream;
        const fwd = this.opts.forwarders[upstream];
        if (!fwd) throw new PlatformError('UNAVAILABLE', `${upstream} is not configured on this gateway`);
        const s = conn.session;
        payload = await fwd.call({
          path: method.path,
          payload: f.payload,
          deadline,
          extra: { ...f.extra, ...this.opts.forwardExtra?.(conn, upstream) },
          identity: s ? { userId: s.userId, deviceId: s.deviceId } : undefined,
        });
        await this.opts.afterForward?.(conn, route.info.fullName, method.name, payload);
      }
      if (!oneway) conn.send(encodeFrame({ id: f.id, kind: FrameKind.RETURN, payload: payload as Buffer }));
    } catch (err) {
      const e = err instanceof PlatformError ? err : undefined;
      code = e?.code ?? 'INTERNAL';
      if (!e) this.opts.logger.error('Device call failed', { err, method: label, user: conn.userId });
      if (!oneway) conn.send(errorFrame(f.id, code as PlatformError['code'], e?.message ?? 'internal error'));
      else this.opts.logger.debug('Oneway device call failed', { method: label, code, message: e?.message });
    } finally {
      this.opts.metrics.deviceCalls.inc({ method: label, code });
      this.opts.metrics.deviceCallSeconds.observe({ method: label }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
}

function withDeadline<T>(p: Promise<T>, deadline: number, label: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const late = () => new PlatformError('DEADLINE_EXCEEDED', `${label} did not finish before its deadline`);
  return Promise.race([
    // A servant that notices the deadline (ctx.cancelled) may settle in the same timer
    // phase as our timer, before it: what settles after the deadline is still late, as a
    // gRPC client would see it.
    p
      .finally(() => clearTimeout(t))
      .then(
        (v) => {
          if (Date.now() > deadline) throw late();
          return v;
        },
        (err: unknown) => {
          throw Date.now() > deadline ? late() : err;
        },
      ),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(late()), Math.max(0, deadline - Date.now()));
    }),
  ]);
}
