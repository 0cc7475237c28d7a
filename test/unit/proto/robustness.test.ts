// Property tests: whatever the input, compile() returns (never throws) either
// a clean success or at least one diagnostic positioned inside the file.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CompileResult } from '../../../proto/src/compiler.js';
import { compileSources } from './helpers.js';

const VALID = `import Common
# The platform's auth service.
module Auth {
  struct User {
    long id;
    string name;
    sequence<byte> avatar;
    dictionary<string, sequence<int>> scores;
    sequence<Common::Tag> tags;
  };
  [index=1, comment="Auth \\"server\\"", skeleton_java=false]
  interface IAuthServer extends Common::IBase {
    [index=11] string userAuth(string user, string passwd, int device_type);
    void registerUser(User info); // comment
    sequence<sequence<User>> search(dictionary<int, User> from);
  };
}
`;

const COMMON = `import main // a cycle back to the root file
module Common {
  struct Tag { string text; };
  interface IBase { void ping(); };
}
`;

const VOCAB = [
  'module',
  'import',
  'struct',
  'interface',
  'extends',
  'sequence',
  'dictionary',
  'void',
  'byte',
  'short',
  'int',
  'long',
  'float',
  'double',
  'string',
  'bool',
  'A',
  'B',
  'Common',
  'Tag',
  'IBase',
  'x',
  'y',
  'from',
  'class',
  'index',
  'comment',
  'true',
  'false',
  '{',
  '}',
  '(',
  ')',
  '<',
  '>',
  '[',
  ']',
  ',',
  ';',
  '=',
  '::',
  ':',
  '"text"',
  '"open',
  '"a\\"b"',
  '"\\q"',
  '12',
  '-3',
  '99999999999999999999',
  '// c\n',
  '# c\n',
  '\n',
  '\t',
  '$',
  'é',
  '\u0000',
  '/',
  '-',
  '\uD83D\uDE00',
];

/** Lines of a file as the compiler counts them: only '\n' ends a line; a leading BOM is ignored. */
function inside(text: string, line: number, column: number): boolean {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  return line >= 1 && line <= lines.length && column >= 1 && column <= lines[line - 1].length + 1;
}

function check(sources: Record<string, string>): void {
  let r: CompileResult | undefined;
  try {
    r = compileSources(sources, { files: ['main.idl'], includeDirs: ['inc', '.'] });
  } catch (e) {
    assert.fail(`compile threw: ${String(e)}`);
  }
  if (r.ok) {
    assert.equal(r.diagnostics.length, 0);
    assert.ok(r.model);
    assert.equal(r.outputs.size, r.model.modules.length);
    return;
  }
  assert.ok(r.diagnostics.length >= 1, 'failure without diagnostics');
  assert.equal(r.outputs.size, 0);
  assert.equal(r.model, undefined);
  for (const d of r.diagnostics) {
    assert.ok(!/internal compiler error/.test(d.message), d.message);
    const text = sources[d.file];
    assert.ok(text !== undefined, `diagnostic in unknown file ${d.file}`);
    assert.ok(inside(text, d.line, d.column), `${d.file}:${d.line}:${d.column} is outside the file: ${d.message}`);
  }
}

type Mutation = { op: 'delete' | 'insert' | 'swap'; at: number; text: string };

function mutate(text: string, mutations: Mutation[]): string {
  let s = text;
  for (const m of mutations) {
    const at = s.length === 0 ? 0 : m.at % s.length;
    if (m.op === 'delete') s = s.slice(0, at) + s.slice(at + 1 + (m.at % 3));
    else if (m.op === 'insert') s = s.slice(0, at) + m.text + s.slice(at);
    else if (at + 1 < s.length) s = s.slice(0, at) + s[at + 1] + s[at] + s.slice(at + 2);
  }
  return s;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom<Mutation['op']>('delete', 'insert', 'swap'),
  at: fc.nat(),
  text: fc.oneof(fc.constantFrom(...VOCAB), fc.string({ maxLength: 3 }), fc.string({ maxLength: 2, unit: 'binary' })),
});

describe('tce2proto robustness', function () {
  this.timeout(20_000);

  it('the valid sample compiles', () => {
    const r = compileSources(
      { 'main.idl': VALID, 'inc/Common.idl': COMMON },
      { files: ['main.idl'], includeDirs: ['inc', '.'] },
    );
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual([...r.outputs.keys()].sort(), ['Auth.proto', 'Common.proto']);
  });

  it('never throws on random token soup', () => {
    const soup = fc
      .tuple(fc.array(fc.constantFrom(...VOCAB), { maxLength: 60 }), fc.constantFrom(' ', '', '\n'))
      .map(([words, sep]) => words.join(sep));
    fc.assert(
      fc.property(soup, soup, (main, common) => check({ 'main.idl': main, 'inc/Common.idl': common })),
      { numRuns: 300 },
    );
  });

  it('never throws on mutations of valid IDL', () => {
    fc.assert(
      fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 6 }), fc.boolean(), (mutations, inCommon) =>
        check(
          inCommon
            ? { 'main.idl': VALID, 'inc/Common.idl': mutate(COMMON, mutations) }
            : { 'main.idl': mutate(VALID, mutations), 'inc/Common.idl': COMMON },
        ),
      ),
      { numRuns: 400 },
    );
  });

  it('survives pathological nesting and size', () => {
    check({ 'main.idl': `module A { struct S { ${'sequence<'.repeat(5000)}int${'>'.repeat(5000)} x; }; }` });
    check({ 'main.idl': 'module A { '.repeat(5000) });
    check({ 'main.idl': 'module A { struct S { struct T { '.repeat(2000) });
    check({ 'main.idl': '['.repeat(10000) });
    check({
      'main.idl': `module A { struct S { ${Array.from({ length: 3000 }, (_, i) => `int f${i};`).join(' ')} }; }`,
    });
    // Flattening makes output quadratic in chain length, so keep the chain moderate.
    const chain = Array.from({ length: 300 }, (_, i) => `interface I${i} extends I${i + 1} { void m${i}(); };`).join(
      '\n',
    );
    check({ 'main.idl': `module A {\n${chain}\ninterface I300 {};\n}\n` });
  });
});
