// `make bench-files`: file transfer throughput through nginx, side by side with
// its two ceilings, in one run on the same machine and store:
//
//   service  — POST /files and GET /files/<id> through nginx to two file-service replicas;
//   (a) nginx — the same bytes to and from nginx alone: PUT into a static file
//               (the DAV module) and GET of a static file — the transport ceiling;
//   (b) driver — the official driver's GridFSBucket writing and reading the same
//               store directly, in this process — the store's ceiling.
//
// For 1, 8 and 64 concurrent transfers of 64 MB each (BENCH_FILE_MB,
// BENCH_CONCURRENCY override). Uploads start from an empty bucket (leftovers
// would make each step measure a bigger store than the one before); downloads
// read one stored file N times at once. Prints MB/s
// and the ratios service/(b) (goal ≥ 80%) and service/(a), and the peak RSS of
// each replica, which stays flat as concurrency grows.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { GridFSBucket, MongoClient, type Db } from 'mongodb';
import { nginxHttpConfig } from '../../scripts/nginx/index.js';
import { generateKeySet, parseKeySet, signAccessToken } from '../../services/tokens/src/index.js';
import { freePort, startNginx, startService, startStore, type ServiceProcess } from '../../test/support/index.js';
import crypto from 'node:crypto';

const MB = 1024 * 1024;
const FILE_MB = Number(process.env.BENCH_FILE_MB ?? 64);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '1,8,64').split(',').map(Number);
const FILE = FILE_MB * MB;
const PIECE = crypto.randomBytes(MB);

async function* fileBytes(): AsyncGenerator<Buffer> {
  for (let i = 0; i < FILE_MB; i++) yield PIECE;
}

interface Row {
  op: 'upload' | 'download';
  n: number;
  service: number;
  driver: number;
  nginx: number;
  rss: number[];
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** MB/s of `n` concurrent runs of `one`, all checked to have moved FILE bytes. */
async function rate(n: number, one: () => Promise<number>): Promise<number> {
  const t = process.hrtime.bigint();
  const moved = await Promise.all(Array.from({ length: n }, one));
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  for (const m of moved) if (m !== FILE) throw new Error(`a transfer moved ${m} bytes, expected ${FILE}`);
  return (n * FILE) / MB / s;
}

function httpTransfer(
  port: number,
  method: string,
  p: string,
  headers: Record<string, string | number>,
  body?: boolean,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent: false }, (res) => {
      let got = 0;
      let text = '';
      res.on('data', (c: Buffer) => {
        got += c.length;
        if (body) text += c.toString();
      });
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`${method} ${p}: ${res.statusCode} ${text.slice(0, 200)}`));
        else resolve(body ? ((JSON.parse(text || '{"size":0}') as { size?: number }).size ?? FILE) : got);
      });
    });
    req.on('error', reject);
    if (method === 'GET') req.end();
    else
      void (async () => {
        for await (const b of fileBytes()) if (!req.write(b)) await new Promise((r) => req.once('drain', r));
        req.end();
      })();
  });
}

async function resetBucket(db: Db): Promise<void> {
  for (const c of ['fs.files', 'fs.chunks', 'file_pending'])
    await db
      .collection(c)
      .drop()
      .catch(() => undefined);
  await db.collection('fs.chunks').createIndex({ files_id: 1, n: 1 }, { unique: true });
}

