// Two people chatting with the `tce` CLI (bin/tce.js, the SDK underneath)
// through a real gateway, auth, EasyMQ and file service: register, log in,
// send, receive, presence, history, and a file handed over through the file
// service (resumable upload, resumed download).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, repoRoot, startService, waitFor, type ServiceProcess } from '../../support/index.js';
import { startPlatform, tceAs, type Platform } from './platform.js';

describe('gateway: the tce CLI', function () {
  this.timeout(240_000);
  let p: Platform;
  let files: ServiceProcess;
  let dir: string;
  let url: string;
  const tce = tceAs(
    () => dir,
    () => url,
  );

  before(async function () {
    p = await startPlatform({ gateways: 0 });
    const filesPort = await freePort();
    files = await startService({
      name: 'file-service',
      env: {
        TCE_MONGO_URL: p.store.url,
        TCE_HTTP_PORT: String(filesPort),
        TCE_FILES_GRPC_PORT: String(await freePort()),
        TCE_TOKEN_KEYS: p.keysJson,
        TCE_INTERNAL_KEY: p.internalKey,
        TCE_URL_SIGNING_KEY: crypto.randomBytes(32).toString('base64'),
      },
      timeoutMs: 60_000,
    });
    const g = await p.startGateway('gw-cli', { TCE_FILES_PUBLIC_URL: `http://127.0.0.1:${filesPort}/files` });
    url = g.url;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-cli-'));
  });

  after(async function () {
    await files?.stop();
    await p?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('register, login, send, recv, presence, history, upload and download', async function () {
    const suffix = crypto.randomBytes(2).toString('hex');
    const reg = async (who: string): Promise<string> => {
      const r = await tce(who, ['register', `${who}${suffix}`, '--json']);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { user_id: string }).user_id;
    };
    const aliceId = await reg('alice');
    const bobId = await reg('bob');
    for (const who of ['alice', 'bob']) {
      const r = await tce(who, ['login', `${who}${suffix}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^logged in as ${who}${suffix} \\(user id u_`));
    }

    const sent = await tce('alice', ['send', bobId, 'hello', 'bob']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^sent: seq 1, id m_/);
    const compact = await tce('alice', ['send', bobId, 'in compact form', '--compact']);
    assert.equal(compact.code, 0, compact.stderr);

    const recv = await tce('bob', ['recv', '--count', '2', '--timeout', '30s']);
    assert.equal(recv.code, 0, recv.stderr);
    const lines = recv.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, new RegExp(`#1 ${aliceId}: hello bob$`));
    assert.match(lines[1]!, new RegExp(`#2 ${aliceId}: in compact form$`));
    // Received messages are not shown again.
    const again = await tce('bob', ['recv', '--count', '1', '--timeout', '2s']);
    assert.equal(again.code, 1);
    assert.equal(again.stdout, '');

    // bob's last `recv` has exited; his gateway records the disconnect soon after.
    await waitFor('bob to be offline', async () => {
      const presence = await tce('alice', ['presence', bobId, '--json']);
      assert.equal(presence.code, 0, presence.stderr);
      return (JSON.parse(presence.stdout) as { online: boolean }[])[0]!.online === false;
    });
    const history = await tce('bob', ['history', aliceId, '--json']);
    assert.equal((JSON.parse(history.stdout) as { messages: unknown[] }).messages.length, 2);

    // A file for bob through the file service, then a message pointing at it.
    const original = crypto.randomBytes(3 * 1024 * 1024 + 17);
    fs.writeFileSync(path.join(dir, 'photo.bin'), original);
    const up = await tce('alice', ['upload', path.join(dir, 'photo.bin'), '--to', bobId]);
    assert.equal(up.code, 0, up.stderr);
    const info = JSON.parse(up.stdout) as { id: string; uri: string; size: number; sha256: string };
    assert.equal(info.size, original.length);
    assert.equal(info.sha256, crypto.createHash('sha256').update(original).digest('hex'));
    const mime = JSON.stringify([{ type: 'image', id: info.id, uri: info.uri }]);
    assert.equal((await tce('alice', ['send', bobId, '--mime', mime])).code, 0);
    const target = path.join(dir, 'got.bin');
    fs.writeFileSync(target, original.subarray(0, 1000)); // a partial earlier download
    const down = await tce('bob', ['download', info.uri, '-o', target]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /\(resumed at 1000\)/);
    assert.ok(fs.readFileSync(target).equals(original), 'downloaded bytes equal the upload');
    // Again, with the whole file already there: nothing to fetch, the file unchanged.
    const repeat = await tce('bob', ['download', info.uri, '-o', target]);
    assert.equal(repeat.code, 0, repeat.stderr);
    assert.ok(fs.readFileSync(target).equals(original), 'a finished download stays as it was');
    // A local file longer than the remote one is not a part of it.
    fs.appendFileSync(target, 'extra');
    const longer = await tce('bob', ['download', info.uri, '-o', target]);
    assert.deepEqual(
      [longer.code, longer.stderr],
      [1, `tce: cannot resume at byte ${original.length + 5}: the file has ${original.length} bytes\n`],
    );

    const bad = await tce('alice', ['send', 'u_nobody', 'x']);
    assert.deepEqual([bad.code, bad.stderr], [1, 'tce: NOT_FOUND: no such user: u_nobody\n']);
    const usage = await tce('alice', ['frobnicate']);
    assert.equal(usage.code, 2);
  });

  it('resumes an interrupted upload where the file service has it', async function () {
    const suffix = crypto.randomBytes(2).toString('hex');
    assert.equal((await tce('uma', ['register', `uma${suffix}`])).code, 0);
    assert.equal((await tce('uma', ['login', `uma${suffix}`])).code, 0);
    const home = path.join(dir, 'uma');
    const file = path.join(dir, 'big.bin');
    const original = crypto.randomBytes(32 * 1024 * 1024);
    fs.writeFileSync(file, original);
    // The first run is killed (-9) once the service has part of the file.
    const first = spawn(process.execPath, [path.join(repoRoot, 'bin', 'tce.js'), 'upload', file, '--url', url], {
      env: { ...process.env, TCE_HOME: home },
      stdio: 'ignore',
    });
    try {
      const uploadUrl = await waitFor(
        'the upload URL kept in $TCE_HOME',
        () => {
          try {
            return Object.values(JSON.parse(fs.readFileSync(path.join(home, 'uploads.json'), 'utf8')) as object)[0] as
              string | undefined;
          } catch {
            return undefined;
          }
        },
        { timeoutMs: 30_000, intervalMs: 10 },
      );
      const token = (JSON.parse(fs.readFileSync(path.join(home, 'session.json'), 'utf8')) as { accessToken: string })
        .accessToken;
      await waitFor(
        'part of the file at the service',
        async () => {
          const res = await fetch(uploadUrl, {
            method: 'HEAD',
            headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' },
          });
          return Number(res.headers.get('upload-offset') ?? 0) > 0;
        },
        { timeoutMs: 30_000, intervalMs: 10 },
      );
    } finally {
      first.kill('SIGKILL');
    }
    fs.copyFileSync(path.join(home, 'uploads.json'), path.join(home, 'uploads.json.keep'));
    const again = await tce('uma', ['upload', file]);
    assert.equal(again.code, 0, again.stderr);
    const m = /^resumed at (\d+) of 33554432 bytes\n$/.exec(again.stderr);
    assert.ok(m && Number(m[1]) > 0 && Number(m[1]) < original.length, `stderr: ${again.stderr}`);
    const info = JSON.parse(again.stdout) as { size: number; sha256: string };
    assert.deepEqual(
      [info.size, info.sha256],
      [original.length, crypto.createHash('sha256').update(original).digest('hex')],
    );
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(home, 'uploads.json'), 'utf8')), {});
    // A third run starts a new upload (nothing pending any more).
    const third = await tce('uma', ['upload', file]);
    assert.deepEqual([third.code, third.stderr], [0, '']);
    // A pending upload whose URL answers nothing any more (another server, gone) starts over.
    const pending = path.join(home, 'uploads.json');
    const key = Object.keys(JSON.parse(fs.readFileSync(path.join(home, 'uploads.json.keep'), 'utf8')) as object)[0]!;
    fs.writeFileSync(pending, JSON.stringify({ [key]: 'http://127.0.0.1:1/files/uploads/gone' }));
    const fresh = await tce('uma', ['upload', file]);
    assert.deepEqual([fresh.code, fresh.stderr], [0, '']);
    assert.equal((JSON.parse(fresh.stdout) as { size: number }).size, original.length);
    assert.deepEqual(JSON.parse(fs.readFileSync(pending, 'utf8')), {});
  });
});
