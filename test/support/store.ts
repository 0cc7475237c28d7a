// A throwaway MongoDB-compatible store: FerretDB 1.x on its PostgreSQL backend
// (Debian's PostgreSQL, one private cluster per store), both on free loopback
// ports with their data under one directory. Used by integration tests,
// benchmarks, `make store-up` and the local platform. docs/adr/0003 says why
// PostgreSQL and why the `_id` index below.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { run, type ExecResult } from './exec.js';
import { bin } from './paths.js';
import { freePort } from './ports.js';
import { isAlive, startProcess, type ManagedProcess } from './processes.js';
import { GiveUp, waitFor } from './wait.js';

export interface Store {
  /** mongodb:// URL including the database name. */
  url: string;
  port: number;
  dataDir: string;
  /** FerretDB: what clients talk to. Stopping it makes the store unreachable. */
  process: ManagedProcess;
  /** FerretDB and PostgreSQL, in start order. */
  processes: ManagedProcess[];
  stop(): Promise<void>;
}

export interface StoreOptions {
  database?: string;
  dataDir?: string;
  /** FerretDB's log; PostgreSQL's goes next to it as postgres.log. */
  logFile?: string;
  port?: number;
  /** Keep running after this Node process exits (make store-up). */
  daemon?: boolean;
  /** Where PostgreSQL's (and, without `port`, FerretDB's) ports come from (tests of the retry below). */
  pickPort?: () => Promise<number>;
}

/** Attempts per server when a port picked free was taken before the server bound it. */
const PORT_ATTEMPTS = 4;
const PORT_TAKEN = /address already in use/i;

/**
 * FerretDB 1.24 filters an equality on a field as `_jsonb->$1 @> $2`, which the
 * btree indexes it creates on `(_jsonb->'field')` cannot serve, so every lookup
 * would scan its table. A GIN index on the same expression serves `@>`: this
 * event trigger gives every such index FerretDB creates (its `_id` index, those
 * of createIndex, those of its own metadata table) a GIN twin on the leading
 * key, one per key and table (a twin outlives a dropped index and serves the
 * next one on that key). `fastupdate = off`: a GIN
 * pending list is scanned by every lookup. Only a custom plan sees `$1 = '_id'`,
 * hence plan_cache_mode below.
 */
const GIN_TWIN_SQL = `
CREATE OR REPLACE FUNCTION tce_gin_twin() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record; expr text; tbl regclass;
BEGIN
  FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index' LOOP
    SELECT i.indrelid::regclass, pg_get_indexdef(i.indexrelid, 1, true) INTO tbl, expr
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
      WHERE i.indexrelid = r.objid AND a.amname = 'btree';
    IF expr ~ '^\\(_jsonb -> ''[^'']+''::text\\)$' AND NOT EXISTS (
        SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
        WHERE i.indrelid = tbl AND a.amname = 'gin' AND pg_get_indexdef(i.indexrelid, 1, true) = expr) THEN
      EXECUTE format('CREATE INDEX ON %s USING gin (%s jsonb_path_ops) WITH (fastupdate = off)', tbl, expr);
    END IF;
  END LOOP;
END $$;
DROP EVENT TRIGGER IF EXISTS tce_gin_twin;
CREATE EVENT TRIGGER tce_gin_twin ON ddl_command_end WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION tce_gin_twin();
`;

const PG_SETTINGS = [
  'listen_addresses=127.0.0.1',
  // TCP only: a socket directory would have to be writable by the server's user.
  'unix_socket_directories=',
  'plan_cache_mode=force_custom_plan',
  'max_connections=200',
];

