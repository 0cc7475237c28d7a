// `tce mq ls|create|rm|purge|stats|groups` against a real broker, in process
// (runMqCommand) and once as a real process (services/mq/src/cli-main.ts).
import assert from 'node:assert/strict';
import path from 'node:path';
import { MqClient } from '../../../services/mq/src/client/index.js';
import { runMqCommand } from '../../../services/mq/src/cli/mq-command.js';
import { repoRoot, run, startStore, waitFor, type Store } from '../../support/index.js';
import { ADMIN, Collector, PW, startBroker, type Broker } from './broker.js';

describe('tce mq (CLI)', function () {
  let store: Store;
  let broker: Broker;
  let mq: MqClient;

  const tce = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await runMqCommand(argv, {
      stdout: (s) => (out += s),
      stderr: (s) => (err += s),
      env: { TCE_MQ_ADDR: broker.addr, TCE_MQ_ADMIN_PASSWORD: ADMIN },
    });
    return { code, out, err };
  };

  before(async function () {
    store = await startStore();
    broker = await startBroker(store.url, [{ name: 'preset', kind: 'partitioned', partitions: 4 }]);
    mq = new MqClient(broker.addr);
  });

  after(async function () {
    mq?.close();
    await broker?.svc.stop();
    await store?.stop();
  });

  it('creates, lists, shows stats, purges and removes queues', async function () {
    let r = await tce(
      'create',
      'orders',
      '--password',
      'pw1',
      '--durable',
      '--ack-timeout',
      '5s',
      '--max-deliveries',
      '3',
    );
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'created queue orders\n');
    r = await tce('ls');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^NAME\s+KIND\s+DURABLE\s+PARTITIONS\s+DEPTH\s+IN FLIGHT\s+CONSUMERS$/m);
    assert.match(r.out, /^orders\s+queue\s+yes\s+1\s+0\s+0\s+0$/m);
    assert.match(r.out, /^orders\.dlq\s+queue\s+yes\s+1\s+0\s+0\s+0$/m);
    assert.match(r.out, /^preset\s+partitioned\s+no\s+4\s+0\s+0\s+0$/m);
    await mq.publishBatch('orders', 'pw1', [{ payload: 'a' }, { payload: 'b' }, { payload: 'c' }]);
    r = await tce('stats', 'orders');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^depth\s+3$/m);
    assert.match(r.out, /^published\s+3$/m);
    r = await tce('stats', '--json');
    const all = JSON.parse(r.out) as { name: string; depth: number }[];
    assert.equal(all.find((s) => s.name === 'orders')!.depth, 3);
    r = await tce('purge', 'orders');
    assert.equal(r.out, 'purged 3 messages from orders\n');
    r = await tce('rm', 'orders');
    assert.equal(r.out, 'removed orders\n');
    r = await tce('stats', 'orders');
    assert.equal(r.code, 1);
    assert.equal(r.err, "tce mq: NOT_FOUND: no such queue: 'orders'\n");
  });

  it('shows groups with members, partitions and metadata', async function () {
    const a = new Collector(mq, {
      queue: 'preset',
      password: PW,
      group: 'units',
      metadata: { address: '10.0.0.7:50053' },
    });
    try {
      await waitFor('the assignment to show', async () => /0-3/.test((await tce('groups', 'preset')).out));
      const r = await tce('groups', 'preset');
      assert.match(r.out, /^group units {2}generation 1 {2}lag 0 {2}unowned \[\]$/m);
      assert.match(r.out, /^ {2}\S+\s+0-3\s+address=10\.0\.0\.7:50053$/m);
    } finally {
      a.close();
    }
  });

  it('reports usage errors (exit 2) and refusals (exit 1)', async function () {
    let r = await tce('frobnicate');
    assert.equal(r.code, 2);
    assert.match(r.err, /^tce mq: unknown command 'frobnicate'\n\nusage: tce mq <command>/);
    r = await tce('create', 'x');
    assert.equal(r.code, 2);
    assert.match(r.err, /^tce mq: create needs --password <pw>/);
    r = await tce('ls', '--bogus');
    assert.equal(r.code, 2);
    assert.match(r.err, /^tce mq: unknown option --bogus/);
    r = await tce('ls', '--admin-password', 'wrong');
    assert.equal(r.code, 1);
    assert.equal(r.err, 'tce mq: UNAUTHENTICATED: wrong admin password\n');
    r = await tce('create', 'x', '--password', 'p', '--kind', 'exchange');
    assert.equal(r.code, 1);
    assert.equal(r.err, "tce mq: INVALID_ARGUMENT: kind must be queue, topic or partitioned, got 'exchange'\n");
    r = await tce('--help');
    assert.equal(r.code, 0);
    assert.match(r.out, /^usage: tce mq <command>/);
  });

  it('runs as its own process', async function () {
    const r = await run(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'services/mq/src/cli-main.ts'), 'ls'],
      {
        cwd: repoRoot,
        env: { TCE_MQ_ADDR: broker.addr, TCE_MQ_ADMIN_PASSWORD: ADMIN },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^preset\s+partitioned/m);
  });
});
