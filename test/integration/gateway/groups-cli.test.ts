// Group conversations with the `tce` CLI (bin/tce.js, the SDK underneath)
// through a real gateway, auth, EasyMQ and store: alice creates a group with
// bob and carol, both receive what she sends (marked with the group id), the
// group's sequence leaves the inbox's alone, carol leaves and is then refused.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Group, HistoryPage, SendResult } from '../../../proto/gen/ts/messaging.js';
import type { ReceivedMessage } from '../../../sdk/src/index.js';
import { startPlatform, tceAs, type Platform } from './platform.js';

describe('gateway: group conversations with the tce CLI', function () {
  this.timeout(300_000);
  let p: Platform;
  let dir: string;
  let url: string;
  const tce = tceAs(
    () => dir,
    () => url,
  );
  /** Runs a command that must succeed and returns its stdout. */
  const ok = async (who: string, args: string[]): Promise<string> => {
    const r = await tce(who, args);
    assert.equal(r.code, 0, `tce ${args.join(' ')} as ${who}: ${r.stderr}`);
    return r.stdout;
  };

  before(async function () {
    p = await startPlatform({ gateways: 1 });
    url = p.gateways[0]!.url;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-groups-cli-'));
  });

  after(async function () {
    await p?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('create, send, recv, history, leave, show, add — and non-members are refused', async function () {
    const suffix = crypto.randomBytes(2).toString('hex');
    const ids: Record<string, string> = {};
    for (const who of ['alice', 'bob', 'carol']) {
      const reg = JSON.parse(await ok(who, ['register', `${who}${suffix}`, '--json'])) as { user_id: string };
      ids[who] = reg.user_id;
      await ok(who, ['login', `${who}${suffix}`]);
    }
    const [alice, bob, carol] = [ids.alice!, ids.bob!, ids.carol!];

    const created = JSON.parse(await ok('alice', ['group', 'create', 'trip', bob, carol, '--json'])) as Group;
    const gid = created.group_id;
    assert.match(gid, /^g_.{16}$/);
    assert.equal(created.name, 'trip');
    assert.equal(created.created_by, alice);
    assert.deepEqual([...created.members].sort(), [alice, bob, carol].sort());

    // Two group messages, so that the group's seq runs ahead of bob's (empty) inbox.
    const first = JSON.parse(await ok('alice', ['group', 'send', gid, 'hello', 'group', '--json'])) as SendResult;
    assert.match(first.msg_id, /^m_/);
    assert.equal(first.duplicate, false);
    const second = await ok('alice', ['group', 'send', gid, 'in compact form', '--compact']);
    const secondSeq = Number(/^sent: seq (\d+), id m_/.exec(second)?.[1]);
    assert.ok(secondSeq > first.seq, second);

    for (const who of ['bob', 'carol']) {
      const got = (await ok(who, ['recv', '--count', '1', '--json', '--timeout', '30s'])).trim().split('\n');
      assert.equal(got.length, 1, `${who}: ${got.join('\n')}`);
      const m = JSON.parse(got[0]!) as ReceivedMessage;
      assert.equal(m.group_id, gid, who);
      assert.equal(m.to_user, gid);
      assert.equal(m.from_user, alice);
      assert.equal(m.seq, first.seq);
      assert.equal(m.msg_id, first.msg_id);
      assert.deepEqual(m.items, [{ type: 'text', text: 'hello group' }]);
    }
    // The text form names the group.
    const next = await ok('bob', ['recv', '--count', '1', '--timeout', '30s']);
    assert.match(next, new RegExp(`^\\[[^\\]]+\\] ${gid} #${secondSeq} ${alice}: in compact form\\n$`));
    // Received group messages are not shown again.
    const again = await tce('bob', ['recv', '--count', '1', '--timeout', '2s']);
    assert.deepEqual([again.code, again.stdout], [1, '']);
    // A direct message still arrives: the group's seq did not move bob's inbox cursor.
    await ok('alice', ['send', bob, 'just', 'for', 'bob']);
    const direct = await ok('bob', ['recv', '--count', '1', '--timeout', '30s']);
    assert.match(direct, new RegExp(`^\\[[^\\]]+\\] #1 ${alice}: just for bob\\n$`));

    const history = JSON.parse(await ok('bob', ['group', 'history', gid, '--json'])) as HistoryPage;
    assert.deepEqual(
      history.messages.map((m) => [m.seq, m.group_id]),
      [
        [secondSeq, gid],
        [first.seq, gid],
      ],
    );
    const oldest = JSON.parse(
      await ok('bob', ['group', 'history', gid, '--before', String(secondSeq), '--limit', '5', '--json']),
    ) as HistoryPage;
    assert.deepEqual(
      oldest.messages.map((m) => m.msg_id),
      [first.msg_id],
    );
    assert.match(await ok('carol', ['group', 'list']), new RegExp(`^${gid} "trip"( \\(3 members\\))?\\n$`));

    assert.equal(await ok('carol', ['group', 'leave', gid]), `left group ${gid}\n`);
    const after = JSON.parse(await ok('alice', ['group', 'show', gid, '--json'])) as Group;
    assert.deepEqual([...after.members].sort(), [alice, bob].sort());
    const shown = await ok('bob', ['group', 'show', gid]);
    assert.ok(shown.startsWith(`${gid} "trip", created by ${alice} at `), shown);
    assert.match(shown, /members \(2\):/);
    assert.ok(!shown.includes(carol), shown);
    assert.equal(await ok('carol', ['group', 'list']), '');

    // carol is no longer a member: refused, exit 1, the CLI says why.
    const denied = `tce: PERMISSION_DENIED: not a member of group ${gid}\n`;
    for (const args of [
      ['group', 'show', gid],
      ['group', 'send', gid, 'let me in'],
      ['group', 'history', gid],
      ['group', 'add', gid, carol],
    ]) {
      const r = await tce('carol', args);
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', denied], args.join(' '));
    }

    // A member may add her back.
    const readded = JSON.parse(await ok('bob', ['group', 'add', gid, carol, '--json'])) as Group;
    assert.deepEqual([...readded.members].sort(), [alice, bob, carol].sort());

    const missing = await tce('alice', ['group', 'show', 'g_0000000000000000']);
    assert.deepEqual([missing.code, missing.stderr], [1, 'tce: NOT_FOUND: group g_0000000000000000 not found\n']);
    const badId = await tce('alice', ['group', 'show', 'not-a-group']);
    assert.deepEqual(
      [badId.code, badId.stderr],
      [1, 'tce: INVALID_ARGUMENT: group_id: expected g_ and 16 characters\n'],
    );

    // Bad usage: exit 2 with the usage text.
    for (const args of [['group'], ['group', 'frobnicate'], ['group', 'send', gid], ['group', 'add', gid]]) {
      const r = await tce('alice', args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /usage: tce <command>/);
    }
  });
});
