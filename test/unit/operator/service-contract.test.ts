// The operator and the services agree on configuration: every variable a
// service requires (no default) is set by the operator, and every variable the
// operator sets is one the service reads — checked against the services' own
// config schemas, so a rename on either side fails here, not in a cluster.
import assert from 'node:assert/strict';
import { COMPONENTS, type ComponentKey } from '../../../operator/src/api/components.js';
import { operatorEnv } from '../../../operator/src/resources/component-env.js';
import { commonSchema, type Schema } from '../../../services/runtime/src/config.js';
import { authSchema } from '../../../services/auth/src/config.js';
import { fileServiceSchema } from '../../../services/file-service/src/config.js';
import { gatewaySchema } from '../../../services/gateway/src/config.js';
import { locationUnitSchema } from '../../../services/location-unit/src/config.js';
import { mqSchema } from '../../../services/mq/src/config.js';
import { ctx } from './fixtures.js';

const SCHEMAS: Record<ComponentKey, Schema> = {
  gateway: gatewaySchema,
  mq: mqSchema,
  auth: authSchema,
  locationUnit: locationUnitSchema,
  fileService: fileServiceSchema,
};

/** Set for every component on purpose, though not every one reads it (yet). */
const SET_FOR_ALL = new Set(['TCE_INTERNAL_KEY']);
/** Helpers for `$(VAR)` expansion, not configuration. */
const HELPERS = new Set(['POD_IP']);

describe('operator ↔ services configuration contract', function () {
  for (const [key, schema] of Object.entries(SCHEMAS) as [ComponentKey, Schema][]) {
    const c = COMPONENTS[key];
    const reads = new Set([...Object.values(commonSchema), ...Object.values(schema)].map((s) => s.env));
    const sets = new Set(operatorEnv(ctx(), c).map((e) => e.name));

    it(`${c.name}: every variable the service requires is set by the operator`, function () {
      const required = Object.values(schema)
        .filter((s) => s.default === undefined)
        .map((s) => s.env);
      for (const env of required) assert.ok(sets.has(env), `${env} is required by ${c.name} but not set`);
    });

    it(`${c.name}: every variable the operator sets is read by the service`, function () {
      for (const env of sets) {
        if (HELPERS.has(env) || SET_FOR_ALL.has(env)) continue;
        assert.ok(reads.has(env), `${env} is set for ${c.name}, which does not read it`);
      }
    });
  }
});
