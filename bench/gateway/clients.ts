// Light load-generator clients for the benchmark: one WebSocket each, bound to
// a rotating 127.x.y.z source address (one address has only ~28k ephemeral
// ports), speaking our device protocol or Centrifugo's JSON protocol with the
// minimum of work per message.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { WebSocket, type ClientOptions } from 'ws';
import { codec, decodeFrame, encodeFrame, FrameKind } from '../../sdk/src/index.js';

const MSG = { iface: 'messaging.ITerminal', method: 'onMessage' };
const EMPTY_RETURN = codec.encodeResponse(MSG.iface, MSG.method, undefined);

let sourceCounter = 0;
/** 127.0.1.1, 127.0.1.2, … — a different loopback source address every 20 000 connections. */
export function nextSourceAddress(): string {
  const n = Math.floor(sourceCounter++ / 20_000);
  return `127.0.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`;
}

/** CPU time (user + system) a process has used, in seconds (/proc/<pid>/stat, 100 ticks/s). */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU seconds of a process and of its descendants (PostgreSQL's backends, a
 * service's workers): those alive now, and through their cutime/cstime those
 * that exited and were reaped — so a backend that ends within a measured step
 * still counts its share of it.
 */
export function treeCpuSeconds(root: number): number {
  const parentOf = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parentOf.get(p)) if (p === root) return true;
    return false;
  };
  let total = 0;
  for (const pid of parentOf.keys()) {
    if (!inTree(pid)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, cutime, cstime (fields 14-17 of proc(5)), in ticks of 10 ms.
      total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

/** The machine's CPU time so far, busy and in all (/proc/stat, in ticks): utilisation = Δbusy / Δall. */
export function machineCpuTicks(): { busy: number; all: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy, all: busy + idle! + iowait! };
}

/**
 * Where the machine's cores went from now until the returned function is
 * called: all of them, and the cores each group of processes (with their
 * children: PostgreSQL's backends) and this load generator used.
 */
export function cpuShares(groups: Record<string, number[]>): () => string {
  const cores = os.cpus().length;
  const used = (): Record<string, number> =>
    Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, pids.reduce((s, p) => s + treeCpuSeconds(p), 0)]));
  const m0 = machineCpuTicks();
  const g0 = used();
  const c0 = process.cpuUsage();
  const t0 = Date.now();
  return () => {
    const seconds = (Date.now() - t0) / 1000;
    const m1 = machineCpuTicks();
    const g1 = used();
    const c = process.cpuUsage(c0);
    const parts = Object.keys(groups).map((k) => `${k} ${((g1[k]! - g0[k]!) / seconds).toFixed(2)}`);
    parts.push(`load generator ${((c.user + c.system) / 1e6 / seconds).toFixed(2)}`);
    const busy = (100 * (m1.busy - m0.busy)) / Math.max(1, m1.all - m0.all);
    return `machine ${busy.toFixed(0)}% busy (${cores} cores); cores used: ${parts.join(', ')}`;
  };
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** A device on our gateway: answers every ITerminal call at once, reports received messages. */
export class TceBenchDevice {
  private nextId = 0;
  private readonly waiting = new Map<number, (ok: boolean, payload: Uint8Array, err: string) => void>();
  onMessage: ((text: string) => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const f = decodeFrame(data);
      if (f.kind === FrameKind.CALL) {
        if (f.method === 'onMessage' && this.onMessage) {
          const msg = codec.decodeRequest(MSG.iface, MSG.method, f.payload).msg as { mime_text: string };
          this.onMessage(msg.mime_text);
        } else if (f.method === 'onMessages' && this.onMessage) {
          const { msgs } = codec.decodeRequest(MSG.iface, 'onMessages', f.payload) as { msgs: { mime_text: string }[] };
          for (const m of msgs) this.onMessage(m.mime_text);
        }
        ws.send(encodeFrame({ id: f.id, kind: FrameKind.RETURN, payload: EMPTY_RETURN }));
      } else if (f.kind === FrameKind.RETURN || f.kind === FrameKind.ERROR) {
        const w = this.waiting.get(f.id);
        this.waiting.delete(f.id);
        w?.(f.kind === FrameKind.RETURN, f.payload, f.error_message);
      }
    });
    ws.on('error', () => undefined);
  }

  /** Connects as the SDK does: with push_batch=1 (several messages per onMessages call). */
  static open(url: string, token: string): Promise<TceBenchDevice> {
    const ws = new WebSocket(`${url}?push_batch=1`, {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
      localAddress: nextSourceAddress(),
    } as ClientOptions);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new TceBenchDevice(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  /** Sends a message; resolves when it is stored (the gateway answered). */
  send(to: string, text: string): Promise<void> {
    const id = ++this.nextId;
    const payload = codec.encodeRequest('messaging.IMessageServer', 'send', [
      to,
      JSON.stringify([{ type: 'text', text }]),
      crypto.randomBytes(8).toString('hex'),
    ]);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (ok, _p, err) => (ok ? resolve() : reject(new Error(err))));
      this.ws.send(
        encodeFrame({ id, kind: FrameKind.CALL, iface: 'messaging.IMessageServer', method: 'send', payload }),
      );
    });
  }

  /** Any IMessageServer method; resolves with the decoded result. */
  call(method: string, args: readonly unknown[]): Promise<unknown> {
    const id = ++this.nextId;
    const iface = 'messaging.IMessageServer';
    const payload = codec.encodeRequest(iface, method, args);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (ok, p, err) =>
        ok ? resolve(codec.decodeResponse(iface, method, p)) : reject(new Error(err)),
      );
      this.ws.send(encodeFrame({ id, kind: FrameKind.CALL, iface, method, payload, timeout_ms: 120_000 }));
    });
  }

  /**
   * location.ILocationReport.reportGps as a call (what the SDK's reportGpsConfirmed
   * does): resolves once the gateway has published the point to mq_gps.
   */
  reportGps(lon: number, lat: number, time: number): Promise<void> {
    const id = ++this.nextId;
    const iface = 'location.ILocationReport';
    const payload = codec.encodeRequest(iface, 'reportGps', [lon, lat, 0, 0, time]);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (ok, _p, err) => (ok ? resolve() : reject(new Error(err))));
      this.ws.send(encodeFrame({ id, kind: FrameKind.CALL, iface, method: 'reportGps', payload }));
    });
  }

  /** Waits until the session is set up (the gateway answers whoami). */
  ready(): Promise<void> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (ok, _p, err) => (ok ? resolve() : reject(new Error(err))));
      this.ws.send(
        encodeFrame({
          id,
          kind: FrameKind.CALL,
          iface: 'messaging.ISession',
          method: 'whoami',
          payload: new Uint8Array(),
          // Under a connection storm the store queues session starts: allow for it.
          timeout_ms: 300_000,
        }),
      );
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** A Centrifugo client (JSON protocol): connect with a JWT, optionally subscribe, count publications. */
export class CentrifugoBenchClient {
  private nextId = 0;
  private readonly waiting = new Map<number, (reply: Record<string, unknown>) => void>();
  onPublication: ((data: unknown) => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      // Several replies may share one frame, one JSON document per line.
      for (const line of data.toString('utf8').split('\n')) {
        if (!line) continue;
        if (line === '{}') {
          ws.send('{}'); // server ping → pong
          continue;
        }
        const m = JSON.parse(line) as { id?: number; push?: { pub?: { data: unknown } } };
        if (m.id) {
          const w = this.waiting.get(m.id);
          this.waiting.delete(m.id);
          w?.(m as Record<string, unknown>);
        } else if (m.push?.pub) this.onPublication?.(m.push.pub.data);
      }
    });
    ws.on('error', () => undefined);
  }

  static async open(url: string, token: string): Promise<CentrifugoBenchClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress: nextSourceAddress() } as ClientOptions);
    const c = await new Promise<CentrifugoBenchClient>((resolve, reject) => {
      ws.once('open', () => resolve(new CentrifugoBenchClient(ws)));
      ws.once('error', reject);
    });
    const r = await c.command({ connect: { token } });
    if (r.error) throw new Error(`centrifugo connect: ${JSON.stringify(r.error)}`);
    return c;
  }

  command(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(JSON.stringify({ id, ...cmd }));
    });
  }

  async subscribe(channel: string): Promise<void> {
    const r = await this.command({ subscribe: { channel } });
    if (r.error) throw new Error(`centrifugo subscribe: ${JSON.stringify(r.error)}`);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** HS256 JWT for Centrifugo's connection token. */
export function centrifugoToken(secret: string, sub: string): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${body}.${crypto.createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** Opens `n` connections with at most `concurrency` handshakes in flight. */
export async function openMany<T>(n: number, concurrency: number, open: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await open(i);
      }
    }),
  );
  return out;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
