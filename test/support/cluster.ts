// A real Kubernetes control plane without nodes: etcd + kube-apiserver (RBAC on,
// static cluster-admin token, locally generated service-account keys) +
// kube-controller-manager (garbage collection, Deployment/ReplicaSet status).
// Used by test/k8s, `make cluster-up` and the operator benchmark.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { bin } from './paths.js';
import { freePort } from './ports.js';
import { startProcess, type ManagedProcess } from './processes.js';
import { GiveUp, waitFor } from './wait.js';

export interface Cluster {
  server: string;
  token: string;
  kubeconfig: string;
  dir: string;
  processes: ManagedProcess[];
  /** Raw authenticated request to the API server (JSON in/out). */
  request(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** State dir (keys, kubeconfig, etcd data, logs); a temp dir when omitted. */
  dir?: string;
  /** Keep running after this Node process exits (make cluster-up). */
  daemon?: boolean;
  /** Wait for kube-controller-manager to be working before returning (default true). */
  waitForControllers?: boolean;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tce-cluster-'));
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const token = crypto.randomBytes(24).toString('hex');
  writeKeysAndTokens(dir, token);
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, kubeconfigYaml(server, token), { mode: 0o600 });
  const log = (n: string): string => path.join(dir, 'logs', `${n}.log`);
  const processes: ManagedProcess[] = [];
  const request = (method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: unknown }> =>
    apiRequest(server, token, method, urlPath, body);
  const stop = async (): Promise<void> => {
    for (const p of [...processes].reverse()) await p.stop(5000);
    if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    const etcd = startProcess({
      name: 'etcd',
      command: bin('etcd'),
      args: [
        '--name=default',
        `--data-dir=${path.join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
        '--log-level=warn',
        // Test infrastructure: durability across power loss is not needed, speed is.
        '--unsafe-no-fsync',
      ],
      logFile: log('etcd'),
      daemon: opts.daemon,
    });
    processes.push(etcd);
    await waitFor(`etcd on port ${etcdPort}`, async () => {
      if (!etcd.running) throw new GiveUp(`etcd exited:\n${etcd.output()}`);
      const res = await fetch(`http://127.0.0.1:${etcdPort}/health`);
      return res.ok;
    });

    const apiserver = startProcess({
      name: 'kube-apiserver',
      command: bin('kube-apiserver'),
      args: [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--cert-dir=${path.join(dir, 'certs')}`,
        `--token-auth-file=${path.join(dir, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${path.join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${path.join(dir, 'sa.key')}`,
        '--service-cluster-ip-range=10.96.0.0/16',
        '--allow-privileged=true',
        '--profiling=false',
        '--v=0',
      ],
      logFile: log('kube-apiserver'),
      daemon: opts.daemon,
    });
    processes.push(apiserver);
    await waitFor(
      `kube-apiserver at ${server} to be ready`,
      async () => {
        if (!apiserver.running) throw new GiveUp(`kube-apiserver exited:\n${apiserver.output()}`);
        const res = await request('GET', '/readyz');
        return res.status === 200;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );

    const kcm = startProcess({
      name: 'kube-controller-manager',
      command: bin('kube-controller-manager'),
      args: [
        `--kubeconfig=${kubeconfig}`,
        `--service-account-private-key-file=${path.join(dir, 'sa.key')}`,
        '--leader-elect=false',
        '--use-service-account-credentials=false',
        '--secure-port=0',
        '--controllers=*',
        '--profiling=false',
        '--v=0',
      ],
      logFile: log('kube-controller-manager'),
      daemon: opts.daemon,
    });
    processes.push(kcm);
    if (opts.waitForControllers !== false) {
      // The root-CA publisher writes this ConfigMap into every namespace soon
      // after the controller manager starts: proof that controllers are running.
      await waitFor(
        'kube-controller-manager to start its controllers',
        async () => {
          if (!kcm.running) throw new GiveUp(`kube-controller-manager exited:\n${kcm.output()}`);
          const res = await request('GET', '/api/v1/namespaces/default/configmaps/kube-root-ca.crt');
          return res.status === 200;
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { server, token, kubeconfig, dir, processes, request, stop };
}

function writeKeysAndTokens(dir: string, token: string): void {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  fs.writeFileSync(path.join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  // token,user,uid,"group1,group2": system:masters is cluster-admin and may impersonate.
  fs.writeFileSync(path.join(dir, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
}

export function kubeconfigYaml(server: string, token: string): string {
  // The API server's serving certificate is self-signed and regenerated per run,
  // so clients skip verification; the server is only ever on loopback.
  return `apiVersion: v1
kind: Config
clusters:
- name: tce-local
  cluster:
    server: ${server}
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: ${token}
contexts:
- name: tce-local
  context:
    cluster: tce-local
    user: admin
    namespace: default
current-context: tce-local
`;
}

export function apiRequest(
  server: string,
  token: string,
  method: string,
  urlPath: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = https.request(
      new URL(urlPath, server),
      {
        method,
        rejectUnauthorized: false,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(data === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(data) }),
        },
        timeout: 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* plain text (e.g. /readyz) */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}