async function main(): Promise<void> {
  console.log(
    `==> file transfer benchmark: ${FILE_MB} MB files at concurrency ${LEVELS.join(', ')} (${os.cpus().length} cores)`,
  );
  const store = await startStore();
  const mongo = new MongoClient(store.url);
  await mongo.connect();
  const db = mongo.db();
  const keys = generateKeySet();
  const token = signAccessToken(
    parseKeySet(keys),
    { sub: 'bench', did: 'd', sid: 's', name: 'bench' },
    { ttlMs: 3_600_000 },
  ).token;
  const replicas: ServiceProcess[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-bench-files-'));
  fs.mkdirSync(path.join(dir, 'static'));
  fs.mkdirSync(path.join(dir, 'dav'));
  const staticFile = path.join(dir, 'static', 'file.bin');
  fs.writeFileSync(staticFile, Buffer.concat(Array.from({ length: FILE_MB }, () => PIECE)));
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  try {
    const httpPorts: number[] = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      httpPorts.push(port);
      replicas.push(
        await startService({
          name: 'file-service',
          env: {
            TCE_HTTP_PORT: String(port),
            TCE_FILES_GRPC_PORT: String(await freePort()),
            TCE_MONGO_URL: store.url,
            TCE_TOKEN_KEYS: keys,
            TCE_INTERNAL_KEY: crypto.randomBytes(32).toString('base64'),
            TCE_URL_SIGNING_KEY: crypto.randomBytes(32).toString('base64'),
            TCE_MAX_UPLOAD_BYTES: String(FILE),
          },
        }),
      );
    }
    const port = await freePort();
    const ceilingPort = await freePort();
    nginx = await startNginx({
      http:
        nginxHttpConfig({
          listen: port,
          files: { upstreams: httpPorts.map((p) => `127.0.0.1:${p}`), maxUploadBytes: FILE },
        }) +
        // (a): nginx alone, same machine: static GET and a DAV PUT that stores the body as a file.
        `server {
  listen 127.0.0.1:${ceilingPort};
  location /static/ { root ${dir}; }
  location /dav/ { root ${dir}; dav_methods PUT; client_max_body_size 0; client_body_buffer_size 1m; }
}\n`,
      waitPort: port,
      workerProcesses: 2,
    });
    const auth = { authorization: `Bearer ${token}` };
    const pids = replicas.map((r) => r.process.pid!);
    const rows: Row[] = [];
    const bucket = new GridFSBucket(db);
    let davSeq = 0;

    for (const n of LEVELS) {
      // ---- upload
      await resetBucket(db);
      const peak = pids.map(rssOf);
      const sampler = setInterval(() => pids.forEach((p, i) => (peak[i] = Math.max(peak[i]!, rssOf(p)))), 100);
      const service = await rate(n, () =>
        httpTransfer(
          port,
          'POST',
          '/files',
          { ...auth, 'content-type': 'application/octet-stream', 'content-length': FILE },
          true,
        ),
      );
      clearInterval(sampler);
      await resetBucket(db);
      const driver = await rate(n, async () => {
        const up = bucket.openUploadStream('bench.bin');
        for await (const b of fileBytes()) if (!up.write(b)) await new Promise((r) => up.once('drain', r));
        await new Promise<void>((resolve, reject) => up.end(() => resolve()).once('error', reject));
        return FILE;
      });
      await resetBucket(db);
      const ngx = await rate(n, async () => {
        await httpTransfer(ceilingPort, 'PUT', `/dav/f${davSeq++}.bin`, { 'content-length': FILE });
        return FILE;
      });
      for (const f of fs.readdirSync(path.join(dir, 'dav'))) fs.rmSync(path.join(dir, 'dav', f));
      rows.push({ op: 'upload', n, service, driver, nginx: ngx, rss: peak });
      printRow(rows.at(-1)!);
    }

    // ---- download: one stored file, read N times at once by each path
    await resetBucket(db);
    const id = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/files?name=bench.bin',
          headers: { ...auth, 'content-length': FILE },
        },
        (res) => {
          let t = '';
          res.on('data', (c: Buffer) => (t += c.toString()));
          res.on('end', () =>
            res.statusCode === 201 ? resolve((JSON.parse(t) as { id: string }).id) : reject(new Error(t)),
          );
        },
      );
      req.on('error', reject);
      void (async () => {
        for await (const b of fileBytes()) if (!req.write(b)) await new Promise((r) => req.once('drain', r));
        req.end();
      })();
    });
    for (const n of LEVELS) {
      const peak = pids.map(rssOf);
      const sampler = setInterval(() => pids.forEach((p, i) => (peak[i] = Math.max(peak[i]!, rssOf(p)))), 100);
      const service = await rate(n, () => httpTransfer(port, 'GET', `/files/${id}`, auth));
      clearInterval(sampler);
      const driver = await rate(n, async () => {
        let got = 0;
        for await (const c of bucket.openDownloadStream(id as never)) got += (c as Buffer).length;
        return got;
      });
      const ngx = await rate(n, () => httpTransfer(ceilingPort, 'GET', '/static/file.bin', {}));
      rows.push({ op: 'download', n, service, driver, nginx: ngx, rss: peak });
      printRow(rows.at(-1)!);
    }
    console.log('\n' + table(rows));
  } finally {
    await nginx?.stop();
    for (const r of replicas) await r.stop();
    await mongo.close();
    await store.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function printRow(r: Row): void {
  console.log(
    `    ${r.op} ×${r.n}: service ${r.service.toFixed(1)} MB/s, driver ${r.driver.toFixed(1)} MB/s, nginx ${r.nginx.toFixed(1)} MB/s`,
  );
}

function table(rows: Row[]): string {
  const head = [
    'transfer',
    'concurrent',
    'service MB/s',
    '(b) driver MB/s',
    '(a) nginx MB/s',
    'service/(b)',
    'service/(a)',
    'peak RSS per replica',
  ];
  const lines = rows.map((r) => [
    r.op,
    String(r.n),
    r.service.toFixed(1),
    r.driver.toFixed(1),
    r.nginx.toFixed(1),
    `${((100 * r.service) / r.driver).toFixed(0)}%`,
    `${((100 * r.service) / r.nginx).toFixed(0)}%`,
    r.rss.map((b) => `${(b / MB).toFixed(0)} MB`).join(' / '),
  ]);
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...lines.map((l) => `| ${l.join(' | ')} |`),
  ].join('\n');
}

main().catch((err: unknown) => {
  console.error(`bench-files failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
