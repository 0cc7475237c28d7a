// The brokers under test, each started here on loopback with its own data dir
// and driven by its standard Node client: EasyMQ (services/mq client), NATS
// (core for transient, JetStream file storage for durable; `nats`), RabbitMQ
// from Debian (transient queue with consumer acks, durable queue with publisher
// confirms; `amqplib`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { AckPolicy, connect, StorageType, type NatsConnection } from 'nats';
import { MqClient, type Subscription } from '../../services/mq/src/client/index.js';
import {
  binDir,
  canConnect,
  freePort,
  startProcess,
  startService,
  startStore,
  waitFor,
  type ManagedProcess,
} from '../../test/support/index.js';
import type { Peer } from './harness.js';

export interface Running {
  peers: Peer[];
  stop(): Promise<void>;
}

const PW = 'bench';

export async function startEasyMq(): Promise<Running> {
  const store = await startStore();
  const port = await freePort();
  const svc = await startService({
    name: 'mq',
    env: {
      TCE_MONGO_URL: store.url,
      TCE_GRPC_PORT: String(port),
      TCE_MQ_QUEUES: JSON.stringify([{ name: 'bench_t' }, { name: 'bench_d', durable: true }]),
      TCE_MQ_PASSWORDS: JSON.stringify({ bench_t: PW, bench_d: PW }),
      TCE_LOG_LEVEL: 'warn',
      // Development (e.g. a profiler preload): BENCH_MQ_NODE_OPTIONS becomes the broker's NODE_OPTIONS.
      ...(process.env.BENCH_MQ_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_MQ_NODE_OPTIONS } : {}),
    },
  });
  const mq = new MqClient(`127.0.0.1:${port}`);
  const peer = (queue: string, mode: string): Peer => {
    let sub: Subscription | undefined;
    return {
      name: 'EasyMQ',
      mode,
      publish: (p) => mq.publish(queue, PW, { payload: p }),
      subscribe: async (on) => {
        let ready!: () => void;
        const r = new Promise<void>((res) => (ready = res));
        sub = mq.subscribe({ queue, password: PW, credit: 5000, onState: (s) => s === 'subscribed' && ready() }, (d) =>
          on(d.payload),
        );
        await r;
      },
      unsubscribe: async () => sub?.close(),
    };
  };
  return {
    peers: [peer('bench_t', 'transient'), peer('bench_d', 'durable')],
    stop: async () => {
      mq.close();
      await svc.stop();
      await store.stop();
    },
  };
}

