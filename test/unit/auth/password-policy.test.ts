// Password policy as a table: accepted passwords (and their normalisation),
// refused ones with exact messages that never echo the password.
import assert from 'node:assert/strict';
import { checkLoginPassword, checkNewPassword } from '../../../services/auth/src/password-policy.js';
import { parseUsername } from '../../../services/auth/src/username.js';

describe('auth: password policy', function () {
  const bob = parseUsername('Bob', 'username');

  const accepted: [string, string, string][] = [
    ['a passphrase with spaces', 'correct horse battery staple', 'correct horse battery staple'],
    ['exactly 8 characters', 'g7#kP2!x', 'g7#kP2!x'],
    ['any script', '密码很长很安全的', '密码很长很安全的'],
    ['emoji count as one character each', '🔑🔒🗝️🛡️🔑🔒🗝️', '🔑🔒🗝️🛡️🔑🔒🗝️'],
    ['fullwidth is normalised (NFKC)', 'ｐａｓｓｐｈｒａｓｅ ９', 'passphrase 9'],
    ['exactly 128 characters', 'ab'.repeat(64), 'ab'.repeat(64)],
  ];

  for (const [what, raw, normalised] of accepted) {
    it(`accepts ${what}`, function () {
      assert.equal(checkNewPassword(raw, bob, 'password'), normalised);
    });
  }

  const refused: [string, unknown, string][] = [
    ['a number', 12345678, 'password must be a string'],
    ['empty', '', 'password is required'],
    ['7 characters', 'g7#kP2!', 'password is too short (7 characters; at least 8)'],
    ['7 emoji (code points, not UTF-16 units)', '🔑🔒🗝🛡🔑🔒🗝', 'password is too short (7 characters; at least 8)'],
    ['129 characters', 'ab'.repeat(64) + 'c', 'password is too long (129 characters; at most 128)'],
    ['a control character', 'good\u0000password', 'password contains a control character U+0000'],
    ['a lone surrogate', 'good\ud800password', 'password contains a control character U+D800'],
    ['common', 'password1', 'password is too common; choose a less guessable one'],
    ['common, other case', 'PassWord123', 'password is too common; choose a less guessable one'],
    ['one character repeated', '00000000000', 'password must not be one character repeated'],
    ['alphabet run', 'cdefghijk', "password must not be a simple sequence such as 'abcdefgh' or '12345678'"],
    ['digit run backwards', '98765432', "password must not be a simple sequence such as 'abcdefgh' or '12345678'"],
    ['keyboard row', 'qwertyuio', "password must not be a simple sequence such as 'abcdefgh' or '12345678'"],
    ['contains the username', 'my bob password', 'password must not contain the username'],
    ['contains the username, other case', 'xxBOBxxxx', 'password must not contain the username'],
  ];

  for (const [what, raw, message] of refused) {
    it(`refuses ${what}`, function () {
      assert.throws(
        () => checkNewPassword(raw, bob, 'password'),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'INVALID_ARGUMENT');
          assert.equal(err.message, message);
          if (typeof raw === 'string' && raw.length > 3) assert.ok(!err.message.includes(raw), 'no echo');
          return true;
        },
      );
    });
  }

  it('at login checks only the shape, so a later policy change never locks anyone out', function () {
    assert.equal(checkLoginPassword('short', 'passwd'), 'short');
    assert.equal(checkLoginPassword('password', 'passwd'), 'password');
    assert.equal(checkLoginPassword('ｐｗ', 'passwd'), 'pw');
    assert.throws(() => checkLoginPassword('', 'passwd'), { message: 'passwd is required' });
    assert.throws(() => checkLoginPassword(undefined, 'passwd'), { message: 'passwd must be a string' });
    assert.throws(() => checkLoginPassword('x'.repeat(1025), 'passwd'), {
      message: 'passwd is too long (1025 characters; at most 1024)',
    });
    assert.throws(() => checkLoginPassword('a\u0007b', 'passwd'), {
      message: 'passwd contains a control character U+0007',
    });
  });
});
