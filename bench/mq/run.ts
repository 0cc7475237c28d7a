// `make bench-mq`: EasyMQ against NATS (core, JetStream) and RabbitMQ in one
// run, same harness, 128-byte messages, 1 publisher + 1 consumer. Prints
// throughput, p50/p99 latency at half of each one's throughput, and ratios.
// A peer that cannot be started is reported with the reason; the others still run.
import { measure, type Peer, type Result } from './harness.js';
import { startEasyMq, startNats, startRabbit, type Running } from './peers.js';

const N_TRANSIENT = Number(process.env.BENCH_MQ_TRANSIENT ?? 200_000);
const N_DURABLE = Number(process.env.BENCH_MQ_DURABLE ?? 50_000);
const LATENCY_SECONDS = Number(process.env.BENCH_MQ_LATENCY_SECONDS ?? 3);
const WINDOW = 5000;
// Development: BENCH_MQ_PEERS=easymq (comma-separated: easymq, nats, rabbitmq) runs only those.
const ONLY = (process.env.BENCH_MQ_PEERS ?? 'easymq,nats,rabbitmq').toLowerCase().split(',');

async function main(): Promise<void> {
  const results: Result[] = [];
  const missing: string[] = [];
  const runAll = async (label: string, start: () => Promise<Running>): Promise<void> => {
    let r: Running | undefined;
    try {
      process.stderr.write(`==> starting ${label}\n`);
      r = await start();
      for (const p of r.peers) {
        const n = p.mode === 'durable' ? N_DURABLE : N_TRANSIENT;
        await measure(p, Math.min(20_000, n / 4), WINDOW, 0.5); // warm-up (JIT, connections)
        process.stderr.write(`    ${p.name} ${p.mode}: ${n} messages\n`);
        results.push(await measure(p, n, WINDOW, LATENCY_SECONDS));
      }
    } catch (err) {
      missing.push(`${label}: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      await r?.stop();
    }
  };
  if (ONLY.includes('easymq')) await runAll('EasyMQ', startEasyMq);
  if (ONLY.includes('nats')) await runAll('NATS', startNats);
  if (ONLY.includes('rabbitmq')) await runAll('RabbitMQ', startRabbit);
  print(results, missing);
}

function print(results: Result[], missing: string[]): void {
  const f = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const rows = [['broker', 'mode', 'messages', 'msg/s', 'p50 ms', 'p99 ms', '(latency at msg/s)']];
  for (const r of results)
    rows.push([r.name, r.mode, String(r.messages), f(r.throughput), f(r.p50, 2), f(r.p99, 2), f(r.rate)]);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  console.log('\nEasyMQ benchmark: 128-byte messages, 1 publisher + 1 consumer, publish → deliver → ack\n');
  console.log(line(rows[0]!));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows.slice(1)) console.log(line(r));
  const get = (name: string, mode: string): Result | undefined =>
    results.find((r) => r.name === name && r.mode === mode);
  const ratio = (a: Result | undefined, b: Result | undefined, what: string, goal?: number): void => {
    if (!a || !b) return console.log(`  ${what}: n/a`);
    const x = a.throughput / b.throughput;
    console.log(
      `  ${what}: ${x.toFixed(2)}×${goal !== undefined ? `  (goal ≥ ${goal}×: ${x >= goal ? 'met' : 'NOT met'})` : ''}`,
    );
  };
  const et = get('EasyMQ', 'transient');
  const ed = get('EasyMQ', 'durable');
  console.log('\nratios (throughput)');
  ratio(et, get('RabbitMQ', 'transient'), 'EasyMQ transient / RabbitMQ transient (acks)', 4);
  ratio(et, get('NATS core', 'transient'), 'EasyMQ transient / NATS core');
  ratio(ed, get('NATS JetStream', 'durable'), 'EasyMQ durable / NATS JetStream file', 1);
  ratio(ed, get('RabbitMQ', 'durable'), 'EasyMQ durable / RabbitMQ durable (confirms)');
  console.log('\ngoals');
  if (et)
    console.log(
      `  EasyMQ transient ≥ 100000 msg/s delivered and acked: ${f(et.throughput)} → ${et.throughput >= 100_000 ? 'met' : 'NOT met'}`,
    );
  for (const r of [et, ed]) {
    if (r)
      console.log(
        `  EasyMQ ${r.mode} p99 < 10 ms at half throughput: ${f(r.p99, 2)} ms → ${r.p99 < 10 ? 'met' : 'NOT met'}`,
      );
  }
  if (missing.length) {
    console.log('\nnot measured');
    for (const m of missing) console.log(`  ${m}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

export type { Peer };
