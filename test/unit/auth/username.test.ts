// Username rules as a table: what is accepted (and how it normalises) and
// what is refused, with the exact message.
import assert from 'node:assert/strict';
import { checkNotReserved, parseUsername } from '../../../services/auth/src/username.js';

const ALLOWED = "use ASCII letters a-z, digits 0-9, '.', '_' or '-'";

describe('auth: usernames', function () {
  const accepted: [string, string, { display: string; key: string }][] = [
    ['plain', 'alice', { display: 'alice', key: 'alice' }],
    ['case kept for display, folded for the key', 'Alice', { display: 'Alice', key: 'alice' }],
    ['separators', 'j.doe_99-x', { display: 'j.doe_99-x', key: 'j.doe_99-x' }],
    ['fullwidth folds to ASCII (NFKC)', 'ａｌｉｃｅ', { display: 'alice', key: 'alice' }],
    ['mathematical letters fold (NFKC)', '𝐛𝐨𝐛', { display: 'bob', key: 'bob' }],
    ['ligature folds (NFKC)', 'ﬁnn', { display: 'finn', key: 'finn' }],
    ['exactly 3', 'abc', { display: 'abc', key: 'abc' }],
    ['exactly 32', 'a'.repeat(32), { display: 'a'.repeat(32), key: 'a'.repeat(32) }],
  ];

  for (const [what, raw, want] of accepted) {
    it(`accepts ${what}`, function () {
      assert.deepEqual(parseUsername(raw, 'username'), want);
    });
  }

  const refused: [string, unknown, string][] = [
    ['a number', 42, 'username must be a string'],
    ['null', null, 'username must be a string'],
    ['an object', { $gt: '' }, 'username must be a string'],
    ['empty', '', 'username is required'],
    ['too short', 'ab', 'username is too short (2 characters; at least 3)'],
    ['too long', 'a'.repeat(33), 'username is too long (33 characters; at most 32)'],
    ['huge (refused before normalising)', '𝐚'.repeat(300), 'username is too long (300 characters; at most 32)'],
    ['NUL', 'a\u0000bc', `username contains a control character U+0000, which is not allowed; ${ALLOWED}`],
    ['DEL', 'abc\u007f', `username contains a control character U+007F, which is not allowed; ${ALLOWED}`],
    ['C1 control', 'abc\u0085', `username contains a control character U+0085, which is not allowed; ${ALLOWED}`],
    ['newline', 'abc\n', `username contains a control character U+000A, which is not allowed; ${ALLOWED}`],
    [
      'zero-width joiner',
      'ab\u200dc',
      `username contains an invisible formatting character U+200D, which is not allowed; ${ALLOWED}`,
    ],
    [
      'BOM',
      '\ufeffabc',
      `username contains an invisible formatting character U+FEFF, which is not allowed; ${ALLOWED}`,
    ],
    [
      'bidi isolate',
      'abc\u2066',
      `username contains an invisible formatting character U+2066, which is not allowed; ${ALLOWED}`,
    ],
    ['no-break space', 'ab\u00a0c', `username contains a space U+00A0, which is not allowed; ${ALLOWED}`],
    [
      'lone surrogate',
      'ab\ud800c',
      `username contains an unpaired surrogate (invalid text) U+D800, which is not allowed; ${ALLOWED}`,
    ],
    [
      'private use',
      'ab\ue000c',
      `username contains an unassigned or private-use character U+E000, which is not allowed; ${ALLOWED}`,
    ],
    ['Cyrillic a', 'p\u0430ypal', `username contains 'а' (U+0430), which looks like 'a' but is not ASCII; ${ALLOWED}`],
    [
      'Cyrillic o',
      'g\u043e\u043egle',
      `username contains 'о' (U+043E), which looks like 'o' but is not ASCII; ${ALLOWED}`,
    ],
    [
      'Greek omicron',
      'micr\u03bfsoft',
      `username contains 'ο' (U+03BF), which looks like 'o' but is not ASCII; ${ALLOWED}`,
    ],
    ['dotless i', 'adm\u0131n', `username contains 'ı' (U+0131), which looks like 'i' but is not ASCII; ${ALLOWED}`],
    ['combining accent', 'jose\u0301', `username contains 'é' (U+00E9), which is not allowed; ${ALLOWED}`],
    ['emoji', 'bob😀', `username contains '😀' (U+1F600), which is not allowed; ${ALLOWED}`],
    ['quote', "o'brien", `username contains ''' (U+0027), which is not allowed; ${ALLOWED}`],
    ['at sign', 'bob@example.com', `username contains '@' (U+0040), which is not allowed; ${ALLOWED}`],
    ['dollar', '$where', `username contains '$' (U+0024), which is not allowed; ${ALLOWED}`],
    ['first offending character wins', "ab'c d", `username contains ''' (U+0027), which is not allowed; ${ALLOWED}`],
    [
      'parenthesised digit folds to punctuation',
      'ab⑴c',
      `username contains '(' (U+0028), which is not allowed; ${ALLOWED}`,
    ],
    ['leading digit', '9lives', 'username must start with a letter'],
    ['leading separator', '_bob', 'username must start with a letter'],
    ['trailing separator', 'bob-', 'username must end with a letter or a digit'],
    ['double separator', 'bo._b', "username must not contain '._' (two separators in a row)"],
  ];

  for (const [what, raw, message] of refused) {
    it(`refuses ${what}`, function () {
      assert.throws(() => parseUsername(raw, 'username'), { code: 'INVALID_ARGUMENT', message });
    });
  }

  it('names the parameter it checks', function () {
    assert.throws(() => parseUsername('', 'info.username'), { message: 'info.username is required' });
  });

  it('refuses reserved names, also through case, separators and NFKC', function () {
    for (const raw of ['admin', 'ADMIN', 'ad.min', 'Sys-Tem', 'ｒｏｏｔ', 'no_reply']) {
      const u = parseUsername(raw, 'username');
      assert.throws(() => checkNotReserved(u, 'username'), { message: `username '${u.display}' is reserved` }, raw);
    }
    checkNotReserved(parseUsername('admiral', 'username'), 'username');
  });
});
