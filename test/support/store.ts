// A throwaway MongoDB-compatible store: FerretDB 1.x (SQLite backend) on a free
// loopback port with its own temporary data dir. Used by integration tests,
// `make store-up` and the local platform.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { bin } from './paths.js';
import { freePort } from './ports.js';
import { startProcess, type ManagedProcess } from './processes.js';
import { GiveUp, waitFor } from './wait.js';

export interface Store {
  /** mongodb:// URL including the database name. */
  url: string;
  port: number;
  dataDir: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export interface StoreOptions {
  database?: string;
  dataDir?: string;
  logFile?: string;
  port?: number;
  /** Keep running after this Node process exits (make store-up). */
  daemon?: boolean;
}

export async function startStore(opts: StoreOptions = {}): Promise<Store> {
  const port = opts.port ?? (await freePort());
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tce-store-'));
  fs.mkdirSync(dataDir, { recursive: true });
  const proc = startProcess({
    name: 'ferretdb',
    command: bin('ferretdb'),
    args: [
      '--handler=sqlite',
      `--sqlite-url=file:${dataDir}/`,
      `--state-dir=${dataDir}`,
      `--listen-addr=127.0.0.1:${port}`,
      '--debug-addr=-',
      '--telemetry=disable',
      '--log-level=warn',
    ],
    logFile: opts.logFile,
    daemon: opts.daemon,
  });
  const url = `mongodb://127.0.0.1:${port}/${opts.database ?? 'tce'}`;
  const stop = async (): Promise<void> => {
    await proc.stop();
    if (ownDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForStore(url, proc);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, dataDir, process: proc, stop };
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
