// `tce`: the platform by hand, on top of the SDK.
//   tce register alice --password …        prints the new user id
//   tce login alice --password …           saves the session in ~/.tce/session.json
//   tce send <user id> hello there         prints the stored message's seq and id
//   tce recv [--count N] [--timeout 30s]   prints messages as they arrive (acks them)
//   tce group create|send|list|show|add|leave|history …   group conversations
//   tce upload <file> [--to <user id>]     resumable upload (run again: resumes); prints the file's JSON
//   tce download <id|uri> [-o file]        resumes a partial file
//   tce gps <lon> <lat>  /  tce nearby <lon> <lat> [--radius m]
//   tce mq …                               EasyMQ administration (services/mq)
// Exit codes: 0 done, 1 the platform refused (code and message printed), 2 bad usage.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Group } from '../../../proto/gen/ts/messaging.js';
import { TceClient, type ReceivedMessage } from '../client.js';
import { TceError } from '../errors.js';
import type { ChunkSource, FileInfo } from '../files.js';
import { plainText, type MimeText } from '../../../services/gateway/src/mimetext.js';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

export const USAGE = `usage: tce <command> [options]

commands:
  register <username> [--password P] [--display-name N]   create an account (prints the user id)
  login <username> [--password P]                          log in; the session is saved for later commands
  whoami                                                   the saved session's user and device
  send <user id> <text…> [--compact] [--mime JSON]         send a message (rich text with --mime)
  recv [--count N] [--timeout 30s] [--json]                print incoming messages, group ones marked with
                                                           the group id (acked as printed)
  history [peer] [--limit N] [--before SEQ]                received messages, newest first
  group create <name> [user id…]                           create a group with you and these users
  group send <group id> <text…> [--compact] [--mime JSON]  send a message to a group
  group list                                               your groups
  group show <group id>                                    a group and its members
  group add <group id> <user id…>                          add users to a group
  group leave <group id>                                   leave a group
  group history <group id> [--limit N] [--before SEQ]      a group's messages, newest first
  presence <user id…>                                      online state of users
  upload <file> [--to <user id>] [--name N] [--type T]     upload; run again after an interruption, it resumes
  download <id|/files/id> [-o FILE]                        download (resumes a partial FILE)
  gps <lon> <lat> [--speed M/S] [--direction DEG]          report a position
  nearby <lon> <lat> [--radius M] [--limit N]              who is near a point
  logout [--all]
  mq <command> …                                           EasyMQ administration (tce mq --help)

options:
  --url ws://host:8080/ws   gateway (default $TCE_URL, the saved session's, or ws://127.0.0.1:8080/ws)
  --device-id ID            this installation's device id (default: saved, else generated once)
  --json                    machine-readable output
  passwords come from --password or $TCE_PASSWORD; the session lives in $TCE_HOME (default ~/.tce)
`;

class UsageError extends Error {}

interface Saved {
  url?: string;
  deviceId?: string;
  accessToken?: string;
  refreshToken?: string;
  userId?: string;
  username?: string;
  lastSeq?: number;
  /** Highest group seq printed by `recv`, per group: redeliveries are not printed again. */
  groupSeqs?: Record<string, number>;
}

const FLAGS_WITH_VALUE = new Set([
  'url',
  'device-id',
  'password',
  'display-name',
  'count',
  'timeout',
  'mime',
  'limit',
  'before',
  'to',
  'name',
  'type',
  'o',
  'speed',
  'direction',
  'radius',
]);

export function parseArgs(argv: string[]): { pos: string[]; flags: Record<string, string | true> } {
  const pos: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      pos.push(...argv.slice(i + 1));
      break;
    }
    const m = /^--?([a-z][a-z-]*)(?:=(.*))?$/.exec(a);
    if (!m) {
      pos.push(a);
      continue;
    }
    const name = m[1]!;
    if (m[2] !== undefined) flags[name] = m[2];
    else if (FLAGS_WITH_VALUE.has(name)) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      flags[name] = v;
    } else flags[name] = true;
  }
  return { pos, flags };
}

function home(env: NodeJS.ProcessEnv): string {
  return env.TCE_HOME || path.join(os.homedir(), '.tce');
}

