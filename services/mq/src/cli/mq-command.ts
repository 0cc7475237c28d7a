// `tce mq ls|create|rm|purge|stats|groups`: EasyMQ administration from a shell.
// Mounted under the shared `tce` binary as runMqCommand(argv, io); also runnable
// alone (services/mq/src/cli-main.ts). Exit codes: 0 done, 1 the broker
// refused (its code and message are printed), 2 bad usage.
import { parseDuration } from '../../../runtime/src/config.js';
import { PlatformError } from '../../../runtime/src/errors.js';
import { MqClient } from '../client/mq-client.js';
import type { QueueSpec, QueueStats } from '../../../../proto/gen/ts/mq.js';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

export const MQ_USAGE = `usage: tce mq <command> [options]

commands:
  ls                         queues with kind, durability, depth, in flight, consumers
  create <name> --password <pw> [--kind queue|topic|partitioned] [--durable]
         [--partitions N] [--ack-timeout 30s] [--max-deliveries N|-1] [--dead-letter NAME]
         [--max-message-bytes N] [--max-depth N] [--subscriber-limit N] [--slow-policy drop|disconnect]
  rm <name>                  delete a queue and its messages
  purge <name>               drop the messages waiting for delivery
  stats [name]               depth, in flight, consumers, counters and rates (all queues without a name)
  groups <queue> [--remove <group>]
                             consumer groups / named subscriptions, members and partitions

options:
  --addr host:port           broker address (default $TCE_MQ_ADDR or 127.0.0.1:50052)
  --admin-password <pw>      admin credential (default $TCE_MQ_ADMIN_PASSWORD)
  --json                     machine-readable output
  -h, --help                 this text
`;

class UsageError extends Error {}

interface Parsed {
  cmd: string;
  args: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set([
  'addr',
  'admin-password',
  'password',
  'kind',
  'partitions',
  'ack-timeout',
  'max-deliveries',
  'dead-letter',
  'max-message-bytes',
  'max-depth',
  'subscriber-limit',
  'slow-policy',
  'remove',
]);
const BOOL_FLAGS = new Set(['durable', 'json', 'help']);

export function parseArgs(argv: string[]): Parsed {
  const flags = new Map<string, string | true>();
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h') {
      flags.set('help', true);
      continue;
    }
    if (!a.startsWith('--')) {
      pos.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (BOOL_FLAGS.has(name) && eq < 0) flags.set(name, true);
    else if (VALUE_FLAGS.has(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`option --${name} needs a value`);
      flags.set(name, v);
    } else throw new UsageError(`unknown option ${a}`);
  }
  return { cmd: pos[0] ?? '', args: pos.slice(1), flags };
}

