// The other request fields: device type, display name, e-mail, ids, the
// forwarded device id and refresh-token shapes — accepted forms and exact refusals.
import assert from 'node:assert/strict';
import {
  parseDeviceId,
  parseDeviceType,
  parseDisplayName,
  parseEmail,
  parseSessionId,
  parseUserId,
  preview,
} from '../../../services/auth/src/fields.js';
import { newDeviceId, newSessionId, newUserId } from '../../../services/auth/src/ids.js';
import { hashSecret, newRefreshToken, parseRefreshToken, sameHash } from '../../../services/auth/src/refresh-token.js';

const refusal = (message: string) => ({ code: 'INVALID_ARGUMENT', message });

describe('auth: request fields', function () {
  it('device types are short lower-case words', function () {
    assert.equal(parseDeviceType('Android'), 'android');
    assert.equal(parseDeviceType('web-2'), 'web-2');
    assert.throws(() => parseDeviceType(''), refusal("device_type is required (e.g. 'android', 'ios' or 'web')"));
    assert.throws(() => parseDeviceType(3), refusal('device_type must be a string'));
    assert.throws(
      () => parseDeviceType('x'.repeat(33)),
      refusal(
        `device_type must be 1-32 characters of a-z, 0-9, '_' or '-', starting with a letter (e.g. 'android'), got '${'x'.repeat(33)}'`,
      ),
    );
  });

  const displayNames: [string, unknown, string | { message: string }][] = [
    ['any script and emoji', '王小明 🐉', '王小明 🐉'],
    ['emoji with joiners', '👩‍👩‍👧', '👩‍👩‍👧'],
    ['trimmed', '  Ann  ', 'Ann'],
    ['NFC', 'Jose\u0301', 'José'],
    ['empty is allowed (defaults to the username)', '', ''],
    ['64 characters', 'é'.repeat(64), 'é'.repeat(64)],
    ['65 characters', 'é'.repeat(65), refusal('name is too long (65 characters; at most 64)')],
    ['a tab', 'a\tb', refusal('name contains a control character U+0009, which is not allowed')],
    [
      'bidi override',
      'a\u202eb',
      refusal('name contains an invisible formatting character U+202E, which is not allowed'),
    ],
    [
      'zero-width space',
      'a\u200bb',
      refusal('name contains an invisible formatting character U+200B, which is not allowed'),
    ],
    ['line separator', 'a\u2028b', refusal('name contains a space U+2028, which is not allowed')],
    ['two spaces', 'a  b', refusal('name must not contain two spaces in a row')],
    ['not a string', ['x'], refusal('name must be a string')],
  ];

  for (const [what, raw, want] of displayNames) {
    it(`display name: ${what}`, function () {
      if (typeof want === 'string') assert.equal(parseDisplayName(raw, 'name'), want);
      else assert.throws(() => parseDisplayName(raw, 'name'), want);
    });
  }

  it('e-mail addresses: optional, one @, dotted domain, domain lower-cased', function () {
    assert.equal(parseEmail('', 'email'), '');
    assert.equal(parseEmail(' Ann.Lee+tag@Mail.Example.COM ', 'email'), 'Ann.Lee+tag@mail.example.com');
    assert.equal(parseEmail('用户@例子.中国', 'email'), '用户@例子.中国');
    for (const bad of ['plain', '@example.com', 'a@b', 'a@@b.c', 'a@b..c', 'a@.b', '"a"@b.c', 'a@b.c,d@e.f']) {
      assert.throws(
        () => parseEmail(bad, 'email'),
        refusal(`email is not a valid e-mail address: ${preview(bad)}`),
        bad,
      );
    }
    assert.throws(() => parseEmail('a b@c.d', 'email'), refusal('email contains a space U+0020, which is not allowed'));
    assert.throws(
      () => parseEmail(`${'a'.repeat(250)}@b.cd`, 'email'),
      refusal('email is too long (255 characters; at most 254)'),
    );
  });

  it('ids: generated ones parse, anything else is refused with a preview', function () {
    assert.equal(parseUserId(newUserId()).length, 18);
    assert.equal(parseSessionId(newSessionId()).length, 18);
    assert.match(newDeviceId(), /^d_[A-Za-z0-9_-]{16}$/);
    assert.throws(() => parseUserId(''), refusal('user_id is required'));
    assert.throws(() => parseUserId(5), refusal('user_id must be a string'));
    assert.throws(
      () => parseUserId('s_AAAAAAAAAAAAAAAA'),
      refusal("user_id is not a user id (u_ and 16 characters): 's_AAAAAAAAAAAAAAAA'"),
    );
    assert.throws(
      () => parseSessionId('x'.repeat(100)),
      refusal(`session_id is not a session id (s_ and 16 characters): '${'x'.repeat(40)}…'`),
    );
    assert.equal(preview('a\u0000b'), "'a\\u{0}b'");
  });

  it('device ids forwarded by the gateway', function () {
    assert.equal(parseDeviceId(undefined, 'd'), undefined);
    assert.equal(parseDeviceId('', 'd'), undefined);
    assert.equal(parseDeviceId('IMEI:35-209900-176148-1', 'd'), 'IMEI:35-209900-176148-1');
    assert.throws(
      () => parseDeviceId('a/b', 'd'),
      refusal("d must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-', got 'a/b'"),
    );
  });

  it('refresh tokens: generated ones parse to the stored hash; others are refused without echo', function () {
    const sid = newSessionId();
    const rt = newRefreshToken(sid);
    const parsed = parseRefreshToken(rt.token);
    assert.deepEqual(parsed, { sessionId: sid, hash: rt.hash });
    assert.equal(rt.hash, hashSecret(rt.token.split('.')[2]!));
    assert.ok(sameHash(rt.hash, parsed.hash));
    assert.ok(!sameHash(rt.hash, hashSecret('other')));
    assert.ok(!sameHash('', ''));
    assert.throws(() => parseRefreshToken(''), refusal('refresh_token is required'));
    assert.throws(() => parseRefreshToken(null), refusal('refresh_token must be a string'));
    assert.throws(
      () => parseRefreshToken(`${rt.token}x`),
      refusal('refresh_token is not a refresh token (a bad shape)'),
    );
    assert.throws(
      () => parseRefreshToken('Bearer abc'),
      refusal('refresh_token is not a refresh token (no rt1. prefix)'),
    );
    assert.throws(
      () => parseRefreshToken('x'.repeat(300)),
      refusal('refresh_token is not a refresh token (300 characters)'),
    );
  });
});
