// The env mapping every service relies on: names, values, order, references.
import assert from 'node:assert/strict';
import type { V1EnvVar } from '@kubernetes/client-node';
import { COMPONENTS, type ComponentKey } from '../../../operator/src/api/components.js';
import {
  componentEnv,
  DEFAULT_MONGO_URL,
  filesPublicUrl,
  operatorEnv,
  operatorEnvNames,
} from '../../../operator/src/resources/component-env.js';
import { ctx, platform } from './fixtures.js';
import { commonSchema, defaultText, parseDuration, type Schema } from '../../../services/runtime/src/config.js';
import { authOwnSchema } from '../../../services/auth/src/config.js';
import { fileServiceOwnSchema } from '../../../services/file-service/src/config.js';
import { locationUnitSchema } from '../../../services/location-unit/src/config.js';
import { mqSchema } from '../../../services/mq/src/config.js';

const value = (env: V1EnvVar[], name: string): string | undefined => env.find((e) => e.name === name)?.value;
const ref = (env: V1EnvVar[], name: string): unknown => env.find((e) => e.name === name)?.valueFrom;

const COMMON = ['TCE_BIND_HOST', 'TCE_INTERNAL_KEY', 'TCE_LOG_LEVEL', 'TCE_MONGO_URL', 'TCE_OPS_PORT'];