function int(flags: Parsed['flags'], name: string): number {
  const v = flags.get(name);
  if (v === undefined) return 0;
  if (typeof v !== 'string' || !/^-?\d+$/.test(v))
    throw new UsageError(`--${name} expects an integer, got '${String(v)}'`);
  return Number(v);
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(w[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export async function runMqCommand(argv: string[], io: CliIo): Promise<number> {
  let p: Parsed;
  try {
    p = parseArgs(argv);
  } catch (err) {
    io.stderr(`tce mq: ${(err as Error).message}\n\n${MQ_USAGE}`);
    return 2;
  }
  if (p.flags.has('help') || p.cmd === 'help' || p.cmd === '') {
    (p.cmd === '' && !p.flags.has('help') ? io.stderr : io.stdout)(MQ_USAGE);
    return p.cmd === '' && !p.flags.has('help') ? 2 : 0;
  }
  const need = (n: number, what: string): void => {
    if (p.args.length !== n) throw new UsageError(`${p.cmd} takes ${what}`);
  };
  const addr = (p.flags.get('addr') as string | undefined) ?? io.env.TCE_MQ_ADDR ?? '127.0.0.1:50052';
  const adminPw = (p.flags.get('admin-password') as string | undefined) ?? io.env.TCE_MQ_ADMIN_PASSWORD ?? '';
  const json = p.flags.has('json');
  const client = new MqClient(addr, { retryForMs: 3000 });
  const admin = client.admin(adminPw);
  try {
    switch (p.cmd) {
      case 'ls': {
        need(0, 'no arguments');
        const specs = await admin.list();
        const stats = await Promise.all(specs.map((s) => admin.stats(s.name)));
        if (json)
          io.stdout(
            `${JSON.stringify(
              specs.map((s, i) => ({ ...s, stats: stats[i] })),
              null,
              2,
            )}\n`,
          );
        else {
          const rows = [['NAME', 'KIND', 'DURABLE', 'PARTITIONS', 'DEPTH', 'IN FLIGHT', 'CONSUMERS']];
          specs.forEach((s, i) =>
            rows.push([
              s.name,
              s.kind,
              s.durable ? 'yes' : 'no',
              String(s.partitions),
              String(stats[i]!.depth),
              String(stats[i]!.in_flight),
              String(stats[i]!.consumers),
            ]),
          );
          io.stdout(table(rows));
        }
        return 0;
      }
      case 'create': {
        need(1, 'one queue name');
        const password = p.flags.get('password');
        if (typeof password !== 'string' || !password) throw new UsageError('create needs --password <pw>');
        const ack = p.flags.get('ack-timeout');
        const ackMs = typeof ack === 'string' ? parseDuration(ack) : 0;
        if (ackMs === undefined)
          throw new UsageError(`--ack-timeout expects a duration like 30s, got '${String(ack)}'`);
        const spec: Partial<QueueSpec> & { name: string } = {
          name: p.args[0]!,
          kind: (p.flags.get('kind') as string | undefined) ?? 'queue',
          durable: p.flags.has('durable'),
          partitions: int(p.flags, 'partitions'),
          ack_timeout_ms: ackMs,
          max_deliveries: int(p.flags, 'max-deliveries'),
          dead_letter: (p.flags.get('dead-letter') as string | undefined) ?? '',
          max_message_bytes: int(p.flags, 'max-message-bytes'),
          max_depth: int(p.flags, 'max-depth'),
          subscriber_limit: int(p.flags, 'subscriber-limit'),
          slow_policy: (p.flags.get('slow-policy') as string | undefined) ?? '',
        };
        await admin.create(spec, password);
        io.stdout(json ? `${JSON.stringify({ created: spec.name })}\n` : `created ${spec.kind} ${spec.name}\n`);
        return 0;
      }
      case 'rm': {
        need(1, 'one queue name');
        await admin.remove(p.args[0]!);
        io.stdout(json ? `${JSON.stringify({ removed: p.args[0] })}\n` : `removed ${p.args[0]}\n`);
        return 0;
      }
      case 'purge': {
        need(1, 'one queue name');
        const n = await admin.purge(p.args[0]!);
        io.stdout(json ? `${JSON.stringify({ purged: n })}\n` : `purged ${n} messages from ${p.args[0]}\n`);
        return 0;
      }
      case 'stats': {
        if (p.args.length > 1) throw new UsageError('stats takes at most one queue name');
        const names = p.args.length ? p.args : (await admin.list()).map((s) => s.name);
        const all = await Promise.all(names.map((n) => admin.stats(n)));
        if (json) io.stdout(`${JSON.stringify(p.args.length ? all[0] : all, null, 2)}\n`);
        else if (p.args.length) io.stdout(statsText(all[0]!));
        else {
          const rows = [
            ['NAME', 'DEPTH', 'IN FLIGHT', 'CONSUMERS', 'PUBLISHED', 'ACKED', 'REDELIVERED', 'DEAD', 'PUB/S', 'ACK/S'],
          ];
          for (const s of all) {
            rows.push([
              s.name,
              String(s.depth),
              String(s.in_flight),
              String(s.consumers),
              String(s.published),
              String(s.acked),
              String(s.redelivered),
              String(s.dead_lettered),
              String(s.publish_rate),
              String(s.ack_rate),
            ]);
          }
          io.stdout(table(rows));
        }
        return 0;
      }
      case 'groups': {
        need(1, 'one queue name');
        const rm = p.flags.get('remove');
        if (typeof rm === 'string') {
          await admin.removeGroup(p.args[0]!, rm);
          io.stdout(json ? `${JSON.stringify({ removed: rm })}\n` : `removed group ${rm} of ${p.args[0]}\n`);
          return 0;
        }
        const groups = await admin.groups(p.args[0]!);
        if (json) {
          io.stdout(`${JSON.stringify(groups, null, 2)}\n`);
          return 0;
        }
        if (groups.length === 0) io.stdout(`${p.args[0]} has no groups\n`);
        for (const g of groups) {
          io.stdout(`group ${g.group}  generation ${g.generation}  lag ${g.lag}  unowned [${compact(g.unowned)}]\n`);
          const rows = [['  MEMBER', 'PARTITIONS', 'METADATA']];
          for (const m of g.members) {
            rows.push([
              `  ${m.member_id}`,
              compact(m.partitions),
              Object.entries(m.metadata)
                .map(([k, v]) => `${k}=${v}`)
                .join(' '),
            ]);
          }
          io.stdout(table(rows));
        }
        return 0;
      }
      default:
        throw new UsageError(`unknown command '${p.cmd}'`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`tce mq: ${err.message}\n\n${MQ_USAGE}`);
      return 2;
    }
    const e = err instanceof PlatformError ? err : new PlatformError('INTERNAL', (err as Error).message);
    io.stderr(`tce mq: ${e.code}: ${e.message}\n`);
    return 1;
  } finally {
    client.close();
  }
}

function statsText(s: QueueStats): string {
  return (
    Object.entries(s)
      .map(([k, v]) => `${k.padEnd(14)} ${String(v)}`)
      .join('\n') + '\n'
  );
}

/** [0,1,2,5,7,8] → "0-2,5,7-8". */
function compact(ps: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ps.length;) {
    let j = i;
    while (j + 1 < ps.length && ps[j + 1] === ps[j]! + 1) j++;
    out.push(i === j ? String(ps[i]) : `${ps[i]}-${ps[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
