// TCE_GATEWAY_OPTIMIZE_FOR: a gateway told to favour memory says so at start and
// serves devices as usual; a value it does not know stops it at start, naming
// the variable and the accepted values.
import assert from 'node:assert/strict';
import { IFACES } from '../../../sdk/src/index.js';
import { startPlatform, tokenFor, type Platform } from './platform.js';
import { RawClient } from './raw-client.js';

describe('gateway: V8 tuning (TCE_GATEWAY_OPTIMIZE_FOR)', function () {
  this.timeout(120_000);
  let p: Platform;

  before(async function () {
    p = await startPlatform({ gateways: 0, auth: false, mq: false });
  });
  after(async function () {
    await p?.stop();
  });

  it('optimizes for memory when asked, and serves devices', async function () {
    const gw = await p.startGateway('tuned', { TCE_GATEWAY_OPTIMIZE_FOR: 'memory', TCE_LOG_LEVEL: 'info' });
    assert.match(gw.proc.process.output(200), /V8 optimizes for memory \(--optimize-for-size\)/);
    const c = await RawClient.open(gw.url, { headers: { authorization: `Bearer ${tokenFor(p, 'tia', 't1')}` } });
    try {
      const f = await c.call(IFACES.session, 'whoami', []);
      assert.equal(f.error_code, '');
    } finally {
      c.close();
    }
  });

  it('keeps V8 as it is by default', async function () {
    const gw = await p.startGateway('default', { TCE_LOG_LEVEL: 'info' });
    assert.doesNotMatch(gw.proc.process.output(200), /optimizes for memory/);
  });

  it('refuses an unknown value, naming the variable and the accepted values', async function () {
    await assert.rejects(
      p.startGateway('bad', { TCE_GATEWAY_OPTIMIZE_FOR: 'fast' }),
      /TCE_GATEWAY_OPTIMIZE_FOR.*speed.*memory/s,
    );
  });
});
