// The operations endpoint every process serves (default port 9090):
// /metrics (Prometheus), /healthz (the process is alive), /readyz (it should get traffic).
import http from 'node:http';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  /** Returns undefined when ready, or a short reason why not. */
  check(): string | undefined | Promise<string | undefined>;
}

export interface OpsServer {
  port: number;
  addReadiness(check: ReadinessCheck): void;
  close(): Promise<void>;
}

export async function startOpsServer(opts: { host: string; port: number; registry: Registry }): Promise<OpsServer> {
  const checks: ReadinessCheck[] = [];
  const server = http.createServer((req, res) => {
    void handle(req, res);
  });
  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/metrics') {
        const body = await opts.registry.metrics();
        res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body);
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const reasons: string[] = [];
        for (const c of checks) {
          const r = await c.check();
          if (r !== undefined) reasons.push(`${c.name}: ${r}`);
        }
        if (checks.length === 0) reasons.push('starting');
        res
          .writeHead(reasons.length ? 503 : 200, { 'content-type': 'text/plain' })
          .end(reasons.length ? `not ready\n${reasons.join('\n')}\n` : 'ready\n');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`error: ${(err as Error).message}\n`);
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : opts.port,
    addReadiness: (c) => checks.push(c),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
