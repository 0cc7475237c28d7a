// A small REST client for the Kubernetes API: JSON requests, server-side apply
// and watch streams. Credentials and TLS come from @kubernetes/client-node's
// KubeConfig ($KUBECONFIG, ~/.kube/config or the in-cluster service account,
// including `as:` impersonation); the requests themselves are plain HTTP so the
// operator controls timeouts, keep-alive and counts every request it makes.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../version.js';
import { ApiError } from './errors.js';
import { collectionPath, objectPath, type KindInfo, type KubeObject, type ObjectList } from './kinds.js';

export interface RequestInfo {
  /** Kubernetes verb: get, list, watch, create, update, patch, apply, delete. */
  verb: string;
  /** Resource (and subresource), e.g. deployments, platforms/status. */
  resource: string;
  /** HTTP status, or 0 when the request failed without one. */
  code: number;
  seconds: number;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface KubeClient {
  readonly server: string;
  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    opts?: { query?: Query; contentType?: string },
  ): Promise<T>;
  /** Streams newline-delimited JSON (a watch) to onLine until the server ends it or `signal` aborts. */
  stream(
    path: string,
    query: Query,
    onLine: (line: unknown) => void,
    signal: AbortSignal,
    idleTimeoutMs: number,
  ): Promise<void>;
  get<T extends KubeObject>(kind: KindInfo, namespace: string | undefined, name: string): Promise<T | undefined>;
  list<T extends KubeObject>(kind: KindInfo, namespace?: string, query?: Query): Promise<ObjectList<T>>;
  /** Server-side apply under the operator's field manager, taking over fields others changed. */
  apply<T extends KubeObject>(kind: KindInfo, obj: KubeObject, subresource?: string): Promise<T>;
  /** JSON merge patch: lists in `obj` replace the stored lists whole. */
  mergePatch<T extends KubeObject>(kind: KindInfo, obj: KubeObject): Promise<T>;
  delete(kind: KindInfo, namespace: string | undefined, name: string, uid?: string): Promise<void>;
}

export interface ClientOptions {
  /** Called after every request (metrics). */
  onRequest?: (info: RequestInfo) => void;
  requestTimeoutMs?: number;
}

