// Pure helpers of the broker: partitioner, ranges, containers, queue
// declarations, configuration, stored batches and raw messages.
import assert from 'node:assert/strict';
import { Message } from '../../../proto/gen/ts/mq.js';
import { Fifo, MinHeap } from '../../../services/mq/src/collections.js';
import { parseDeclarations } from '../../../services/mq/src/config.js';
import { fnv1a32, partitionOf } from '../../../services/mq/src/partitioner.js';
import { deadLetterSpec, incompatibleChange, normalizeSpec } from '../../../services/mq/src/queue-spec.js';
import { compress, expand, toRanges } from '../../../services/mq/src/ranges.js';
import { rawFromBytes, rawFromMessage } from '../../../services/mq/src/raw-message.js';
import { decodeBatch, encodeBatch } from '../../../services/mq/src/store/batch-codec.js';
import { parseArgs } from '../../../services/mq/src/cli/mq-command.js';
import { ConfigError } from '../../../services/runtime/src/config.js';

describe('mq partitioner', function () {
  it('is FNV-1a 32 over UTF-8', function () {
    for (const [k, h] of [
      ['', 0x811c9dc5],
      ['a', 0xe40c292c],
      ['foobar', 0xbf9cf968],
    ] as const) {
      assert.equal(fnv1a32(k), h, k);
    }
  });

  it('maps keys to stable partitions; no key → 0', function () {
    assert.equal(partitionOf('alice', 64), 39);
    assert.equal(partitionOf('user-42', 64), 43);
    assert.equal(partitionOf('', 64), 0);
    assert.equal(partitionOf('anything', 1), 0);
    assert.equal(partitionOf('ü', 64), fnv1a32('ü') % 64);
  });
});

describe('mq ranges and containers', function () {
  it('compresses and expands sequence numbers', function () {
    assert.deepEqual(toRanges([1, 2, 3, 5, 7, 8]), [
      [1, 3],
      [5, 5],
      [7, 8],
    ]);
    assert.deepEqual(compress([8, 1, 2, 2, 3]), [
      [1, 3],
      [8, 8],
    ]);
    assert.deepEqual([...expand([[4, 6]])], [4, 5, 6]);
  });

  it('MinHeap pops in order; Fifo shifts in order', function () {
    const h = new MinHeap();
    for (const v of [5, 3, 9, 1, 3, 7]) h.push(v);
    const out: number[] = [];
    while (h.size) out.push(h.pop()!);
    assert.deepEqual(out, [1, 3, 3, 5, 7, 9]);
    const f = new Fifo<number>();
    for (let i = 0; i < 3000; i++) f.push(i);
    for (let i = 0; i < 2000; i++) assert.equal(f.shift(), i);
    assert.equal(f.size, 1000);
    assert.equal(f.peek(), 2000);
  });
});

describe('mq queue declarations', function () {
  it('fills defaults', function () {
    assert.deepEqual(normalizeSpec({ name: 'mq_gps', kind: 'partitioned', durable: true }, 1024), {
      name: 'mq_gps',
      kind: 'partitioned',
      durable: true,
      partitions: 64,
      ack_timeout_ms: 30000,
      max_deliveries: 10,
      dead_letter: 'mq_gps.dlq',
      max_message_bytes: 1024,
      max_depth: 1000000,
      subscriber_limit: 10000,
      slow_policy: 'drop',
    });
    assert.equal(normalizeSpec({ name: 'q', max_deliveries: -1 }, 1024).dead_letter, '');
  });

  const bad: [Record<string, unknown>, string][] = [
    [{ name: '' }, "invalid queue name '': 1-128 characters of A-Z a-z 0-9 _ . -, not starting with . or -"],
    [{ name: 'q', kind: 'stream' }, "kind must be queue, topic or partitioned, got 'stream'"],
    [{ name: 'q', partitions: 4 }, 'partitions is only for partitioned queues (a queue has 1)'],
    [{ name: 'q', kind: 'partitioned', partitions: 5000 }, 'partitions must be between 1 and 1024, got 5000'],
    [{ name: 'q', ack_timeout_ms: 5 }, 'ack_timeout_ms must be between 100 and 86400000, got 5'],
    [{ name: 'q', max_deliveries: -2 }, 'max_deliveries must be -1 (never dead-letter) or positive, got -2'],
    [{ name: 'q', dead_letter: 'q' }, 'a queue cannot be its own dead-letter queue'],
    [
      { name: 'q', max_message_bytes: 2048 },
      'max_message_bytes must be between 1 and 1024 (TCE_MQ_MAX_MESSAGE_BYTES), got 2048',
    ],
    [{ name: 'q', slow_policy: 'block' }, "slow_policy must be drop or disconnect, got 'block'"],
    [{ name: 'q', durable: 'yes' }, 'durable must be true or false'],
    [{ name: 'q', colour: 'red' }, "unknown field 'colour'"],
    [{ name: 'q', partitions: 1.5 }, 'partitions must be an integer'],
  ];
  for (const [input, msg] of bad) {
    it(`rejects ${JSON.stringify(input)}`, function () {
      assert.throws(() => normalizeSpec(input, 1024), { message: msg });
    });
  }

  it('derives the dead-letter queue and spots incompatible changes', function () {
    const s = normalizeSpec({ name: 'orders', durable: true }, 1024);
    assert.deepEqual(deadLetterSpec(s), { ...s, name: 'orders.dlq', max_deliveries: -1, dead_letter: '' });
    assert.equal(incompatibleChange(s, { ...s, ack_timeout_ms: 5 }), undefined);
    assert.equal(incompatibleChange(s, { ...s, durable: false }), 'durable true → false');
  });
});

