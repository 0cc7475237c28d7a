// Every bad input, written out with its exact code and message: through the
// generated proxy (what a well-behaved client can still get wrong) and as raw
// gRPC bytes (wrong wire types, invalid UTF-8, garbage) — INVALID_ARGUMENT,
// never INTERNAL, and the process keeps serving. Logs (at debug level) never
// contain a password, a password hash or a refresh token.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { IDENTITY_HEADER, signIdentity, type PlatformError } from '../../../services/runtime/src/index.js';
import type { Token } from '../../../proto/gen/ts/auth.js';
import { GOOD_PASSWORD, startAuthStack, uniqueName, type AuthStack } from './harness.js';

const ALLOWED = "use ASCII letters a-z, digits 0-9, '.', '_' or '-'";
const bad = (message: string) => ({ code: 'INVALID_ARGUMENT', message });

describe('auth service: bad input', function () {
  let s: AuthStack;
  let name: string;
  let token: Token;
  const secrets: string[] = [];

  before(async function () {
    s = await startAuthStack({ TCE_LOG_LEVEL: 'debug' });
    name = uniqueName('valid');
    await s.anon().registerUser({ username: name, password: GOOD_PASSWORD, display_name: '', email: '' });
    token = await s.anon().userAuth(name, GOOD_PASSWORD, 'web');
    secrets.push(GOOD_PASSWORD, token.refresh_token, token.refresh_token.split('.')[2]!);
  });

  after(async function () {
    await s?.stop();
  });

  const usernameCases: [string, unknown, string][] = [
    ['empty', '', 'info.username is required'],
    ['too short', 'ab', 'info.username is too short (2 characters; at least 3)'],
    ['too long', 'a'.repeat(33), 'info.username is too long (33 characters; at most 32)'],
    ['huge', 'x'.repeat(1_000_000), 'info.username is too long (1000000 characters; at most 32)'],
    ['NUL', 'bob\u0000by', `info.username contains a control character U+0000, which is not allowed; ${ALLOWED}`],
    ['escape', '\u001b[31mbob', `info.username contains a control character U+001B, which is not allowed; ${ALLOWED}`],
    [
      'zero-width space',
      'bob\u200bby',
      `info.username contains an invisible formatting character U+200B, which is not allowed; ${ALLOWED}`,
    ],
    [
      'right-to-left override',
      'bob\u202eyb',
      `info.username contains an invisible formatting character U+202E, which is not allowed; ${ALLOWED}`,
    ],
    ['space', 'bob by', `info.username contains a space U+0020, which is not allowed; ${ALLOWED}`],
    ['tab', 'bob\tby', `info.username contains a control character U+0009, which is not allowed; ${ALLOWED}`],
    ['ideographic space', 'bob\u3000by', `info.username contains a space U+3000, which is not allowed; ${ALLOWED}`],
    [
      'Cyrillic look-alike',
      'p\u0430ypal',
      `info.username contains 'а' (U+0430), which looks like 'a' but is not ASCII; ${ALLOWED}`,
    ],
    [
      'Greek look-alike',
      '\u039fscar',
      `info.username contains 'Ο' (U+039F), which looks like 'O' but is not ASCII; ${ALLOWED}`,
    ],
    ['accented letter', 'José', `info.username contains 'é' (U+00E9), which is not allowed; ${ALLOWED}`],
    ['CJK', '用户名', `info.username contains '用' (U+7528), which is not allowed; ${ALLOWED}`],
    [
      'SQL injection',
      "robert'); DROP TABLE users;--",
      `info.username contains ''' (U+0027), which is not allowed; ${ALLOWED}`,
    ],
    ['NoSQL operator', '{"$gt":""}', `info.username contains '{' (U+007B), which is not allowed; ${ALLOWED}`],
    ['$where', '$where', `info.username contains '$' (U+0024), which is not allowed; ${ALLOWED}`],
    ['HTML', '<script>alert(1)</script>', `info.username contains '<' (U+003C), which is not allowed; ${ALLOWED}`],
    ['path traversal', '../../etc/passwd', `info.username contains '/' (U+002F), which is not allowed; ${ALLOWED}`],
    ['LDAP wildcard', 'adm*', `info.username contains '*' (U+002A), which is not allowed; ${ALLOWED}`],
    ['leading digit', '1alice', 'info.username must start with a letter'],
    ['trailing dot', 'alice.', 'info.username must end with a letter or a digit'],
    ['double separator', 'al..ice', "info.username must not contain '..' (two separators in a row)"],
    ['reserved', 'Admin', "info.username 'Admin' is reserved"],
    ['reserved, fullwidth', 'ｒｏｏｔ', "info.username 'root' is reserved"],
    ['reserved, with separators', 'sys-tem', "info.username 'sys-tem' is reserved"],
  ];

  for (const [what, username, message] of usernameCases) {
    it(`registerUser refuses a username: ${what}`, async function () {
      await assert.rejects(
        s.anon().registerUser({ username: username as string, password: GOOD_PASSWORD, display_name: '', email: '' }),
        bad(message),
      );
    });
  }

  const profileCases: [string, { password?: string; display_name?: string; email?: string }, string][] = [
    ['empty password', { password: '' }, 'info.password is required'],
    ['short password', { password: 'short' }, 'info.password is too short (5 characters; at least 8)'],
    ['long password', { password: 'p'.repeat(129) + 'q' }, 'info.password is too long (130 characters; at most 128)'],
    ['common password', { password: 'Password123' }, 'info.password is too common; choose a less guessable one'],
    ['repeated character', { password: 'zzzzzzzzzz' }, 'info.password must not be one character repeated'],
    [
      'sequence',
      { password: 'abcdefghij' },
      "info.password must not be a simple sequence such as 'abcdefgh' or '12345678'",
    ],
    ['control character', { password: 'good pass\u0007word' }, 'info.password contains a control character U+0007'],
    [
      'display name too long',
      { display_name: 'x'.repeat(65) },
      'info.display_name is too long (65 characters; at most 64)',
    ],
    [
      'display name with bidi override',
      { display_name: 'Evil\u202etxt.exe' },
      'info.display_name contains an invisible formatting character U+202E, which is not allowed',
    ],
    [
      'display name with a newline',
      { display_name: 'two\nlines' },
      'info.display_name contains a control character U+000A, which is not allowed',
    ],
    ['bad e-mail', { email: 'not-an-email' }, "info.email is not a valid e-mail address: 'not-an-email'"],
    ['e-mail without a dotted domain', { email: 'a@b' }, "info.email is not a valid e-mail address: 'a@b'"],
    [
      'e-mail with a header injection',
      { email: 'a@b.c\r\nBcc: x@y.z' },
      'info.email contains a control character U+000D, which is not allowed',
    ],
  ];

  for (const [what, fields, message] of profileCases) {
    it(`registerUser refuses: ${what}`, async function () {
      await assert.rejects(
        s.anon().registerUser({
          username: uniqueName('profile'),
          password: GOOD_PASSWORD,
          display_name: '',
          email: '',
          ...fields,
        }),
        bad(message),
      );
    });
  }

  it('registerUser refuses a password that contains the username', async function () {
    const n = uniqueName('Dave');
    await assert.rejects(
      s.anon().registerUser({ username: n, password: `my ${n.toLowerCase()} pass`, display_name: '', email: '' }),
      bad('info.password must not contain the username'),
    );
  });

  it('userAuth refuses bad parameters before any password work', async function () {
    const p = s.anon();
    await assert.rejects(p.userAuth('', GOOD_PASSWORD, 'web'), bad('user is required'));
    await assert.rejects(p.userAuth(name, '', 'web'), bad('passwd is required'));
    await assert.rejects(
      p.userAuth(name, GOOD_PASSWORD, ''),
      bad("device_type is required (e.g. 'android', 'ios' or 'web')"),
    );
    await assert.rejects(
      p.userAuth(name, GOOD_PASSWORD, 'Android Phone'),
      bad(
        "device_type must be 1-32 characters of a-z, 0-9, '_' or '-', starting with a letter (e.g. 'android'), got 'Android Phone'",
      ),
    );
    await assert.rejects(
      p.userAuth(name, 'x'.repeat(2000), 'web'),
      bad('passwd is too long (2000 characters; at most 1024)'),
    );
    await assert.rejects(
      p.userAuth("admin' OR '1'='1", GOOD_PASSWORD, 'web'),
      bad(`user contains ''' (U+0027), which is not allowed; ${ALLOWED}`),
    );
    await assert.rejects(
      p.userAuth('x'.repeat(300), GOOD_PASSWORD, 'web'),
      bad('user is too long (300 characters; at most 32)'),
    );
  });

  it('refresh, getUser, logout and revokeSession refuse malformed ids and tokens', async function () {
    const p = s.anon();
    const me = s.as(token);
    await assert.rejects(p.refresh('', 'web'), bad('refresh_token is required'));
    await assert.rejects(p.refresh('garbage', 'web'), bad('refresh_token is not a refresh token (no rt1. prefix)'));
    await assert.rejects(p.refresh('rt1.s_x.y', 'web'), bad('refresh_token is not a refresh token (a bad shape)'));
    await assert.rejects(
      p.refresh(token.refresh_token, ''),
      bad("device_type is required (e.g. 'android', 'ios' or 'web')"),
    );
    await assert.rejects(p.getUser(''), bad('user_id is required'));
    await assert.rejects(p.getUser('bob'), bad("user_id is not a user id (u_ and 16 characters): 'bob'"));
    await assert.rejects(
      p.getUser('{"$ne":null}'),
      bad('user_id is not a user id (u_ and 16 characters): \'{"$ne":null}\''),
    );
    await assert.rejects(me.logout('junk', false), bad('refresh_token is not a refresh token (no rt1. prefix)'));
    await assert.rejects(me.revokeSession(''), bad('session_id is required'));
    await assert.rejects(
      me.revokeSession('s_\u0000'),
      bad("session_id is not a session id (s_ and 16 characters): 's_\\u{0}'"),
    );
    await assert.rejects(me.changePassword('', 'a new good passphrase'), bad('old_passwd is required'));
    await assert.rejects(
      me.changePassword(GOOD_PASSWORD, 'short'),
      bad('new_passwd is too short (5 characters; at least 8)'),
    );
  });

  describe('raw gRPC requests', function () {
    let client: grpc.Client;

    before(function () {
      client = new grpc.Client(s.addr, grpc.credentials.createInsecure());
    });

    after(function () {
      client.close();
    });

    function raw(method: string, body: number[], md = new grpc.Metadata()): Promise<Buffer> {
      return new Promise((resolve, reject) =>
        client.makeUnaryRequest(
          `/auth.IAuthServer/${method}`,
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from(body),
          md,
          { deadline: Date.now() + 30_000 },
          (err, res) => (err ? reject(err) : resolve(res!)),
        ),
      );
    }

    const rawBad = (details: string) => (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.details);
      assert.equal(err.details, details);
      return true;
    };

    const str = (field: number, text: string): number[] => {
      const b = [...Buffer.from(text)];
      return [(field << 3) | 2, b.length, ...b];
    };

    it('a number where a string belongs', async function () {
      await assert.rejects(
        raw('userAuth', [0x08, 0x05]),
        rawBad('user must be a string, got a number or boolean (varint)'),
      );
      await assert.rejects(
        raw('userAuth', [...str(1, name), 0x15, 1, 2, 3, 4]),
        rawBad('passwd must be a string, got a 32-bit number'),
      );
    });

    it('a wrong type inside the UserInfo struct', async function () {
      await assert.rejects(
        raw('registerUser', [0x0a, 0x02, 0x08, 0x01]),
        rawBad('info.username must be a string, got a number or boolean (varint)'),
      );
    });

    it('a string where the UserInfo struct belongs', async function () {
      await assert.rejects(
        raw('registerUser', str(1, 'bob')),
        rawBad('info is not a valid protobuf message (truncated or corrupt)'),
      );
    });

    it('a string where a boolean belongs (with a valid identity)', async function () {
      const md = new grpc.Metadata();
      md.set(IDENTITY_HEADER, signIdentity({ userId: token.user_id, deviceId: token.device_id }, s.internalKey));
      await assert.rejects(
        raw('logout', str(2, 'true'), md),
        rawBad('all_devices must be a boolean, got a string, bytes or a message'),
      );
    });

    it('invalid UTF-8 text', async function () {
      await assert.rejects(raw('userAuth', [0x0a, 0x02, 0xff, 0xfe]), rawBad('user is not valid UTF-8 text'));
    });

    it('bytes that are not protobuf at all', async function () {
      await assert.rejects(
        raw('userAuth', [0xff, 0xff, 0xff]),
        rawBad('request is not a valid protobuf message (truncated or corrupt)'),
      );
      await assert.rejects(
        raw('getUser', [0x0a, 0x7f, 0x41]),
        rawBad('request is not a valid protobuf message (truncated or corrupt)'),
      );
    });

    it('an empty message is an empty parameter', async function () {
      await assert.rejects(raw('userAuth', []), rawBad('user is required'));
      await assert.rejects(raw('registerUser', []), rawBad('info.username is required'));
    });

    it('unknown fields are ignored (forward compatibility)', async function () {
      const res = await raw('userAuth', [...str(1, name), ...str(2, GOOD_PASSWORD), ...str(3, 'web'), ...str(99, 'x')]);
      assert.ok(res.length > 100, 'a Token came back');
    });

    it('a message over the size limit is refused by gRPC, and the process lives on', async function () {
      await assert.rejects(
        raw('userAuth', str(1, 'a'.repeat(100)).concat(new Array(5 * 1024 * 1024).fill(0))),
        (err: grpc.ServiceError) => {
          assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
          return true;
        },
      );
    });
  });

  it('survived all of it: still serving, nothing INTERNAL, no secrets in the logs', async function () {
    assert.ok(s.auth.process.running);
    const res = await fetch(`http://127.0.0.1:${s.auth.opsPort}/readyz`);
    assert.equal(res.status, 200);
    await s.anon().userAuth(name, GOOD_PASSWORD, 'web');
    const metrics = await (await fetch(`http://127.0.0.1:${s.auth.opsPort}/metrics`)).text();
    assert.doesNotMatch(metrics, /tce_rpc_handled_total\{[^}]*code="INTERNAL"/);
    assert.match(metrics, /tce_rpc_handled_total\{[^}]*code="INVALID_ARGUMENT"/);
    const logs = s.auth.process.output(200);
    assert.match(logs, /Logged in/, 'debug logs were captured');
    for (const secret of secrets) assert.ok(!logs.includes(secret), 'a secret leaked into the logs');
    assert.doesNotMatch(logs, /\$scrypt\$/);
    const err = (await s
      .anon()
      .getUser('u_AAAAAAAAAAAAAAAA')
      .catch((e: unknown) => e)) as PlatformError;
    assert.equal(err.code, 'NOT_FOUND');
  });
});