export async function startNats(): Promise<Running> {
  const bin = path.join(binDir, 'nats-server');
  if (!fs.existsSync(bin)) {
    throw new Error(
      `nats-server is not installed at ${bin}: run 'scripts/install-infra.sh nats' (builds github.com/nats-io/nats-server/v2)`,
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-bench-nats-'));
  const port = await freePort();
  const proc = startProcess({
    name: 'nats-server',
    command: bin,
    args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir],
  });
  await waitFor('nats-server to listen', () => {
    if (!proc.running) throw new Error(`nats-server exited:\n${proc.output()}`);
    return canConnect(port);
  });
  const nc: NatsConnection = await connect({ servers: `127.0.0.1:${port}` });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'BENCH', subjects: ['bench.d'], storage: StorageType.File });
  await jsm.consumers.add('BENCH', { durable_name: 'bench', ack_policy: AckPolicy.Explicit, max_ack_pending: 5000 });
  const js = nc.jetstream();
  const core: Peer = (() => {
    let sub: ReturnType<NatsConnection['subscribe']> | undefined;
    return {
      name: 'NATS core',
      mode: 'transient',
      publish: (p) => nc.publish('bench.t', p),
      flush: () => nc.flush(),
      subscribe: async (on) => {
        sub = nc.subscribe('bench.t', { callback: (_e, m) => on(Buffer.from(m.data)) });
        await nc.flush();
      },
      unsubscribe: async () => {
        sub?.unsubscribe();
        await nc.flush();
      },
    };
  })();
  const jet: Peer = (() => {
    let stopped = false;
    let loop: Promise<void> | undefined;
    let msgs: { close(): Promise<void | Error> } | undefined;
    return {
      name: 'NATS JetStream',
      mode: 'durable',
      publish: (p) => js.publish('bench.d', p).then(() => undefined),
      subscribe: async (on) => {
        stopped = false;
        const c = await js.consumers.get('BENCH', 'bench');
        const it = await c.consume({ max_messages: 5000 });
        msgs = it;
        loop = (async () => {
          for await (const m of it) {
            m.ack();
            on(Buffer.from(m.data));
            if (stopped) break;
          }
        })();
      },
      unsubscribe: async () => {
        stopped = true;
        await msgs?.close();
        await loop;
      },
    };
  })();
  return {
    peers: [core, jet],
    stop: async () => {
      await nc.close();
      await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startRabbit(): Promise<Running> {
  const server = '/usr/lib/rabbitmq/bin/rabbitmq-server';
  if (!fs.existsSync(server)) {
    throw new Error(
      `rabbitmq-server is not installed (${server}): run 'scripts/install-infra.sh rabbitmq' (Debian package rabbitmq-server)`,
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-bench-rabbit-'));
  for (const d of ['mnesia', 'log', 'home']) fs.mkdirSync(path.join(dir, d));
  const [port, dist, epmdPort] = [await freePort(), await freePort(), await freePort()];
  // Our own epmd in the foreground (rabbitmq would otherwise leave a daemon behind).
  const epmd: ManagedProcess = startProcess({ name: 'epmd', command: 'epmd', args: ['-port', String(epmdPort)] });
  await waitFor('epmd', () => canConnect(epmdPort));
  const proc = startProcess({
    name: 'rabbitmq-server',
    command: server,
    args: [],
    cwd: dir,
    logFile: path.join(dir, 'stdout.log'),
    env: {
      HOME: path.join(dir, 'home'),
      ERL_EPMD_PORT: String(epmdPort),
      RABBITMQ_NODENAME: `bench${port}@localhost`,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(dist),
      RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(dir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq'),
    },
  });
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  let conn: amqp.ChannelModel | undefined;
  await waitFor(
    'rabbitmq-server to accept AMQP',
    async () => {
      if (!proc.running) throw new Error(`rabbitmq-server exited:\n${proc.output()}`);
      conn = await amqp.connect(url);
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  const c = conn!;
  const peer = async (durable: boolean): Promise<Peer> => {
    const queue = durable ? 'bench_d' : 'bench_t';
    const pubCh = durable ? await c.createConfirmChannel() : await c.createChannel();
    const subCh = await c.createChannel();
    await pubCh.assertQueue(queue, { durable });
    await subCh.prefetch(5000);
    let tag: string | undefined;
    return {
      name: 'RabbitMQ',
      mode: durable ? 'durable' : 'transient',
      publish: durable
        ? (p) =>
            new Promise<void>((resolve, reject) =>
              (pubCh as amqp.ConfirmChannel).sendToQueue(queue, p, { persistent: true }, (err) =>
                err ? reject(err) : resolve(),
              ),
            )
        : (p) => {
            pubCh.sendToQueue(queue, p);
          },
      flush: durable ? undefined : async () => undefined,
      subscribe: async (on) => {
        const r = await subCh.consume(queue, (m) => {
          if (!m) return;
          subCh.ack(m);
          on(m.content);
        });
        tag = r.consumerTag;
      },
      unsubscribe: async () => {
        if (tag) await subCh.cancel(tag);
      },
    };
  };
  const peers = [await peer(false), await peer(true)];
  return {
    peers,
    stop: async () => {
      await c.close().catch(() => undefined);
      await proc.stop(15_000);
      await epmd.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