describe('mq configuration', function () {
  it('parses declarations and passwords', function () {
    const r = parseDeclarations('[{"name":"a"},{"name":"b","kind":"topic"}]', '{"a":"x","b":"y","c":"z"}', 1024);
    assert.deepEqual(
      r.queues.map((q) => [q.name, q.kind]),
      [
        ['a', 'queue'],
        ['b', 'topic'],
      ],
    );
    assert.equal(r.passwords.get('c'), 'z');
  });

  it('fails naming the variable', function () {
    const problems = (q: string, p: string): string[] => {
      try {
        parseDeclarations(q, p, 1024);
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        return err.problems;
      }
      return [];
    };
    assert.deepEqual(problems('[{"name":"a"}]', '{}'), [
      "TCE_MQ_QUEUES[0]: queue 'a' has no password in TCE_MQ_PASSWORDS",
    ]);
    assert.match(problems('[', '{}')[0]!, /^TCE_MQ_QUEUES: not valid JSON/);
    assert.deepEqual(problems('{}', '{}'), ['TCE_MQ_QUEUES: expected a JSON array of queue declarations']);
    assert.deepEqual(problems('[]', '[]'), [
      'TCE_MQ_PASSWORDS: expected a JSON object mapping queue names to passwords',
    ]);
    assert.deepEqual(problems('[]', '{"a":""}'), ["TCE_MQ_PASSWORDS: the password of 'a' must be a non-empty string"]);
    assert.deepEqual(problems('[{"name":"a"},{"name":"a"}]', '{"a":"x"}'), [
      "TCE_MQ_QUEUES[1]: queue 'a' is declared twice",
    ]);
  });
});

describe('mq raw messages and stored batches', function () {
  const m = (o: Partial<Message>): Message => Message.fromPartial({ payload: Buffer.from('p'), ...o });

  it('reads id and key without decoding, adds a missing timestamp', function () {
    const bytes = Message.encode(m({ id: 'i1', key: 'k1', headers: { h: 'v' } })).finish();
    const r = rawFromBytes(bytes, 1234);
    assert.equal(r.id, 'i1');
    assert.equal(r.key, 'k1');
    const back = Message.decode(r.bytes);
    assert.equal(back.timestamp, 1234);
    assert.deepEqual(back.headers, { h: 'v' });
    const stamped = Message.encode(m({ timestamp: 99 })).finish();
    assert.equal(rawFromBytes(stamped, 1234).bytes.length, stamped.length);
    assert.equal(Message.decode(rawFromMessage(m({}), 55).bytes).timestamp, 55);
    assert.throws(() => rawFromBytes(Buffer.from([0x0a, 0x05, 0x41]), 0), { code: 'INVALID_ARGUMENT' });
  });

  it('round-trips a batch', function () {
    const msgs = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(300, 7)];
    assert.deepEqual(
      decodeBatch(encodeBatch(msgs)).map((b) => Buffer.from(b)),
      msgs,
    );
  });
});

describe('mq CLI arguments', function () {
  it('parses commands, positional arguments and options', function () {
    const p = parseArgs(['create', 'q', '--durable', '--kind=topic', '--password', 'x', '--json']);
    assert.equal(p.cmd, 'create');
    assert.deepEqual(p.args, ['q']);
    assert.equal(p.flags.get('kind'), 'topic');
    assert.equal(p.flags.get('durable'), true);
    assert.throws(() => parseArgs(['ls', '--addr']), { message: 'option --addr needs a value' });
    assert.throws(() => parseArgs(['ls', '--nope']), { message: 'unknown option --nope' });
  });
});
