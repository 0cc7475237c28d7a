// One test per error class: the exact `file:line:col: message` the CLI prints,
// and no outputs or model when anything is wrong.
import assert from 'node:assert/strict';
import { compileSources, errorsOf } from './helpers.js';

function expectErrors(sources: Record<string, string>, expected: string[], includeDirs: string[] = []): void {
  const r = compileSources(sources, { includeDirs });
  assert.deepEqual(errorsOf(r), expected);
  assert.equal(r.ok, false);
  assert.equal(r.outputs.size, 0);
  assert.equal(r.model, undefined);
}

describe('tce2proto errors', () => {
  describe('syntax', () => {
    it('names the expected token and what was found', () => {
      expectErrors({ 'a.idl': 'module A {\n  struct S {\n    int x\n  };\n}\n' }, [
        "a.idl:4:3: expected ';' after field declaration, found '}'",
      ]);
    });

    it('reports each forgotten line-end semicolon once, without follow-on errors', () => {
      const src = 'module A {\n  struct S {\n    int x\n    string y;\n  };\n  interface I {\n    void f()\n  };\n}\n';
      expectErrors({ 'a.idl': src }, [
        "a.idl:4:5: expected ';' after field declaration, found 'string'",
        "a.idl:8:3: expected ';' after method declaration, found '}'",
      ]);
    });

    it('skips a broken member and goes on', () => {
      const src = 'module A {\n  struct S {\n    int x = 5;\n    string y;\n  };\n  struct T { int z };\n}\n';
      expectErrors({ 'a.idl': src }, [
        "a.idl:3:11: expected ';' after field declaration, found '='",
        "a.idl:6:20: expected ';' after field declaration, found '}'",
      ]);
    });

    it('reports a missing closing brace once at end of file', () => {
      expectErrors({ 'a.idl': 'module A {\n  struct S {\n    int x;' }, [
        "a.idl:3:11: expected '}' to close struct 'S', found end of file",
      ]);
    });

    it('rejects definitions outside a module', () => {
      expectErrors({ 'a.idl': 'struct S { int x; };\nmodule A {}\n' }, [
        "a.idl:1:1: definitions must be inside a module: expected 'module' or 'import', found 'struct'",
      ]);
    });

    it('rejects nested modules and nested structs', () => {
      expectErrors({ 'a.idl': 'module A {\n  module B {\n  }\n  struct S { struct T { int x; }; int y; };\n}\n' }, [
        "a.idl:2:3: modules cannot be nested: module 'A' is still open (missing '}'?)",
        "a.idl:4:14: a struct cannot be defined inside struct 'S'; define it directly in the module",
      ]);
    });

    it('reports bad characters and unterminated strings', () => {
      expectErrors({ 'a.idl': 'module A {\n  struct S { int $x; };\n  [comment="open] interface I {};\n}\n' }, [
        "a.idl:2:18: unexpected character '$'",
        "a.idl:3:12: unterminated string: missing closing '\"' before the end of the line",
        // The string swallowed the rest of the line, ']' included: a real consequence, reported once.
        "a.idl:4:1: expected ',' or ']' in annotation list, found '}'",
      ]);
    });

    it('rejects annotations before a struct', () => {
      expectErrors({ 'a.idl': 'module A {\n  [index=1]\n  struct S { int x; };\n}\n' }, [
        'a.idl:3:3: annotations are only allowed before an interface or a method, not before a struct',
      ]);
    });
  });

  it("rejects ';' after a module's closing brace", () => {
    expectErrors({ 'a.idl': 'module A {\n  struct S { int x; };\n};\n' }, [
      "a.idl:3:2: unexpected ';' after module 'A': a module's closing '}' takes no ';'",
    ]);
  });

  it('reports unknown types, qualified or not', () => {
    expectErrors({ 'a.idl': 'module Bar {\n  struct S {\n    Foo f;\n    sequence<Other::T> t;\n  };\n}\n' }, [
      "a.idl:3:5: unknown type 'Foo' (in module Bar)",
      "a.idl:4:14: unknown type 'Other::T' (in module Bar)",
    ]);
  });

  it('resolves unqualified names in the current module only', () => {
    const sources = {
      'a.idl': 'module Geo {\n  struct Point { int x; };\n}\n',
      'b.idl': 'module Map {\n  struct Place { Point p; };\n}\n',
    };
    expectErrors(sources, ["b.idl:2:18: unknown type 'Point' (in module Map)"]);
  });

  it('rejects an interface used as a data type, and a struct used as a base', () => {
    expectErrors({ 'a.idl': 'module A {\n  interface I {};\n  struct S { I i; };\n  interface J extends S {};\n}\n' }, [
      "a.idl:3:14: 'I' is an interface, not a data type: only base types, sequences, dictionaries and structs can be used here",
      "a.idl:4:23: 'S' is a struct, not an interface: only interfaces can be extended",
    ]);
  });

  describe('duplicate definitions', () => {
    it('in one file', () => {
      expectErrors({ 'a.idl': 'module A {\n  struct S { int x; };\n  interface S {};\n}\n' }, [
        "a.idl:3:13: duplicate definition 'S' in module 'A' (first defined at a.idl:2:10)",
      ]);
    });

    it('across files of the same module', () => {
      expectErrors(
        {
          'a.idl': 'module A {\n  struct S { int x; };\n}\n',
          'b.idl': 'module A {\n  struct S { int y; };\n}\n',
        },
        ["b.idl:2:10: duplicate definition 'S' in module 'A' (first defined at a.idl:2:10)"],
      );
    });
  });

  it('rejects base type names and keywords as names', () => {
    const src =
      'module A {\n  struct S {\n    string int;\n    int sequence;\n  };\n  struct double { int x; };\n' +
      '  interface I { void string(int bool); };\n}\nmodule long {\n}\n';
    expectErrors({ 'a.idl': src }, [
      "a.idl:3:12: 'int' is a reserved type name and cannot name a field",
      "a.idl:4:9: 'sequence' is a keyword and cannot name a field",
      "a.idl:6:10: 'double' is a reserved type name and cannot name a struct",
      "a.idl:7:22: 'string' is a reserved type name and cannot name a method",
      "a.idl:7:33: 'bool' is a reserved type name and cannot name a parameter",
      "a.idl:9:8: 'long' is a reserved type name and cannot name a module",
    ]);
  });

  it('rejects dictionary keys proto3 cannot map', () => {
    const src =
      'module A {\n  struct S {\n    dictionary<double, int> m;\n    dictionary<sequence<byte>, int> b;\n' +
      '    sequence<dictionary<S, int>> c;\n    dictionary<float, int> f;\n  };\n}\n';
    expectErrors({ 'a.idl': src }, [
      "a.idl:3:5: dictionary key type 'double' is not allowed: proto3 map keys must be integral, bool or string",
      "a.idl:4:5: dictionary key type 'sequence<byte>' is not allowed: proto3 map keys must be integral, bool or string",
      "a.idl:5:14: dictionary key type 'S' is not allowed: proto3 map keys must be integral, bool or string",
      "a.idl:6:5: dictionary key type 'float' is not allowed: proto3 map keys must be integral, bool or string",
    ]);
  });

  describe('inheritance', () => {
    it('reports unknown base interfaces', () => {
      expectErrors(
        { 'a.idl': 'module A {\n  interface I extends IBase {};\n  interface J extends B::IBase {};\n}\n' },
        [
          "a.idl:2:23: unknown base interface 'IBase' (in module A)",
          "a.idl:3:23: unknown base interface 'B::IBase' (in module A)",
        ],
      );
    });

    it('reports circular inheritance once', () => {
      const src =
        'module A {\n  interface I extends J {};\n  interface J extends I {};\n  interface K extends K {};\n}\n';
      expectErrors({ 'a.idl': src }, [
        "a.idl:3:23: circular inheritance: 'I' already extends 'J' (directly or indirectly), so 'J' cannot extend it",
        "a.idl:4:23: interface 'K' cannot extend itself",
      ]);
    });

    it('rejects a method that redefines an inherited one, and clashing bases', () => {
      const src =
        'module A {\n  interface B { void f(); };\n  interface C extends B { void f(); };\n' +
        '  interface D { int f(); };\n  interface E extends B, D {};\n}\n';
      expectErrors({ 'a.idl': src }, [
        "a.idl:3:32: duplicate method 'f' in interface 'C' (already inherited from 'A::B')",
        "a.idl:5:26: duplicate method 'f' in interface 'E': inherited from both 'A::B' and 'A::D'",
      ]);
    });
  });

  it('reports unresolved imports at the import', () => {
    expectErrors({ 'a.idl': 'module A {\n}\n\nimport Missing\n' }, [
      "a.idl:4:1: unresolved import 'Missing': Missing.idl not found next to the importing file or in any -I directory",
    ]);
  });

  it('reports an unreadable input file', () => {
    const r = compileSources({}, { files: ['nope.idl'] });
    assert.deepEqual(errorsOf(r), ["nope.idl:1:1: cannot read file 'nope.idl'"]);
  });

  it('rejects duplicate fields, parameters and methods', () => {
    const src =
      'module A {\n  struct S {\n    int x;\n    string x;\n  };\n  interface I {\n' +
      '    void f(int a, string a);\n    void g();\n    int g();\n  };\n}\n';
    expectErrors({ 'a.idl': src }, [
      "a.idl:4:12: duplicate field 'x' in struct 'S'",
      "a.idl:7:26: duplicate parameter 'a' in method 'I.f'",
      "a.idl:9:9: duplicate method 'g' in interface 'I'",
    ]);
  });

  it('allows void only as a return type', () => {
    const src =
      'module A {\n  struct S {\n    void x;\n    sequence<void> y;\n  };\n  interface I { void f(void a); };\n}\n';
    expectErrors({ 'a.idl': src }, [
      "a.idl:3:5: 'void' cannot be the type of a field: void is only allowed as a method return type",
      "a.idl:4:14: 'void' cannot be used inside a sequence or dictionary: void is only allowed as a method return type",
      "a.idl:6:24: 'void' cannot be the type of a parameter: void is only allowed as a method return type",
    ]);
  });

  describe('annotations', () => {
    it('requires an integer index, unique keys and unique method indexes', () => {
      const src =
        'module A {\n  interface I {\n    [index="x", index=2] void f();\n    [index=3] void g();\n' +
        '    [index=3] void h();\n  };\n}\n';
      expectErrors({ 'a.idl': src }, [
        'a.idl:3:12: annotation \'index\' must be an integer, found "x"',
        "a.idl:3:17: duplicate annotation 'index'",
        "a.idl:5:12: duplicate method index 3 in interface 'I' (also used by method 'g')",
      ]);
    });

    it('names the expected token in a broken list', () => {
      expectErrors({ 'a.idl': 'module A {\n  [index=1 comment="x"] interface I {};\n}\n' }, [
        "a.idl:2:12: expected ',' or ']' in annotation list, found 'comment'",
      ]);
    });
  });

  describe('proto3 name clashes', () => {
    it('a generated request/response or wrapper name taken by a struct', () => {
      const src =
        'module A {\n  struct ILoginRequest { int x; };\n  interface I { void login(); };\n' +
        '  struct Seq_int32 { int y; };\n  struct T { sequence<sequence<int>> z; };\n}\n';
      expectErrors({ 'a.idl': src }, [
        "a.idl:3:22: method 'I.login' needs the proto name 'ILoginRequest' for its request message, which is already used by struct 'ILoginRequest'",
        "a.idl:5:14: type 'sequence<int>' needs the proto name 'Seq_int32' for its wrapper message, which is already used by struct 'Seq_int32'",
      ]);
    });

    it('names that collide after reserved-word escaping, and equal JSON names', () => {
      const src =
        'module A {\n  struct S { int from; int from_; int foo_bar; int fooBar; };\n  struct class {};\n  struct class_ {};\n}\n';
      expectErrors({ 'a.idl': src }, [
        "a.idl:2:28: field 'from_' of struct 'S' needs the proto name 'from_', which is already used by field 'from'",
        "a.idl:2:52: field 'fooBar' of struct 'S' has the same proto3 JSON name 'fooBar' as field 'foo_bar'",
        "a.idl:4:10: struct 'class_' needs the proto name 'class_', which is already used by struct 'class'",
      ]);
    });
  });

  describe('module dependency cycles (proto3 forbids import cycles)', () => {
    it('between two modules, at the reference that closes the cycle', () => {
      expectErrors(
        {
          'Common.idl': 'import Geo\nmodule Common {\n  struct Status { Geo::Point where; };\n}\n',
          'Geo.idl':
            'import Common\nmodule Geo {\n  struct Point { int x; };\n  interface I { Common::Status get(); };\n}\n',
        },
        [
          "Geo.idl:4:17: module 'Geo' cannot use 'Common::Status': module 'Common' already depends on module 'Geo' (Common -> Geo), and proto3 does not allow import cycles",
        ],
      );
    });

    it('through inheritance and a third module', () => {
      expectErrors(
        {
          'a.idl':
            'module A {\n  interface IA extends B::IB {};\n  struct S { int x; };\n}\n' +
            'module B {\n  interface IB { C::T get(); };\n}\n' +
            'module C {\n  struct T { sequence<A::S> list; };\n}\n',
        },
        [
          "a.idl:9:14: module 'C' cannot use 'A::S': module 'A' already depends on module 'C' (A -> B -> C), and proto3 does not allow import cycles",
        ],
      );
    });
  });

  it('collects errors from several files in load order', () => {
    const r = compileSources({
      'b.idl': 'module B {\n  struct S { Nope n; };\n}\n',
      'a.idl': 'module A {\n  struct T { Nada n; };\n}\n',
    });
    assert.deepEqual(errorsOf(r), [
      "b.idl:2:14: unknown type 'Nope' (in module B)",
      "a.idl:2:14: unknown type 'Nada' (in module A)",
    ]);
  });
});
