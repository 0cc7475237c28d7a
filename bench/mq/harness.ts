// The same measurement for every broker: one publisher and one consumer in this
// process, 128-byte messages. Throughput: publish N as fast as the broker
// accepts (a window of unacknowledged publishes), count until the consumer has
// received and acked all N. Latency: publish at a fixed rate (half the measured
// throughput) for a few seconds; every payload carries its send time.

export const MESSAGE_BYTES = 128;

/** What the harness needs from a broker's Node client. */
export interface Peer {
  name: string;
  mode: string;
  /** Publish one message; resolves when the broker acknowledged it (or at once for fire-and-forget). */
  publish(payload: Buffer): Promise<unknown> | void;
  /** Start consuming; `onMessage` gets each payload; the peer acks it. */
  subscribe(onMessage: (payload: Buffer) => void): Promise<void>;
  /** Stop consuming (so the next run starts clean). */
  unsubscribe(): Promise<void>;
  /** For fire-and-forget publishers: make sure everything was written. */
  flush?(): Promise<void>;
}

export interface Result {
  name: string;
  mode: string;
  messages: number;
  seconds: number;
  throughput: number;
  /** Latency at half the throughput (ms). */
  p50: number;
  p99: number;
  rate: number;
}

function payload(seq: number): Buffer {
  const b = Buffer.alloc(MESSAGE_BYTES, 0x61);
  b.writeDoubleLE(performance.now(), 0);
  b.writeUInt32LE(seq, 8);
  return b;
}

export async function measure(peer: Peer, messages: number, window: number, latencySeconds: number): Promise<Result> {
  // ---- throughput
  let received = 0;
  let done!: () => void;
  let target = messages;
  let finished = new Promise<void>((r) => (done = r));
  const lat: number[] = [];
  let recordLatency = false;
  await peer.subscribe((p) => {
    received++;
    if (recordLatency) lat.push(performance.now() - p.readDoubleLE(0));
    if (received === target) done();
  });
  const t0 = performance.now();
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < messages; i++) {
    const r = peer.publish(payload(i));
    if (r) {
      const p = r.then(() => {
        inflight.delete(p);
      });
      inflight.add(p);
      if (inflight.size >= window) await Promise.race(inflight);
    } else if (i % window === window - 1) await new Promise((res) => setImmediate(res));
  }
  await Promise.all(inflight);
  await peer.flush?.();
  await withTimeout(finished, 120_000, `${peer.name} ${peer.mode}: only ${received} of ${messages} delivered`);
  const seconds = (performance.now() - t0) / 1000;
  const throughput = messages / seconds;

  // ---- latency at half the throughput
  const rate = Math.max(1000, Math.floor(throughput / 2));
  const total = Math.floor(rate * latencySeconds);
  received = 0;
  target = total;
  finished = new Promise<void>((r) => (done = r));
  recordLatency = true;
  const start = performance.now();
  let sent = 0;
  const pending = new Set<Promise<unknown>>();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    while (sent < due) {
      const r = peer.publish(payload(sent++));
      if (r) {
        const p = r.then(() => {
          pending.delete(p);
        });
        pending.add(p);
      }
    }
    await new Promise((res) => setTimeout(res, 1));
  }
  await Promise.all(pending);
  await peer.flush?.();
  await withTimeout(finished, 60_000, `${peer.name} ${peer.mode}: latency run incomplete`);
  await peer.unsubscribe();
  lat.sort((a, b) => a - b);
  const q = (x: number): number => lat[Math.min(lat.length - 1, Math.floor(x * lat.length))] ?? NaN;
  return { name: peer.name, mode: peer.mode, messages, seconds, throughput, p50: q(0.5), p99: q(0.99), rate };
}

function withTimeout<T>(p: Promise<T>, ms: number, msg: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(msg)), ms);
    }),
  ]);
}