export async function startStore(opts: StoreOptions = {}): Promise<Store> {
  const pickPort = opts.pickPort ?? (() => freePort());
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tce-store-'));
  fs.mkdirSync(dataDir, { recursive: true });
  const processes: ManagedProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const p of [...processes].reverse()) await p.stop();
    if (ownDir) removeStoreData(dataDir);
  };
  try {
    const user = serverUser();
    const cluster = clusterDir(dataDir, user);
    if (!fs.existsSync(path.join(cluster, 'PG_VERSION'))) await initCluster(cluster, user);
    const pgPort = await onFreePort(processes, pickPort, async (pgPort) => {
      const pg = startProcess({
        name: 'postgres',
        command: serverBin('postgres'),
        args: ['-D', cluster, '-p', String(pgPort), ...PG_SETTINGS.flatMap((s) => ['-c', s])],
        logFile: opts.logFile && path.join(path.dirname(opts.logFile), 'postgres.log'),
        daemon: opts.daemon,
        user,
        stopSignal: 'SIGINT', // fast shutdown: SIGTERM's smart shutdown waits for every session
      });
      processes.push(pg);
      await waitFor(
        `PostgreSQL on 127.0.0.1:${pgPort} to accept connections`,
        async () => {
          if (!pg.running) throw new GiveUp(`postgres exited early:\n${pg.output()}`);
          // Short: whatever else listens on the port may never answer.
          return (await psql(pgPort, 'SELECT 1', 2000)).code === 0 && pg.running;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
    });
    const trigger = await psql(pgPort, GIN_TWIN_SQL);
    if (trigger.code !== 0) throw new Error(`could not install the GIN index trigger: ${trigger.stderr}`);
    let ferret!: ManagedProcess;
    const port = await onFreePort(
      processes,
      opts.port === undefined ? pickPort : () => Promise.resolve(opts.port!),
      async (port) => {
        ferret = startProcess({
          name: 'ferretdb',
          command: bin('ferretdb'),
          args: [
            '--handler=postgresql',
            `--postgresql-url=postgres://postgres@127.0.0.1:${pgPort}/postgres`,
            `--state-dir=${dataDir}`,
            `--listen-addr=127.0.0.1:${port}`,
            process.env.TCE_FERRET_DEBUG ? `--debug-addr=${process.env.TCE_FERRET_DEBUG}` : '--debug-addr=-',
            '--telemetry=disable',
            '--log-level=warn',
          ],
          logFile: opts.logFile,
          daemon: opts.daemon,
        });
        processes.push(ferret);
        await waitForStore(`mongodb://127.0.0.1:${port}/`, ferret);
      },
      opts.port === undefined ? PORT_ATTEMPTS : 1,
    );
    const url = `mongodb://127.0.0.1:${port}/${opts.database ?? 'tce'}`;
    return { url, port, dataDir, process: ferret, processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Starts a server on a port from `pick`. A port found free can be taken by
 * another process (an outgoing connection's ephemeral port) before the server
 * binds it; then the server exits saying so, and the next port is tried.
 * Returns the port the server listens on.
 */
async function onFreePort(
  processes: ManagedProcess[],
  pick: () => Promise<number>,
  start: (port: number) => Promise<void>,
  attempts = PORT_ATTEMPTS,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await pick();
    const before = processes.length;
    try {
      await start(port);
      return port;
    } catch (err) {
      const started = processes.splice(before);
      const taken = started.some((p) => !p.running && PORT_TAKEN.test(p.output()));
      for (const p of started) await p.stop();
      if (!taken || attempt >= attempts) throw err;
    }
  }
}

/** Removes a store's data, including its PostgreSQL cluster kept outside (see clusterDir). */
export function removeStoreData(dataDir: string): void {
  fs.rmSync(outsideDir(dataDir), { recursive: true, force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
}

/** Resolves when the store answers `ping`; fails fast if its process died. */
export async function waitForStore(url: string, proc?: ManagedProcess, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    `the store at ${url} to answer ping`,
    async () => {
      if (proc && !proc.running) throw new GiveUp(`ferretdb exited early:\n${proc.output()}`);
      const client = new MongoClient(url, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
      try {
        await client.db('admin').command({ ping: 1 });
        return true;
      } finally {
        await client.close();
      }
    },
    { timeoutMs, intervalMs: 100 },
  );
}

interface User {
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root: then it runs as Debian's `postgres` user. */
function serverUser(): User | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line)
    throw new Error("running as root, PostgreSQL needs the 'postgres' user: run 'make deps' (apt installs it)");
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Where clusters live that the server's user could not reach under their data directory. */
const OUTSIDE = '/var/tmp/tce-store-postgres';

const outsideDir = (dataDir: string): string =>
  path.join(OUTSIDE, crypto.createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16));

/**
 * The cluster's directory: `<dataDir>/postgres`. Run as root, the server's user
 * may not be able to reach dataDir (a clone under a private temp dir), so the
 * cluster lives under /var/tmp instead, in a directory named after dataDir with
 * a note of it (`owner`), linked from `<dataDir>/postgres`. Whoever removes a data
 * directory need not know: the next store started removes clusters whose data
 * directory is gone, and one whose data directory was made anew.
 */
function clusterDir(dataDir: string, user: User | undefined): string {
  if (!user) {
    const dir = path.join(dataDir, 'postgres');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }
  reachableDir(OUTSIDE);
  removeOrphans();
  const base = outsideDir(dataDir);
  const link = path.join(dataDir, 'postgres');
  // No link: a new data directory at a path used before, whose cluster is stale.
  if (!fs.lstatSync(link, { throwIfNoEntry: false })) {
    const pid = serverPid(base);
    if (pid !== undefined) throw new Error(`a PostgreSQL server (pid ${pid}) still runs in ${base}: stop it first`);
    fs.rmSync(base, { recursive: true, force: true });
  }
  reachableDir(base);
  fs.writeFileSync(path.join(base, 'owner'), path.resolve(dataDir));
  const dir = path.join(base, 'data');
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.chownSync(dir, user.uid, user.gid);
  }
  if (!fs.lstatSync(link, { throwIfNoEntry: false })) fs.symlinkSync(dir, link);
  return dir;
}

/** Clusters under OUTSIDE whose data directory is gone and whose server is not running. */
function removeOrphans(): void {
  for (const name of fs.readdirSync(OUTSIDE)) {
    const base = path.join(OUTSIDE, name);
    const owner = readOrUndefined(path.join(base, 'owner'));
    // Empty: another run is writing it (writeFileSync is not atomic) — its cluster is being made.
    if (!owner || fs.existsSync(owner)) continue;
    if (serverPid(base) !== undefined) continue;
    fs.rmSync(base, { recursive: true, force: true });
  }
}

/** The pid of the server running the cluster under `base`, if one runs. */
function serverPid(base: string): number | undefined {
  const pid = Number(readOrUndefined(path.join(base, 'data', 'postmaster.pid'))?.split('\n')[0]);
  return pid > 0 && isAlive(pid) ? pid : undefined;
}

/**
 * A directory of ours the server's user may pass through, whatever the umask.
 * /var/tmp is shared and the path predictable: one that somebody else made, or
 * a link, is refused rather than used (or chmod'ed through the link).
 */
export function reachableDir(dir: string): void {
  if (!fs.lstatSync(dir, { throwIfNoEntry: false })) fs.mkdirSync(dir, { recursive: true });
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.() ?? st.uid;
  if (st.isSymbolicLink() || !st.isDirectory() || st.uid !== uid)
    throw new Error(
      `${dir} is ${st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? `owned by uid ${st.uid}` : 'not a directory'}, not a directory of uid ${uid}: remove it, then start the store again`,
    );
  fs.chmodSync(dir, 0o755);
}

function readOrUndefined(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * A PostgreSQL server binary by its real path: `.cache/bin` may sit in a clone the
 * server's user cannot enter (CI clones into a private temp dir).
 */
const serverBin = (name: string): string => fs.realpathSync(bin(name));

async function initCluster(dir: string, user: User | undefined): Promise<void> {
  // --no-sync: a fresh cluster that a crash would lose is simply made again.
  const args = ['-D', dir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'];
  const r = await run(serverBin('initdb'), args, { user, cwd: '/', timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`initdb -D ${dir} failed:\n${r.stdout}${r.stderr}`);
}

function psql(port: number, sql: string, timeoutMs = 30_000): Promise<ExecResult> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-X', '-q'];
  return run(bin('psql'), [...args, '-v', 'ON_ERROR_STOP=1', '-c', sql], { timeoutMs });
}
