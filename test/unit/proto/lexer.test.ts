// Lexer: token positions (1-based, UTF-16 columns), comments, strings.
import assert from 'node:assert/strict';
import { Diagnostics } from '../../../proto/src/diagnostics.js';
import { lex } from '../../../proto/src/lexer.js';

function tokens(text: string): string[] {
  const diags = new Diagnostics();
  const { tokens } = lex(text, 'f.idl', diags);
  assert.equal(diags.count, 0);
  return tokens.map((t) => `${t.loc.line}:${t.loc.column} ${t.kind} ${t.text}`);
}

describe('tce2proto lexer', () => {
  it('positions tokens and skips # and // comments', () => {
    assert.deepEqual(tokens('# top\nmodule A { // c\n\tGeo::Point p; # x\n}'), [
      '2:1 ident module',
      '2:8 ident A',
      '2:10 punct {',
      '3:2 ident Geo',
      '3:5 punct ::',
      '3:7 ident Point',
      '3:13 ident p',
      '3:14 punct ;',
      '4:1 punct }',
      '4:2 eof ',
    ]);
  });

  it('handles CRLF line ends and a byte order mark', () => {
    assert.deepEqual(tokens('\uFEFFmodule\r\nA'), ['1:1 ident module', '2:1 ident A', '2:2 eof ']);
  });

  it('decodes string escapes and signed integers', () => {
    const diags = new Diagnostics();
    const { tokens: t } = lex('[a="x\\"y\\\\z", b=-12]', 'f.idl', diags);
    assert.equal(diags.count, 0);
    assert.equal(t[3].kind, 'string');
    assert.equal(t[3].text, 'x"y\\z');
    assert.equal(t[7].kind, 'int');
    assert.equal(t[7].value, -12);
  });

  it('reports unknown escapes and oversized integers', () => {
    const diags = new Diagnostics();
    lex('"a\\nb" 123456789012345678901', 'f.idl', diags);
    assert.deepEqual(
      diags.sorted(['f.idl']).map((d) => `${d.line}:${d.column} ${d.message}`),
      [
        `1:3 unknown escape sequence '\\n' in string; only \\" and \\\\ are allowed`,
        '1:8 integer literal 123456789012345678901 is too large',
      ],
    );
  });

  it('reports a run of junk characters once', () => {
    const diags = new Diagnostics();
    const { tokens: t } = lex('a @@$% b \u00a0c', 'f.idl', diags);
    assert.deepEqual(
      diags.sorted(['f.idl']).map((d) => `${d.line}:${d.column} ${d.message}`),
      ["1:3 unexpected character '@'", '1:10 unexpected character U+00A0'],
    );
    assert.deepEqual(
      t.map((x) => x.text),
      ['a', 'b', 'c', ''],
    );
  });
});
