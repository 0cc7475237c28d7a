// Shared fixtures for the operator's unit tests: a defaulted Platform, a build
// context with fixed secret values, and a fake KubeClient that records calls.
import { defaultedSpec } from '../../../operator/src/api/defaults.js';
import type { Platform } from '../../../operator/src/api/types.js';
import type { KubeClient } from '../../../operator/src/kube/client.js';
import { ApiError } from '../../../operator/src/kube/errors.js';
import type { KubeObject } from '../../../operator/src/kube/kinds.js';
import { SECRET_KEYS, type BuildContext } from '../../../operator/src/resources/context.js';

export function platform(spec: unknown = {}, meta: Partial<Platform['metadata']> = {}): Platform {
  return {
    apiVersion: 'tce.dev/v1alpha1',
    kind: 'Platform',
    metadata: { name: 'demo', namespace: 'apps', uid: 'uid-1', generation: 1, ...meta },
    spec: defaultedSpec(spec),
  };
}

export const SECRETS: BuildContext['secrets'] = {
  [SECRET_KEYS.internalKey]: 'aW50ZXJuYWw=',
  [SECRET_KEYS.tokenKeys]: '{"active":"k1","keys":[{"kid":"k1","secret":"c2VjcmV0"}]}',
  [SECRET_KEYS.mqAdminPassword]: 'admin',
  [SECRET_KEYS.mqPasswords]: '{"mq_gps":"gps"}',
  [SECRET_KEYS.mqGpsPassword]: 'gps',
  [SECRET_KEYS.urlSigningKey]: 'dXJs',
};

export function ctx(spec: unknown = {}, secrets: Partial<BuildContext['secrets']> = {}): BuildContext {
  return { platform: platform(spec), secrets: { ...SECRETS, ...secrets }, defaultImageTag: '9.9.9' };
}

export interface Call {
  method: string;
  path: string;
  body?: unknown;
  contentType?: string;
}

/** A KubeClient whose responses a test scripts; every call is recorded. */
export class FakeClient implements KubeClient {
  readonly server = 'https://fake';
  readonly calls: Call[] = [];
  /** Answers by "METHOD path"; a function gets the body; an ApiError is thrown. */
  readonly routes = new Map<string, unknown>();
  /** Objects by path for get(). */
  readonly objects = new Map<string, KubeObject>();
  private rv = 100;

  async request<T>(method: string, path: string, body?: unknown, opts: { contentType?: string } = {}): Promise<T> {
    this.calls.push({ method, path, body, contentType: opts.contentType });
    const route = this.routes.get(`${method} ${path}`);
    if (route instanceof ApiError) throw route;
    if (typeof route === 'function') return (route as (b: unknown) => T)(body);
    if (route !== undefined) return route as T;
    if (method === 'PATCH') {
      return {
        ...(body as object),
        metadata: { ...(body as KubeObject).metadata, resourceVersion: String(++this.rv) },
      } as T;
    }
    if (method === 'GET') {
      const o = this.objects.get(path);
      if (o) return o as T;
      throw new ApiError(`GET ${path}: 404`, 404, 'NotFound', {});
    }
    return {} as T;
  }

  async stream(): Promise<void> {
    throw new Error('not scripted');
  }

  get<T extends KubeObject>(
    kind: { apiVersion: string; plural: string },
    ns: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    const path = `${kind.plural}/${ns ?? ''}/${name}`;
    this.calls.push({ method: 'GET', path });
    return Promise.resolve(this.objects.get(path) as T | undefined);
  }

  list<T extends KubeObject>(): Promise<{ items: T[] }> {
    return Promise.resolve({ items: [] });
  }

  apply<T extends KubeObject>(kind: { plural: string }, obj: KubeObject, subresource?: string): Promise<T> {
    return this.request<T>(
      'PATCH',
      `${kind.plural}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}${subresource ? `/${subresource}` : ''}`,
      obj,
      {
        contentType: 'application/apply-patch+yaml',
      },
    );
  }

  mergePatch<T extends KubeObject>(kind: { plural: string }, obj: KubeObject): Promise<T> {
    return this.request<T>(
      'PATCH',
      `${kind.plural}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`,
      obj,
      {
        contentType: 'application/merge-patch+json',
      },
    );
  }

  async delete(kind: { plural: string }, ns: string | undefined, name: string, uid?: string): Promise<void> {
    await this.request('DELETE', `${kind.plural}/${ns ?? ''}/${name}`, { uid });
  }

  writes(): Call[] {
    return this.calls.filter((c) => c.method !== 'GET');
  }
}