function load(env: NodeJS.ProcessEnv): Saved {
  try {
    return JSON.parse(fs.readFileSync(path.join(home(env), 'session.json'), 'utf8')) as Saved;
  } catch {
    return {};
  }
}

function save(env: NodeJS.ProcessEnv, s: Saved): void {
  writeState(env, 'session.json', s);
}

function writeState(env: NodeJS.ProcessEnv, name: string, value: unknown): void {
  fs.mkdirSync(home(env), { recursive: true, mode: 0o700 });
  const file = path.join(home(env), name);
  // A temp file of its own: two tce runs at once must not rename each other's.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/**
 * Uploads started and not finished, by what was asked (gateway URL, user,
 * recipient, name, type) and the file (absolute path, size and mtime: a
 * changed file starts over), so `tce upload` run again resumes at the
 * server's offset. Best effort: a run that cannot record it still uploads.
 */
type PendingUploads = Record<string, string>;

function pendingUploads(env: NodeJS.ProcessEnv): PendingUploads {
  try {
    return JSON.parse(fs.readFileSync(path.join(home(env), 'uploads.json'), 'utf8')) as PendingUploads;
  } catch {
    return {};
  }
}

function setPendingUpload(env: NodeJS.ProcessEnv, key: string, url: string | undefined): void {
  try {
    const all = pendingUploads(env);
    if (url === undefined) delete all[key];
    else all[key] = url;
    writeState(env, 'uploads.json', all);
  } catch {
    /* resuming is a convenience: the upload goes on without it */
  }
}

function uploadKey(file: string, asked: readonly (string | undefined)[]): string {
  const st = fs.statSync(file);
  return JSON.stringify([...asked.map((a) => a ?? ''), path.resolve(file), st.size, st.mtimeMs]);
}

const str = (v: string | true | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
function num(v: string | true | undefined, what: string, dflt?: number): number {
  if (v === undefined) {
    if (dflt === undefined) throw new UsageError(`${what} is required`);
    return dflt;
  }
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n)) throw new UsageError(`${what}: not a number: ${String(v)}`);
  return n;
}
function duration(v: string | true | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v) : null;
  if (!m) throw new UsageError(`not a duration: ${String(v)}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 's'];
}

async function fileSource(file: string): Promise<ChunkSource & { close(): Promise<void> }> {
  const fh = await fs.promises.open(file, 'r');
  const size = (await fh.stat()).size;
  return {
    size,
    read: async (offset, length) => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    },
    close: () => fh.close(),
  };
}

export async function main(argv: string[], io?: Partial<CliIo>): Promise<number> {
  const out = io?.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = io?.stderr ?? ((s: string) => void process.stderr.write(s));
  const env = io?.env ?? process.env;
  if (argv[0] === 'mq') return runMq(argv.slice(1), { stdout: out, stderr: err, env });
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    err(`tce: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { pos, flags } = parsed;
  const cmd = pos.shift();
  if (!cmd || flags.help || flags.h || cmd === 'help') {
    out(USAGE);
    return cmd ? 0 : 2;
  }
  const saved = load(env);
  const url = str(flags.url) ?? env.TCE_URL ?? saved.url ?? 'ws://127.0.0.1:8080/ws';
  const deviceId = str(flags['device-id']) ?? saved.deviceId ?? `cli-${crypto.randomBytes(6).toString('hex')}`;
  const json = flags.json === true;
  const password = (): string => {
    const p = str(flags.password) ?? env.TCE_PASSWORD;
    if (!p) throw new UsageError('a password is needed: --password or $TCE_PASSWORD');
    return p;
  };
  const needSession = (): void => {
    if (!saved.accessToken) throw new UsageError('not logged in: run tce login <username> first');
  };
  const client = new TceClient({
    url,
    deviceId,
    deviceType: 'cli',
    accessToken: ['register', 'login'].includes(cmd) ? undefined : saved.accessToken,
    refreshToken: saved.refreshToken,
    lastSeq: saved.lastSeq,
    groupSeqs: saved.groupSeqs,
    reconnect: cmd === 'recv',
  });
  // Keep renewed tokens for the next command.
  client.on('token', (t) => save(env, { ...load(env), accessToken: t.access_token, refreshToken: t.refresh_token }));
  try {
    switch (cmd) {
      case 'register': {
        const username = pos[0];
        if (!username) throw new UsageError('register <username>');
        const id = await client.register({
          username,
          password: password(),
          display_name: str(flags['display-name']) ?? '',
        });
        out(json ? `${JSON.stringify({ user_id: id, username })}\n` : `registered ${username}: user id ${id}\n`);
        return 0;
      }
      case 'login': {
        const username = pos[0];
        if (!username) throw new UsageError('login <username>');
        const t = await client.login(username, password());
        save(env, {
          url,
          deviceId,
          accessToken: t.access_token,
          refreshToken: t.refresh_token,
          userId: t.user_id,
          username: t.username,
        });
        out(
          json
            ? `${JSON.stringify({ user_id: t.user_id, device_id: t.device_id })}\n`
            : `logged in as ${t.username} (user id ${t.user_id}, device ${deviceId})\n`,
        );
        return 0;
      }
      case 'whoami': {
        needSession();
        await client.connect();
        const s = client.session!;
        out(
          json
            ? `${JSON.stringify(s)}\n`
            : `${s.username} (user id ${s.user_id}, device ${s.device_id}) on ${s.gateway_id}\n`,
        );
        return 0;
      }
      case 'send': {
        needSession();
        const to = pos.shift();
        const mime = str(flags.mime);
        if (!to || (!mime && pos.length === 0)) throw new UsageError('send <user id> <text…>');
        await client.connect();
        const body: MimeText | string = mime ?? [{ type: 'text', text: pos.join(' ') }];
        const r = await client.send(to, body, { form: flags.compact ? 'compact' : 'named' });
        out(
          json ? `${JSON.stringify(r)}\n` : `sent: seq ${r.seq}, id ${r.msg_id}${r.duplicate ? ' (duplicate)' : ''}\n`,
        );
        return 0;
      }
      case 'recv': {
        needSession();
        const count = flags.count === undefined ? Infinity : num(flags.count, '--count');
        const timeout = duration(flags.timeout, 30_000);
        let n = 0;
        let done!: () => void;
        const finished = new Promise<void>((r) => (done = r));
        client.handlers.onMessage = (m: ReceivedMessage): void | Promise<void> => {
          // Past --count: neither print nor ack (returning would ack it); it comes again next time.
          if (n >= count) return new Promise<void>(() => undefined);
          const where = m.group_id ? `${m.group_id} ` : '';
          out(
            json
              ? `${JSON.stringify(m)}\n`
              : `[${new Date(m.sent_at).toISOString()}] ${where}#${m.seq} ${m.from_user}: ${plainText(m.items)}\n`,
          );
          // A group's seq counts in that group's own sequence, never in the inbox's.
          const s = load(env);
          save(
            env,
            m.group_id
              ? {
                  ...s,
                  groupSeqs: { ...s.groupSeqs, [m.group_id]: Math.max(m.seq, s.groupSeqs?.[m.group_id] ?? 0) },
                }
              : { ...s, lastSeq: Math.max(m.seq, s.lastSeq ?? 0) },
          );
          if (++n >= count) done();
        };
        client.on('kicked', (r) => {
          err(`tce: disconnected: ${r}\n`);
          done();
        });
        await client.connect();
        const timer = setTimeout(done, timeout);
        await finished;
        clearTimeout(timer);
        // Let the last ack leave before closing.
        await new Promise((r) => setTimeout(r, 50));
        return count !== Infinity && n < count ? 1 : 0;
      }
      case 'history': {
        needSession();
        await client.connect();
        const page = await client.history(
          pos[0] ?? '',
          num(flags.before, '--before', 0),
          num(flags.limit, '--limit', 20),
        );
        if (json) out(`${JSON.stringify(page)}\n`);
        else for (const m of page.messages) out(`#${m.seq} ${m.from_user}: ${m.mime_text}\n`);
        return 0;
      }
      case 'group': {
        needSession();
        return await groupCommand(client, pos, flags, out);
      }
      case 'presence': {
        needSession();
        if (pos.length === 0) throw new UsageError('presence <user id…>');
        await client.connect();
        const list = await client.presence(pos);
        if (json) out(`${JSON.stringify(list)}\n`);
        else
          for (const p of list)
            out(
              `${p.user_id}: ${p.online ? 'online' : `offline${p.last_seen ? ` (last seen ${new Date(p.last_seen).toISOString()})` : ''}`}\n`,
            );
        return 0;
      }
      case 'upload': {
        needSession();
        const file = pos[0];
        if (!file) throw new UsageError('upload <file>');
        await client.connect();
        const src = await fileSource(file);
        const name = str(flags.name) ?? path.basename(file);
        const key = uploadKey(file, [url, saved.userId, str(flags.to), name, str(flags.type)]);
        let started = false;
        const upload = (uploadUrl: string | undefined): Promise<FileInfo> =>
          client.files().upload(src, {
            name,
            contentType: str(flags.type),
            to: str(flags.to),
            resumable: true,
            uploadUrl,
            onUploadUrl: (u) => setPendingUpload(env, key, u),
            onStart: (offset) => {
              started = true;
              if (offset > 0) err(`resumed at ${offset} of ${src.size} bytes\n`);
            },
          });
        try {
          const earlier = pendingUploads(env)[key];
          let info: FileInfo;
          try {
            info = await upload(earlier);
          } catch (e) {
            // The earlier upload cannot even be asked about (expired, finished, another
            // server): start over. A failure after it answered is a real one.
            if (!earlier || started) throw e;
            info = await upload(undefined);
          }
          setPendingUpload(env, key, undefined);
          out(`${JSON.stringify(info)}\n`);
        } finally {
          await src.close();
        }
        return 0;
      }
      case 'download': {
        needSession();
        const id = pos[0];
        if (!id) throw new UsageError('download <id|/files/id>');
        await client.connect();
        const target = str(flags.o) ?? id.replace(/^.*\//, '');
        const have = fs.existsSync(target) ? fs.statSync(target).size : 0;
        const fh = fs.openSync(target, 'a');
        try {
          const size = await client
            .files()
            .downloadTo(id, { write: (c) => void fs.writeSync(fh, c) }, { offset: have });
          out(
            json
              ? `${JSON.stringify({ file: target, size })}\n`
              : `${target}: ${size} bytes${have ? ` (resumed at ${have})` : ''}\n`,
          );
        } finally {
          fs.closeSync(fh);
        }
        return 0;
      }
      case 'gps': {
        needSession();
        await client.connect();
        await client.reportGpsConfirmed({
          lon: num(pos[0], 'lon'),
          lat: num(pos[1], 'lat'),
          speed: num(flags.speed, '--speed', 0),
          direction: num(flags.direction, '--direction', 0),
        });
        out('reported\n');
        return 0;
      }
      case 'nearby': {
        needSession();
        await client.connect();
        const r = await client.nearby(
          num(pos[0], 'lon'),
          num(pos[1], 'lat'),
          num(flags.radius, '--radius', 1000),
          num(flags.limit, '--limit', 50),
        );
        if (json) out(`${JSON.stringify(r)}\n`);
        else {
          for (const h of r.hits) out(`${h.user_id}\t${h.distance_m.toFixed(0)} m\t(${h.lat}, ${h.lon})\n`);
          if (r.partial) out(`(partial: partitions ${r.missing_partitions.join(',')} did not answer)\n`);
        }
        return 0;
      }
      case 'logout': {
        needSession();
        await client.connect();
        await client.logout(flags.all === true);
        save(env, { url, deviceId });
        out('logged out\n');
        return 0;
      }
      default:
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`tce: ${e.message}\n${USAGE}`);
      return 2;
    }
    if (e instanceof TceError) {
      err(`tce: ${e.code}: ${e.message}\n`);
      return 1;
    }
    err(`tce: ${(e as Error).message}\n`);
    return 1;
  } finally {
    client.close();
  }
}

