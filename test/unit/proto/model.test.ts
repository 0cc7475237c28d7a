// The model is the contract with the TypeScript layer generator: check its
// full shape on a small multi-module input.
import assert from 'node:assert/strict';
import type { IdlModel, MethodModel } from '../../../proto/src/compiler.js';
import { compileSources, errorsOf } from './helpers.js';

describe('tce2proto model', () => {
  const sources = {
    'Zoo.idl': `import Base
module Zoo {
  struct Animal {
    string name;
    sequence<Base::Tag> tags;
    dictionary<string, sequence<int>> scores;
  };
  [index=7, comment="The zoo."]
  interface IZoo extends Base::IBase {
    [index=1, oneway=true] void feed(Animal a, int from);
    sequence<Animal> list();
  };
}
`,
    'inc/Base.idl': `module Base {
  struct Tag { string text; };
  interface IBase { [index=0] string version(); };
}
`,
  };

  it('has the documented shape', () => {
    const r = compileSources(sources, { includeDirs: ['inc'] });
    assert.deepEqual(errorsOf(r), []);
    const version: MethodModel = {
      name: 'version',
      protoName: 'version',
      declaredIn: { module: 'Base', interface: 'IBase' },
      annotations: { index: 0 },
      index: 0,
      params: [],
      returns: { kind: 'base', name: 'string' },
      requestMessage: 'IBaseVersionRequest',
      responseMessage: 'IBaseVersionResponse',
    };
    const expected: IdlModel = {
      modules: [
        {
          name: 'Base',
          protoPackage: 'Base',
          protoFile: 'Base.proto',
          structs: [
            {
              name: 'Tag',
              protoName: 'Tag',
              fields: [{ name: 'text', protoName: 'text', number: 1, type: { kind: 'base', name: 'string' } }],
            },
          ],
          interfaces: [
            {
              module: 'Base',
              name: 'IBase',
              protoName: 'IBase',
              annotations: {},
              bases: [],
              methods: [version],
            },
          ],
        },
        {
          name: 'Zoo',
          protoPackage: 'Zoo',
          protoFile: 'Zoo.proto',
          structs: [
            {
              name: 'Animal',
              protoName: 'Animal',
              fields: [
                { name: 'name', protoName: 'name', number: 1, type: { kind: 'base', name: 'string' } },
                {
                  name: 'tags',
                  protoName: 'tags',
                  number: 2,
                  type: { kind: 'sequence', of: { kind: 'struct', module: 'Base', name: 'Tag' } },
                },
                {
                  name: 'scores',
                  protoName: 'scores',
                  number: 3,
                  type: {
                    kind: 'dictionary',
                    key: { kind: 'base', name: 'string' },
                    value: { kind: 'sequence', of: { kind: 'base', name: 'int' } },
                  },
                },
              ],
            },
          ],
          interfaces: [
            {
              module: 'Zoo',
              name: 'IZoo',
              protoName: 'IZoo',
              annotations: { index: 7, comment: 'The zoo.' },
              bases: ['Base::IBase'],
              methods: [
                version,
                {
                  name: 'feed',
                  protoName: 'feed',
                  declaredIn: { module: 'Zoo', interface: 'IZoo' },
                  annotations: { index: 1, oneway: true },
                  index: 1,
                  params: [
                    { name: 'a', protoName: 'a', number: 1, type: { kind: 'struct', module: 'Zoo', name: 'Animal' } },
                    { name: 'from', protoName: 'from_', number: 2, type: { kind: 'base', name: 'int' } },
                  ],
                  returns: 'void',
                  requestMessage: 'IZooFeedRequest',
                  responseMessage: 'IZooFeedResponse',
                },
                {
                  name: 'list',
                  protoName: 'list',
                  declaredIn: { module: 'Zoo', interface: 'IZoo' },
                  annotations: {},
                  index: undefined,
                  params: [],
                  returns: { kind: 'sequence', of: { kind: 'struct', module: 'Zoo', name: 'Animal' } },
                  requestMessage: 'IZooListRequest',
                  responseMessage: 'IZooListResponse',
                },
              ],
            },
          ],
        },
      ],
    };
    assert.deepEqual(r.model, expected);
  });

  it('survives a JSON round trip (what --model writes)', () => {
    const r = compileSources(sources, { includeDirs: ['inc'] });
    const json = JSON.parse(JSON.stringify(r.model)) as IdlModel;
    const list = json.modules[1].interfaces[0].methods[2];
    assert.equal('index' in list, false, 'an absent index is omitted');
    assert.deepEqual(json.modules[1].interfaces[0].methods[1].index, 1);
  });

  it('keeps annotation keys such as __proto__ as plain data', () => {
    const r = compileSources({ 'a.idl': 'module A {\n  [__proto__=1, constructor="x"] interface I {};\n}\n' });
    assert.deepEqual(errorsOf(r), []);
    const ann = r.model!.modules[0].interfaces[0].annotations;
    assert.deepEqual(Object.keys(ann), ['__proto__', 'constructor']);
    assert.equal(ann['constructor'], 'x');
  });
});
