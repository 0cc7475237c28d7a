// Semantic checks that the CRD schema cannot express.
import assert from 'node:assert/strict';
import { validatePlatform } from '../../../operator/src/api/validate.js';
import { platform } from './fixtures.js';

describe('operator Platform validation', function () {
  const table: { what: string; spec: unknown; problems: string[] }[] = [
    { what: 'a default Platform', spec: {}, problems: [] },
    {
      what: 'extra env of its own',
      spec: { gateway: { env: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=256' }] } },
      problems: [],
    },
    {
      what: 'extra env replacing an operator variable',
      spec: {
        mq: {
          env: [
            { name: 'X', value: '1' },
            { name: 'TCE_MQ_QUEUES', value: '[]' },
          ],
        },
      },
      problems: ['spec.mq.env[1]: TCE_MQ_QUEUES is set by the operator; use the Platform field that controls it'],
    },
    {
      what: 'a variable of another component is fine',
      spec: { auth: { env: [{ name: 'TCE_WS_PORT', value: '1' }] } },
      problems: [],
    },
    {
      what: 'access tokens outliving refresh tokens',
      spec: { auth: { accessTokenTTL: '2d', refreshTokenTTL: '1d' } },
      problems: ['spec.auth.accessTokenTTL (2d) must be shorter than spec.auth.refreshTokenTTL (1d)'],
    },
  ];
  for (const t of table) {
    it(`${t.what}: ${t.problems.length ? 'rejected' : 'accepted'}`, function () {
      assert.deepEqual(validatePlatform(platform(t.spec)), t.problems);
    });
  }
});