describe('operator component env', function () {
  const names: Record<ComponentKey, string[]> = {
    auth: ['TCE_ACCESS_TOKEN_TTL', 'TCE_GRPC_PORT', 'TCE_REFRESH_TOKEN_TTL', 'TCE_TOKEN_KEYS'],
    mq: ['TCE_GRPC_PORT', 'TCE_MQ_ADMIN_PASSWORD', 'TCE_MQ_MAX_MESSAGE_BYTES', 'TCE_MQ_PASSWORDS', 'TCE_MQ_QUEUES'],
    locationUnit: [
      'POD_IP',
      'TCE_ADVERTISE_ADDR',
      'TCE_GPS_PARTITIONS',
      'TCE_GRPC_PORT',
      'TCE_LOCATION_MQ_PASSWORD',
      'TCE_LOCATION_STALE_AFTER',
      'TCE_MQ_ADDR',
    ],
    fileService: [
      'TCE_FILE_RETENTION',
      'TCE_HTTP_PORT',
      'TCE_MAX_UPLOAD_BYTES',
      'TCE_TOKEN_KEYS',
      'TCE_URL_SIGNING_KEY',
    ],
    gateway: [
      'TCE_ALLOWED_ORIGINS',
      'TCE_AUTH_ADDR',
      'TCE_FILES_PUBLIC_URL',
      'TCE_GATEWAY_ID',
      'TCE_LOCATION_ADDR',
      'TCE_MQ_ADDR',
      'TCE_MQ_ADMIN_PASSWORD',
      'TCE_MQ_PASSWORDS',
      'TCE_TOKEN_KEYS',
      'TCE_WS_PORT',
    ],
  };
  for (const [key, own] of Object.entries(names) as [ComponentKey, string[]][]) {
    it(`sets exactly the documented variables for ${COMPONENTS[key].name}, sorted`, function () {
      const env = operatorEnv(ctx(), COMPONENTS[key]);
      const got = env.map((e) => e.name);
      assert.deepEqual(got, [...COMMON, ...own].sort());
      assert.deepEqual(got, [...got].sort(), 'sorted by byte order');
    });
  }

  const cases: { key: ComponentKey; spec?: unknown; name: string; want: string | undefined }[] = [
    { key: 'auth', name: 'TCE_GRPC_PORT', want: '50051' },
    { key: 'mq', name: 'TCE_GRPC_PORT', want: '50052' },
    { key: 'locationUnit', name: 'TCE_GRPC_PORT', want: '50053' },
    { key: 'fileService', name: 'TCE_HTTP_PORT', want: '8081' },
    { key: 'gateway', name: 'TCE_WS_PORT', want: '8080' },
    { key: 'gateway', name: 'TCE_OPS_PORT', want: '9090' },
    { key: 'gateway', name: 'TCE_BIND_HOST', want: '0.0.0.0' },
    { key: 'gateway', name: 'TCE_MONGO_URL', want: DEFAULT_MONGO_URL },
    { key: 'gateway', name: 'TCE_LOG_LEVEL', want: 'info' },
    { key: 'gateway', spec: { logLevel: 'debug' }, name: 'TCE_LOG_LEVEL', want: 'debug' },
    { key: 'gateway', name: 'TCE_AUTH_ADDR', want: 'demo-auth:50051' },
    { key: 'gateway', name: 'TCE_MQ_ADDR', want: 'demo-mq:50052' },
    { key: 'gateway', name: 'TCE_LOCATION_ADDR', want: 'demo-location-unit:50053' },
    { key: 'gateway', name: 'TCE_ALLOWED_ORIGINS', want: '' },
    {
      key: 'gateway',
      spec: { gateway: { allowedOrigins: ['https://a.example', 'https://b.example'] } },
      name: 'TCE_ALLOWED_ORIGINS',
      want: 'https://a.example,https://b.example',
    },
    { key: 'gateway', name: 'TCE_FILES_PUBLIC_URL', want: '/files' },
    { key: 'locationUnit', name: 'TCE_MQ_ADDR', want: 'demo-mq:50052' },
    { key: 'locationUnit', name: 'TCE_GPS_PARTITIONS', want: '64' },
    { key: 'locationUnit', spec: { locationUnit: { partitions: 16 } }, name: 'TCE_GPS_PARTITIONS', want: '16' },
    { key: 'locationUnit', name: 'TCE_LOCATION_STALE_AFTER', want: '15m' },
    { key: 'locationUnit', name: 'TCE_ADVERTISE_ADDR', want: '$(POD_IP):50053' },
    { key: 'auth', name: 'TCE_ACCESS_TOKEN_TTL', want: '15m' },
    { key: 'auth', name: 'TCE_REFRESH_TOKEN_TTL', want: '30d' },
    { key: 'auth', spec: { auth: { refreshTokenTTL: '7d' } }, name: 'TCE_REFRESH_TOKEN_TTL', want: '7d' },
    { key: 'mq', name: 'TCE_MQ_MAX_MESSAGE_BYTES', want: '1048576' },
    { key: 'fileService', name: 'TCE_MAX_UPLOAD_BYTES', want: '1073741824' },
    { key: 'fileService', name: 'TCE_FILE_RETENTION', want: '30d' },
  ];
  for (const c of cases) {
    it(`${COMPONENTS[c.key].name}: ${c.name}=${c.want}${c.spec ? ` with ${JSON.stringify(c.spec)}` : ''}`, function () {
      assert.equal(value(operatorEnv(ctx(c.spec), COMPONENTS[c.key]), c.name), c.want);
    });
  }

  // A Platform with an empty spec must run each service as its own defaults say
  // (and as the README's table and local mode do): the tunables the operator
  // always sets carry the same defaults.
  const tunables: { key: ComponentKey; schema: Schema; names: string[] }[] = [
    { key: 'locationUnit', schema: locationUnitSchema, names: ['TCE_LOCATION_STALE_AFTER', 'TCE_GPS_PARTITIONS'] },
    { key: 'auth', schema: authOwnSchema, names: ['TCE_ACCESS_TOKEN_TTL', 'TCE_REFRESH_TOKEN_TTL'] },
    { key: 'mq', schema: mqSchema, names: ['TCE_MQ_MAX_MESSAGE_BYTES'] },
    { key: 'fileService', schema: fileServiceOwnSchema, names: ['TCE_MAX_UPLOAD_BYTES', 'TCE_FILE_RETENTION'] },
    { key: 'gateway', schema: commonSchema, names: ['TCE_LOG_LEVEL', 'TCE_OPS_PORT', 'TCE_BIND_HOST'] },
  ];
  for (const t of tunables) {
    it(`${COMPONENTS[t.key].name}: the operator's defaults are the service's own (${t.names.join(', ')})`, function () {
      const env = operatorEnv(ctx(), COMPONENTS[t.key]);
      for (const name of t.names) {
        const spec = Object.values(t.schema).find((f) => f.env === name);
        assert.ok(spec, `${name} is in the service's schema`);
        const got = value(env, name);
        assert.ok(got !== undefined, `${name} is set`);
        if (spec.type === 'duration') assert.equal(parseDuration(got), spec.default, name);
        else assert.equal(got, defaultText(spec), name);
      }
    });
  }

  const refs: { key: ComponentKey; name: string; want: unknown }[] = [
    { key: 'auth', name: 'TCE_TOKEN_KEYS', want: { secretKeyRef: { name: 'demo-secrets', key: 'token-keys' } } },
    { key: 'gateway', name: 'TCE_TOKEN_KEYS', want: { secretKeyRef: { name: 'demo-secrets', key: 'token-keys' } } },
    { key: 'fileService', name: 'TCE_TOKEN_KEYS', want: { secretKeyRef: { name: 'demo-secrets', key: 'token-keys' } } },
    { key: 'mq', name: 'TCE_INTERNAL_KEY', want: { secretKeyRef: { name: 'demo-secrets', key: 'internal-key' } } },
    {
      key: 'mq',
      name: 'TCE_MQ_ADMIN_PASSWORD',
      want: { secretKeyRef: { name: 'demo-secrets', key: 'mq-admin-password' } },
    },
    { key: 'mq', name: 'TCE_MQ_PASSWORDS', want: { secretKeyRef: { name: 'demo-secrets', key: 'mq-passwords' } } },
    { key: 'mq', name: 'TCE_MQ_QUEUES', want: { configMapKeyRef: { name: 'demo-config', key: 'mq-queues' } } },
    { key: 'gateway', name: 'TCE_MQ_PASSWORDS', want: { secretKeyRef: { name: 'demo-secrets', key: 'mq-passwords' } } },
    {
      key: 'gateway',
      name: 'TCE_MQ_ADMIN_PASSWORD',
      want: { secretKeyRef: { name: 'demo-secrets', key: 'mq-admin-password' } },
    },
    {
      key: 'locationUnit',
      name: 'TCE_LOCATION_MQ_PASSWORD',
      want: { secretKeyRef: { name: 'demo-secrets', key: 'mq-gps-password' } },
    },
    {
      key: 'fileService',
      name: 'TCE_URL_SIGNING_KEY',
      want: { secretKeyRef: { name: 'demo-secrets', key: 'url-signing-key' } },
    },
    { key: 'gateway', name: 'TCE_GATEWAY_ID', want: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    { key: 'locationUnit', name: 'POD_IP', want: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
  ];
  for (const c of refs) {
    it(`${COMPONENTS[c.key].name}: ${c.name} comes from ${Object.keys(c.want as object)[0]}`, function () {
      assert.deepEqual(ref(operatorEnv(ctx(), COMPONENTS[c.key]), c.name), c.want);
    });
  }

  it('reads the MongoDB URL from the Secret spec.mongo.urlSecretRef names', function () {
    const env = operatorEnv(ctx({ mongo: { urlSecretRef: { name: 'mongo' } } }), COMPONENTS.mq);
    assert.deepEqual(ref(env, 'TCE_MONGO_URL'), { secretKeyRef: { name: 'mongo', key: 'url' } });
    assert.equal(value(env, 'TCE_MONGO_URL'), undefined);
  });

  it('defines POD_IP before TCE_ADVERTISE_ADDR refers to it (Kubernetes expands only earlier variables)', function () {
    const names = operatorEnv(ctx(), COMPONENTS.locationUnit).map((e) => e.name);
    assert.ok(names.indexOf('POD_IP') < names.indexOf('TCE_ADVERTISE_ADDR'));
  });

  it('appends the Platform’s extra env after the operator’s, in its own order', function () {
    const extra = [
      { name: 'Z_FIRST', value: '1' },
      { name: 'A_SECOND', value: '2' },
    ];
    const env = componentEnv(ctx({ auth: { env: extra } }), COMPONENTS.auth);
    assert.deepEqual(env.slice(-2), extra);
    assert.equal(
      componentEnv(ctx({ auth: { env: extra } }), COMPONENTS.gateway).length,
      operatorEnv(ctx(), COMPONENTS.gateway).length,
    );
  });

  it('lists the reserved names per component', function () {
    assert.ok(operatorEnvNames(platform(), COMPONENTS.gateway).has('TCE_WS_PORT'));
    assert.ok(!operatorEnvNames(platform(), COMPONENTS.auth).has('TCE_WS_PORT'));
  });

  const urls: { spec: unknown; want: string }[] = [
    { spec: {}, want: '/files' },
    { spec: { ingress: { host: 'chat.example.com' } }, want: 'http://chat.example.com/files' },
    { spec: { ingress: { host: 'chat.example.com', tlsSecretName: 'tls' } }, want: 'https://chat.example.com/files' },
    { spec: { ingress: { host: '*.example.com' } }, want: '/files' },
    { spec: { ingress: { enabled: false, host: 'chat.example.com' } }, want: '/files' },
    { spec: { gateway: { filesPublicUrl: 'https://cdn.example.com/f' } }, want: 'https://cdn.example.com/f' },
  ];
  for (const u of urls) {
    it(`files public URL for ${JSON.stringify(u.spec)} is ${u.want}`, function () {
      assert.equal(filesPublicUrl(platform(u.spec)), u.want);
    });
  }
});