/** `tce group <sub> …`: group conversations (the gateway checks ids, membership and limits). */
async function groupCommand(
  client: TceClient,
  pos: string[],
  flags: Record<string, string | true>,
  out: (s: string) => void,
): Promise<number> {
  const json = flags.json === true;
  const sub = pos.shift();
  const printGroup = (g: Group): void => {
    if (json) {
      out(`${JSON.stringify(g)}\n`);
      return;
    }
    out(
      `${g.group_id} ${JSON.stringify(g.name)}, created by ${g.created_by} at ${new Date(g.created_at).toISOString()}\n`,
    );
    out(`members (${g.members.length}):\n`);
    for (const m of g.members) out(`  ${m}\n`);
  };
  switch (sub) {
    case 'create': {
      const name = pos.shift();
      if (!name) throw new UsageError('group create <name> [user id…]');
      await client.connect();
      const g = await client.createGroup(name, pos);
      out(json ? `${JSON.stringify(g)}\n` : `created group ${JSON.stringify(g.name)}: group id ${g.group_id}\n`);
      return 0;
    }
    case 'send': {
      const groupId = pos.shift();
      const mime = str(flags.mime);
      if (!groupId || (!mime && pos.length === 0)) throw new UsageError('group send <group id> <text…>');
      await client.connect();
      const body: MimeText | string = mime ?? [{ type: 'text', text: pos.join(' ') }];
      const r = await client.sendGroup(groupId, body, { form: flags.compact ? 'compact' : 'named' });
      out(json ? `${JSON.stringify(r)}\n` : `sent: seq ${r.seq}, id ${r.msg_id}${r.duplicate ? ' (duplicate)' : ''}\n`);
      return 0;
    }
    case 'list': {
      await client.connect();
      const list = await client.groups();
      if (json) out(`${JSON.stringify(list)}\n`);
      // The gateway may leave member lists out of groups() (group() has them): show a count only when given.
      else
        for (const g of list)
          out(`${g.group_id} ${JSON.stringify(g.name)}${g.members.length ? ` (${g.members.length} members)` : ''}\n`);
      return 0;
    }
    case 'show': {
      const groupId = pos[0];
      if (!groupId) throw new UsageError('group show <group id>');
      await client.connect();
      printGroup(await client.group(groupId));
      return 0;
    }
    case 'add': {
      const groupId = pos.shift();
      if (!groupId || pos.length === 0) throw new UsageError('group add <group id> <user id…>');
      await client.connect();
      printGroup(await client.addMembers(groupId, pos));
      return 0;
    }
    case 'leave': {
      const groupId = pos[0];
      if (!groupId) throw new UsageError('group leave <group id>');
      await client.connect();
      await client.leaveGroup(groupId);
      out(json ? `${JSON.stringify({ group_id: groupId, left: true })}\n` : `left group ${groupId}\n`);
      return 0;
    }
    case 'history': {
      const groupId = pos[0];
      if (!groupId) throw new UsageError('group history <group id> [--limit N] [--before SEQ]');
      await client.connect();
      const page = await client.groupHistory(
        groupId,
        num(flags.before, '--before', 0),
        num(flags.limit, '--limit', 20),
      );
      if (json) out(`${JSON.stringify(page)}\n`);
      else for (const m of page.messages) out(`#${m.seq} ${m.from_user}: ${m.mime_text}\n`);
      return 0;
    }
    default:
      throw new UsageError(
        sub ? `unknown group command '${sub}'` : 'group <create|send|list|show|add|leave|history> …',
      );
  }
}

/** `tce mq …`: the EasyMQ engineer's command, mounted when present. */
async function runMq(argv: string[], io: CliIo): Promise<number> {
  const file = path.join(
    path.dirname(new URL(import.meta.url).pathname),
    '..',
    '..',
    '..',
    'services',
    'mq',
    'src',
    'cli',
    'mq-command.ts',
  );
  const built = file.replace(/\.ts$/, '.js');
  const target = fs.existsSync(built) ? built : file;
  if (!fs.existsSync(target)) {
    io.stderr('tce: mq commands are not available in this build\n');
    return 2;
  }
  const mod = (await import(pathToFileURL(target).href)) as {
    runMqCommand(argv: string[], io: CliIo): Promise<number>;
  };
  return mod.runMqCommand(argv, io);
}
