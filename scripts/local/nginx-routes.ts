// nginx in front of the local platform, mirroring the operator's Ingress:
// /ws → gateways (WebSocket upgrade, long timeouts), /files → file services
// (request buffering off, streaming both ways), / → the web client.

export interface LocalRoutes {
  listen: number;
  gateways: number[];
  fileServices: number[];
  webRoot?: string;
  /** client_max_body_size; 0 = unlimited (the file service enforces its own limit). */
  maxBodySize?: string;
}

export function localNginxHttp(r: LocalRoutes): string {
  const upstream = (name: string, ports: number[]): string =>
    ports.length ? `  upstream ${name} {\n${ports.map((p) => `    server 127.0.0.1:${p};`).join('\n')}\n  }\n` : '';
  const ws = r.gateways.length
    ? `    location /ws {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $host;
      proxy_set_header Origin $http_origin;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
    }
`
    : '';
  const files = r.fileServices.length
    ? `    location /files {
      proxy_pass http://file_services;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_request_buffering off;
      proxy_buffering off;
      client_max_body_size ${r.maxBodySize ?? '0'};
      proxy_read_timeout 300s;
      proxy_send_timeout 300s;
    }
`
    : '';
  const root = r.webRoot
    ? `    location / {
      root ${r.webRoot};
      try_files $uri /index.html;
    }
`
    : `    location = / { return 200 "tce-platform\\n"; }
`;
  return `${upstream('gateways', r.gateways)}${upstream('file_services', r.fileServices)}  server {
    listen 127.0.0.1:${r.listen};
${ws}${files}${root}  }`;
}
