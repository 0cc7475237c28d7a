import assert from 'node:assert/strict';
import {
  ConfigError,
  defaultText,
  loadConfig,
  parseDuration,
  type Schema,
} from '../../../services/runtime/src/config.js';

const schema = {
  port: { env: 'T_PORT', type: 'int', default: 50051, min: 1, max: 65535, doc: 'port' },
  ttl: { env: 'T_TTL', type: 'duration', default: 900_000, doc: 'ttl' },
  mode: { env: 'T_MODE', type: 'enum', values: ['a', 'b'], default: 'a', doc: 'mode' },
  on: { env: 'T_ON', type: 'bool', default: false, doc: 'flag' },
  url: { env: 'T_URL', type: 'url', protocols: ['mongodb'], doc: 'store', secret: true },
  list: { env: 'T_LIST', type: 'list', default: [], doc: 'list' },
} as const satisfies Schema;

describe('config', function () {
  it('applies defaults and parses every type', function () {
    const c = loadConfig(schema, { T_URL: 'mongodb://h/db', T_TTL: '30s', T_ON: 'yes', T_LIST: 'x, y,,z' });
    assert.deepEqual(c, {
      port: 50051,
      ttl: 30_000,
      mode: 'a',
      on: true,
      url: 'mongodb://h/db',
      list: ['x', 'y', 'z'],
    });
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ T_PORT: 'abc' }, /T_PORT: expected an integer, got 'abc'/],
    [{ T_PORT: '70000' }, /T_PORT: expected an integer between 1 and 65535, got 70000/],
    [{ T_TTL: '5 parsecs' }, /T_TTL: expected a duration like 500ms, 30s, 5m or 1h, got '5 parsecs'/],
    [{ T_MODE: 'c' }, /T_MODE: expected one of a, b, got 'c'/],
    [{ T_ON: 'maybe' }, /T_ON: expected true or false, got 'maybe'/],
    [{ T_URL: 'http://x' }, /T_URL: expected a mongodb URL, got <secret>/],
    [{ T_URL: 'not a url' }, /T_URL: expected a URL, got <secret>/],
    [{}, /T_URL: required \(store\)/],
  ];
  for (const [env, message] of bad) {
    it(`names the variable for ${JSON.stringify(env)}`, function () {
      assert.throws(
        () =>
          loadConfig(schema, { T_URL: 'mongodb://h/db', ...env, ...(Object.keys(env).length ? {} : { T_URL: '' }) }),
        (e: ConfigError) => {
          assert.ok(e instanceof ConfigError);
          assert.match(e.message, message);
          return true;
        },
      );
    });
  }

  it('reports every problem at once', function () {
    assert.throws(
      () => loadConfig(schema, { T_PORT: 'x', T_MODE: 'z' }),
      (e: ConfigError) => e.problems.length === 3,
    );
  });

  it('parses durations', function () {
    const cases: [string, number | undefined][] = [
      ['250', 250],
      ['250ms', 250],
      ['1.5s', 1500],
      ['5m', 300_000],
      ['1h', 3_600_000],
      ['30d', 2_592_000_000],
      ['', undefined],
      ['-1s', undefined],
      ['1w', undefined],
    ];
    for (const [raw, ms] of cases) assert.equal(parseDuration(raw), ms, raw);
  });

  it('renders documented defaults', function () {
    assert.equal(defaultText(schema.ttl), '15m');
    assert.equal(defaultText(schema.port), '50051');
    assert.equal(defaultText(schema.url), '');
  });
});
