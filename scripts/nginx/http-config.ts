// The nginx `http {}` body that fronts the platform locally (`make run`, tests,
// benchmarks) — the same routing and proxy settings the operator's Ingress asks
// of nginx-ingress, so what passes here behaves the same in Kubernetes:
//
//   /files → file-service replicas: request and response streaming (no
//            buffering to disk or memory), a body-size limit, long timeouts;
//   /ws    → gateways: WebSocket upgrade, hour-long read/send timeouts;
//   /      → a static web client, when given.
//
// `ingressAnnotations()` states the same settings as nginx-ingress annotations;
// both read the numbers from FILES_PROXY / WS_PROXY.
//
// The output goes inside the `http { }` block that test/support/nginx.ts writes
// (pid, logs and temp paths live there).

export interface NginxRoutes {
  /** Port (on 127.0.0.1) or `host:port` nginx listens on. */
  listen: number | string;
  files?: {
    /** `host:port` of each file-service replica. */
    upstreams: string[];
    /** The service's TCE_MAX_UPLOAD_BYTES; nginx allows that plus multipart framing. */
    maxUploadBytes: number;
  };
  ws?: {
    /** `host:port` of each gateway. */
    upstreams: string[];
  };
  /** Directory served at `/` (a web client's build); without it `/` is 404. */
  staticRoot?: string;
}

/** Proxy settings of /files. Request/response buffering off: uploads stream straight to the service. */
export const FILES_PROXY = {
  /** Room above the file limit for multipart boundaries and part headers. */
  multipartSlackBytes: 1024 * 1024,
  connectTimeoutS: 5,
  /** Between two reads from / writes to the service; covers the service's final hash of a large resumed upload. */
  readTimeoutS: 300,
  sendTimeoutS: 300,
  /** nginx's own client-body idle limit; longer than the service's TCE_FILES_BODY_TIMEOUT so the service decides (408). */
  clientBodyTimeoutS: 120,
} as const;

/** Proxy settings of /ws: device connections live for hours; the gateway pings well within this. */
export const WS_PROXY = { connectTimeoutS: 5, readTimeoutS: 3600, sendTimeoutS: 3600 } as const;

export function filesBodyLimit(maxUploadBytes: number): number {
  return maxUploadBytes + FILES_PROXY.multipartSlackBytes;
}

export function nginxHttpConfig(routes: NginxRoutes): string {
  const listen = typeof routes.listen === 'number' ? `127.0.0.1:${routes.listen}` : routes.listen;
  const out: string[] = [];
  // The Connection header to send upstream: `upgrade` for WebSocket handshakes, keep-alive otherwise.
  out.push(`map $http_upgrade $tce_connection_upgrade { default upgrade; '' close; }`);
  if (routes.files) {
    out.push(upstream('tce_files', routes.files.upstreams, 32));
  }
  if (routes.ws) out.push(upstream('tce_gateway', routes.ws.upstreams, 0));
  const locations: string[] = [];
  if (routes.files) {
    const f = FILES_PROXY;
    const body = [
      `client_max_body_size ${filesBodyLimit(routes.files.maxUploadBytes)};`,
      `client_body_timeout ${f.clientBodyTimeoutS}s;`,
      'proxy_request_buffering off;',
      'proxy_buffering off;',
      'proxy_http_version 1.1;',
      'proxy_set_header Connection "";',
      ...forwardedHeaders(),
      `proxy_connect_timeout ${f.connectTimeoutS}s;`,
      `proxy_read_timeout ${f.readTimeoutS}s;`,
      `proxy_send_timeout ${f.sendTimeoutS}s;`,
      // A request whose body has started cannot be replayed; only retry connection failures.
      'proxy_next_upstream error timeout;',
      'proxy_pass http://tce_files;',
    ];
    locations.push(location('= /files', body), location('^~ /files/', body));
  }
  if (routes.ws) {
    const w = WS_PROXY;
    locations.push(
      location('= /ws', [
        'proxy_http_version 1.1;',
        'proxy_set_header Upgrade $http_upgrade;',
        'proxy_set_header Connection $tce_connection_upgrade;',
        ...forwardedHeaders(),
        'proxy_buffering off;',
        `proxy_connect_timeout ${w.connectTimeoutS}s;`,
        `proxy_read_timeout ${w.readTimeoutS}s;`,
        `proxy_send_timeout ${w.sendTimeoutS}s;`,
        'proxy_pass http://tce_gateway;',
      ]),
    );
  }
  locations.push(
    routes.staticRoot
      ? location('/', [`root ${quote(routes.staticRoot)};`, 'try_files $uri $uri/ /index.html;'])
      : location('/', ['return 404;']),
  );
  out.push(`server {\n  listen ${listen};\n  server_tokens off;\n${locations.join('\n')}\n}`);
  return `${out.join('\n')}\n`;
}

/** The same settings as nginx-ingress annotations (for the operator's Ingress objects). */
export function ingressAnnotations(route: 'files' | 'ws', maxUploadBytes = 0): Record<string, string> {
  const p = 'nginx.ingress.kubernetes.io/';
  if (route === 'ws') {
    return {
      [`${p}proxy-connect-timeout`]: String(WS_PROXY.connectTimeoutS),
      [`${p}proxy-read-timeout`]: String(WS_PROXY.readTimeoutS),
      [`${p}proxy-send-timeout`]: String(WS_PROXY.sendTimeoutS),
    };
  }
  return {
    [`${p}proxy-body-size`]: String(filesBodyLimit(maxUploadBytes)),
    [`${p}proxy-request-buffering`]: 'off',
    [`${p}proxy-buffering`]: 'off',
    [`${p}proxy-http-version`]: '1.1',
    [`${p}proxy-connect-timeout`]: String(FILES_PROXY.connectTimeoutS),
    [`${p}proxy-read-timeout`]: String(FILES_PROXY.readTimeoutS),
    [`${p}proxy-send-timeout`]: String(FILES_PROXY.sendTimeoutS),
  };
}

function upstream(name: string, servers: string[], keepalive: number): string {
  if (servers.length === 0) throw new Error(`nginx upstream ${name}: no servers`);
  for (const s of servers) {
    if (!/^[A-Za-z0-9.[\]:-]+:\d{1,5}$/.test(s)) throw new Error(`nginx upstream ${name}: bad server '${s}'`);
  }
  const lines = servers.map((s) => `  server ${s};`);
  if (keepalive > 0) lines.push(`  keepalive ${keepalive};`);
  return `upstream ${name} {\n${lines.join('\n')}\n}`;
}

function forwardedHeaders(): string[] {
  return [
    'proxy_set_header Host $host;',
    'proxy_set_header X-Real-IP $remote_addr;',
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    'proxy_set_header X-Forwarded-Proto $scheme;',
  ];
}

function location(match: string, directives: string[]): string {
  return `  location ${match} {\n${directives.map((d) => `    ${d}`).join('\n')}\n  }`;
}

function quote(p: string): string {
  if (/["\\\n;{}]/.test(p)) throw new Error(`nginx: unsafe path '${p}'`);
  return `"${p}"`;
}
