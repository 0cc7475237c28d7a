// Behaviour not covered by a golden directory: multiple inheritance, import
// lookup order, determinism.
import assert from 'node:assert/strict';
import { compileSources, errorsOf, outputOf } from './helpers.js';

describe('tce2proto features', () => {
  it('flattens several bases in order, a shared (diamond) base once', () => {
    const r = compileSources({
      'a.idl': `module A {
  interface IRoot { void ping(); };
  interface ILeft extends IRoot { void left(); };
  interface IRight extends IRoot { void right(); };
  interface IBoth extends ILeft, IRight { void both(); };
}
`,
    });
    assert.deepEqual(errorsOf(r), []);
    const both = r.model!.modules[0].interfaces[3];
    assert.deepEqual(both.bases, ['A::ILeft', 'A::IRight']);
    assert.deepEqual(
      both.methods.map((m) => `${m.declaredIn.interface}.${m.name}`),
      ['IRoot.ping', 'ILeft.left', 'IRight.right', 'IBoth.both'],
    );
    assert.match(
      outputOf(r, 'A.proto'),
      /service IBoth \{\n {2}rpc ping\(IRootPingRequest\) returns \(IRootPingResponse\);\n {2}rpc left\(/,
    );
  });

  it('finds imports next to the importing file before the -I directories', () => {
    const r = compileSources(
      {
        'src/main.idl': 'import T\nmodule Main {\n  struct S { T::Local l; };\n}\n',
        'src/T.idl': 'module T {\n  struct Local { int x; };\n}\n',
        'inc/T.idl': 'module T {\n  struct Other { int y; };\n}\n',
      },
      { includeDirs: ['inc'], files: ['src/main.idl'] },
    );
    assert.deepEqual(errorsOf(r), []);
    assert.deepEqual(
      r.model!.modules.map((m) => m.structs.map((s) => s.name)),
      [['S'], ['Local']],
    );
  });

  it('searches -I directories in order and parses a file imported twice once', () => {
    const r = compileSources(
      {
        'main.idl': 'import A\nimport B\nimport A;\nmodule Main {\n  struct S { A::X a; B::Y b; };\n}\n',
        'one/A.idl': 'import B\nmodule A {\n  struct X { int x; };\n}\n',
        'two/A.idl': 'module A {\n  struct Wrong { int x; };\n}\n',
        'two/B.idl': 'import A\nmodule B {\n  struct Y { A::X x; };\n}\n',
      },
      { includeDirs: ['one', 'two'], files: ['main.idl'] },
    );
    assert.deepEqual(errorsOf(r), []);
    assert.deepEqual([...r.outputs.keys()].sort(), ['A.proto', 'B.proto', 'Main.proto']);
  });

  it('is deterministic', () => {
    const sources = {
      'a.idl': `module A {
  struct S { sequence<sequence<int>> a; dictionary<string, sequence<S>> b; sequence<dictionary<int, bool>> c; };
  interface I { sequence<sequence<string>> f(dictionary<long, sequence<long>> m); };
}
`,
    };
    const first = compileSources(sources);
    const second = compileSources(sources);
    assert.deepEqual([...first.outputs], [...second.outputs]);
    assert.deepEqual(first.model, second.model);
  });

  it('an empty input compiles to nothing', () => {
    const r = compileSources({ 'a.idl': '# nothing here\n' });
    assert.equal(r.ok, true);
    assert.equal(r.outputs.size, 0);
    assert.deepEqual(r.model, { modules: [] });
  });
});