export async function createKubeClient(kc: KubeConfig, opts: ClientOptions = {}): Promise<KubeClient> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('The kubeconfig has no current cluster');
  const server = cluster.server.replace(/\/$/, '');
  const isHttps = server.startsWith('https:');
  const probe: https.RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(probe);
  // One keep-alive agent for the operator's lifetime, with the kubeconfig's TLS material.
  const agent = isHttps
    ? new https.Agent({
        keepAlive: true,
        ca: probe.ca,
        cert: probe.cert,
        key: probe.key,
        rejectUnauthorized: probe.rejectUnauthorized,
        servername: probe.servername,
      })
    : new http.Agent({ keepAlive: true });
  const timeoutMs = opts.requestTimeoutMs ?? 30_000;

  /** Headers per request: tokens from files (in-cluster) are re-read by client-node as they rotate. */
  async function headers(): Promise<Record<string, string>> {
    const o: https.RequestOptions = { headers: {} };
    await kc.applyToHTTPSOptions(o);
    return { ...(o.headers as Record<string, string>) };
  }

  function url(path: string, query?: Query): URL {
    const u = new URL(server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  function send(
    method: string,
    u: URL,
    hdrs: Record<string, string>,
    data: string | undefined,
    onResponse: (res: http.IncomingMessage) => void,
    onError: (err: Error) => void,
    signal?: AbortSignal,
  ): http.ClientRequest {
    const mod = isHttps ? https : http;
    const req = mod.request(u, { method, agent, headers: hdrs, signal });
    req.on('response', onResponse);
    req.on('error', onError);
    if (data !== undefined) req.write(data);
    req.end();
    return req;
  }

  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    o: { query?: Query; contentType?: string } = {},
  ): Promise<T> {
    const started = process.hrtime.bigint();
    const data = body === undefined ? undefined : JSON.stringify(body);
    const contentType = o.contentType ?? 'application/json';
    const hdrs = {
      ...(await headers()),
      accept: 'application/json',
      ...(data !== undefined ? { 'content-type': contentType, 'content-length': String(Buffer.byteLength(data)) } : {}),
    };
    const info = describeRequest(method, path, o.query, contentType);
    let code = 0;
    try {
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = send(
          method,
          url(path, o.query),
          hdrs,
          data,
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
          reject,
        );
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
      });
      code = status;
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      if (status >= 400) throw ApiError.fromResponse(method, path, status, parsed);
      return parsed as T;
    } finally {
      opts.onRequest?.({ ...info, code, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    }
  }

  async function stream(
    path: string,
    query: Query,
    onLine: (line: unknown) => void,
    signal: AbortSignal,
    idleTimeoutMs: number,
  ): Promise<void> {
    const hdrs = { ...(await headers()), accept: 'application/json' };
    const info = describeRequest('GET', path, query, '');
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (err?: Error): void => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve();
      };
      const req = send(
        'GET',
        url(path, query),
        hdrs,
        undefined,
        (res) => {
          opts.onRequest?.({ ...info, code: res.statusCode ?? 0, seconds: 0 });
          if ((res.statusCode ?? 0) >= 400) {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              let body: unknown = Buffer.concat(chunks).toString('utf8');
              try {
                body = JSON.parse(body as string);
              } catch {
                /* plain text */
              }
              done(ApiError.fromResponse('GET', path, res.statusCode ?? 0, body));
            });
            return;
          }
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (!line) continue;
              try {
                onLine(JSON.parse(line));
              } catch (err) {
                req.destroy(err as Error);
                return;
              }
            }
          });
          res.on('end', () => done());
          res.on('error', (err) => done(err));
          res.on('close', () => done());
        },
        (err) => done(signal.aborted ? undefined : err),
        signal,
      );
      // A watch that goes silent (a half-open connection) is cut and re-established.
      req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`watch ${path} idle for ${idleTimeoutMs} ms`)));
    });
  }

  const client: KubeClient = {
    server,
    request,
    stream,
    async get<T extends KubeObject>(kind: KindInfo, namespace: string | undefined, name: string) {
      try {
        return await request<T>('GET', objectPath(kind, namespace, name));
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return undefined;
        throw err;
      }
    },
    list<T extends KubeObject>(kind: KindInfo, namespace?: string, query?: Query) {
      return request<ObjectList<T>>('GET', collectionPath(kind, namespace), undefined, { query });
    },
    apply<T extends KubeObject>(kind: KindInfo, obj: KubeObject, subresource?: string) {
      const name = obj.metadata?.name ?? '';
      return request<T>('PATCH', objectPath(kind, obj.metadata?.namespace, name, subresource), obj, {
        query: { fieldManager: FIELD_MANAGER, force: true },
        contentType: 'application/apply-patch+yaml',
      });
    },
    mergePatch<T extends KubeObject>(kind: KindInfo, obj: KubeObject) {
      return request<T>('PATCH', objectPath(kind, obj.metadata?.namespace, obj.metadata?.name ?? ''), obj, {
        query: { fieldManager: FIELD_MANAGER },
        contentType: 'application/merge-patch+json',
      });
    },
    async delete(kind: KindInfo, namespace: string | undefined, name: string, uid?: string) {
      try {
        await request('DELETE', objectPath(kind, namespace, name), {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          propagationPolicy: 'Background',
          ...(uid ? { preconditions: { uid } } : {}),
        });
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return;
        throw err;
      }
    },
  };
  return client;
}

/** The Kubernetes verb and resource of a request, for metrics (audit-log wording). */
export function describeRequest(
  method: string,
  path: string,
  query: Query | undefined,
  contentType: string,
): { verb: string; resource: string } {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  // Not a resource (/version, /healthz): the path is the resource.
  if (parts[0] !== 'api' && parts[0] !== 'apis') return { verb: method.toLowerCase(), resource: `/${parts.join('/')}` };
  // /api/v1/... or /apis/<group>/<version>/...
  let rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [resource = '', name, sub] = rest;
  const res = sub ? `${resource}/${sub}` : resource;
  const m = method.toUpperCase();
  let verb: string;
  if (m === 'GET') verb = query?.watch ? 'watch' : name === undefined ? 'list' : 'get';
  else if (m === 'POST') verb = 'create';
  else if (m === 'PUT') verb = 'update';
  else if (m === 'PATCH') verb = contentType === 'application/apply-patch+yaml' ? 'apply' : 'patch';
  else if (m === 'DELETE') verb = name === undefined ? 'deletecollection' : 'delete';
  else verb = m.toLowerCase();
  return { verb, resource: res };
}

export const WRITE_VERBS = new Set(['create', 'update', 'patch', 'apply', 'delete', 'deletecollection']);
