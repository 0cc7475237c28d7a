// Two people chatting with the `tce` CLI (bin/tce.js, the SDK underneath)
// through a real gateway, auth, EasyMQ and file service: register, log in,
// send, receive, presence, history, and a file handed over through the file
// service (resumable upload, resumed download).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startService, waitFor, type ServiceProcess } from '../../support/index.js';
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
});
