// Pure connection policies: token bucket, Origin allow-list, client address,
// the access token given at connect, and the frame envelope checks.
import assert from 'node:assert/strict';
import type http from 'node:http';
import { codec } from '../../../sdk/src/index.js';
import { decodeFrame, FrameError } from '../../../services/gateway/src/frame.js';
import { normaliseOrigin, originAllowed, originPolicy } from '../../../services/gateway/src/origin-policy.js';
import { take, type Bucket } from '../../../services/gateway/src/token-bucket.js';
import { clientAddress, tokenFromRequest } from '../../../services/gateway/src/ws-server.js';

describe('gateway policies', function () {
  describe('token bucket', function () {
    it('allows the burst, then the rate', function () {
      const b: Bucket = { tokens: 5, at: 0 };
      const got = Array.from({ length: 7 }, () => take(b, 0, 10, 5));
      assert.deepEqual(got, [true, true, true, true, true, false, false]);
      assert.equal(take(b, 100, 10, 5), true); // 100 ms at 10/s refills one
      assert.equal(take(b, 100, 10, 5), false);
      assert.equal(take(b, 10_000, 10, 5), true);
      assert.ok(b.tokens <= 5, 'never above the burst');
    });
  });

  describe('origin allow-list', function () {
    const policy = originPolicy(['https://app.example.com', 'http://localhost:3000']);
    const cases: [string | undefined, string | undefined, boolean, string][] = [
      [undefined, 'gw.example.com', true, 'no Origin: not a browser'],
      ['https://app.example.com', 'gw.example.com', true, 'listed'],
      ['https://APP.example.com:443', 'gw.example.com', true, 'listed, normalised'],
      ['http://localhost:3000', 'gw', true, 'listed with port'],
      ['https://evil.example.net', 'gw.example.com', false, 'foreign'],
      ['https://app.example.com.evil.net', 'gw.example.com', false, 'suffix trick'],
      ['null', 'gw.example.com', false, 'opaque origin'],
      ['https://gw.example.com', 'gw.example.com', true, 'same origin'],
      ['http://gw.example.com:8080', 'gw.example.com:8080', true, 'same origin with port'],
      ['http://gw.example.com:8081', 'gw.example.com:8080', false, 'other port'],
    ];
    for (const [origin, host, ok, what] of cases) {
      it(`${ok ? 'allows' : 'refuses'} ${what}`, function () {
        assert.equal(originAllowed(policy, origin, host, false), ok);
      });
    }

    it('allows everything with *, and refuses malformed entries at start', function () {
      assert.equal(originAllowed(originPolicy(['*']), 'https://anything.example', 'gw', false), true);
      assert.throws(() => originPolicy(['app.example.com']), /TCE_ALLOWED_ORIGINS: 'app.example.com' is not an origin/);
      assert.equal(normaliseOrigin('https://a.example/path'), undefined);
    });
  });

  describe('handshake details', function () {
    const req = (headers: Record<string, string>, remote = '10.0.0.9'): http.IncomingMessage =>
      ({ headers, socket: { remoteAddress: remote } }) as unknown as http.IncomingMessage;

    it('takes the token from Authorization or ?access_token', function () {
      const u = new URL('http://x/ws?access_token=q');
      assert.equal(tokenFromRequest(req({ authorization: 'Bearer abc' }), u), 'abc');
      assert.equal(tokenFromRequest(req({ authorization: 'Basic abc' }), u), '');
      assert.equal(tokenFromRequest(req({}), u), 'q');
      assert.equal(tokenFromRequest(req({}), new URL('http://x/ws')), undefined);
    });

    it('trusts X-Forwarded-For only when told to, and then only its last hop', function () {
      const r = req({ 'x-forwarded-for': '1.1.1.1, 203.0.113.7' }, '::ffff:10.0.0.2');
      assert.equal(clientAddress(r, false), '10.0.0.2');
      assert.equal(clientAddress(r, true), '203.0.113.7');
    });
  });

  describe('frame envelope', function () {
    const frame = (f: Record<string, unknown>): Uint8Array => codec.encodeStruct('messaging', 'Frame', f);
    const cases: [string, Uint8Array, string][] = [
      ['garbage', new Uint8Array([0xff, 0xff, 0xff]), 'not a protobuf Frame'],
      ['kind 0', frame({ id: 1 }), 'unknown frame kind 0'],
      ['kind 7', frame({ id: 1, kind: 7 }), 'unknown frame kind 7'],
      ['call without id', frame({ kind: 1, iface: 'a.B', method: 'm' }), 'a call needs a non-zero id'],
      ['negative timeout', frame({ id: 1, kind: 1, timeout_ms: -5 }), 'negative timeout -5'],
      ['long names', frame({ id: 1, kind: 1, iface: 'x'.repeat(200) }), 'interface or method name too long'],
      [
        'too much extra',
        frame({ id: 1, kind: 1, extra: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'])) }),
        'more than 32 extra entries',
      ],
    ];
    for (const [what, bytes, message] of cases) {
      it(`refuses ${what}`, function () {
        assert.throws(
          () => decodeFrame(bytes),
          (e: unknown) => e instanceof FrameError && e.message.startsWith(message),
        );
      });
    }

    it('accepts a well-formed call', function () {
      const f = decodeFrame(frame({ id: 3, kind: 1, iface: 'a.B', method: 'm', extra: { k: 'v' }, timeout_ms: 100 }));
      assert.deepEqual([f.id, f.kind, f.iface, f.method, f.extra, f.timeout_ms], [3, 1, 'a.B', 'm', { k: 'v' }, 100]);
    });
  });
});
