// The SDK's model-driven codec against the gateway's ts-proto codecs: the same
// values encode to bytes the other side decodes to the same values, for every
// struct the device protocol carries (property tests).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as auth from '../../../proto/gen/ts/auth.js';
import * as location from '../../../proto/gen/ts/location.js';
import * as messaging from '../../../proto/gen/ts/messaging.js';
import { codec, CodecError, decodeFrame, encodeFrame } from '../../../sdk/src/index.js';

const str = fc.string({ maxLength: 20 });
const long = fc.integer({ min: -1e12, max: 1e12 });
const int = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const dbl = fc.double({ noNaN: true, noDefaultInfinity: true });

const message = fc.record({
  msg_id: str,
  from_user: str,
  to_user: str,
  seq: long,
  mime_text: str,
  client_msg_id: str,
  sent_at: long,
  group_id: str,
});
const hit = fc.record({ user_id: str, lon: dbl, lat: dbl, time: long, distance_m: dbl, partition: int });
const frame = fc.record({
  id: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  kind: fc.integer({ min: 0, max: 6 }),
  iface: str,
  iface_index: int,
  method: str,
  method_index: int,
  payload: fc.uint8Array({ maxLength: 40 }),
  // Plain-object maps (ts-proto's and ours) cannot hold a '__proto__' key; the
  // dedicated test below pins what happens to one.
  extra: fc.dictionary(
    str.filter((k) => k !== '__proto__'),
    str,
    { maxKeys: 4 },
  ),
  timeout_ms: int,
  error_code: str,
  error_message: str,
});

/** Plain JSON-comparable values: bytes as arrays (Buffer or Uint8Array), no null prototypes. */
const norm = (v: unknown): unknown =>
  JSON.parse(
    JSON.stringify(v, (_k, x: unknown) => {
      if (x instanceof Uint8Array) return [...x];
      const b = x as { type?: unknown; data?: unknown };
      if (b && b.type === 'Buffer' && Array.isArray(b.data)) return b.data;
      return x;
    }),
  );

describe('SDK codec (IDL model) vs ts-proto', function () {
  it('Message round-trips both ways', function () {
    fc.assert(
      fc.property(message, (m) => {
        const ours = codec.encodeStruct('messaging', 'Message', m);
        assert.deepEqual(norm(messaging.Message.decode(ours)), norm(m));
        const theirs = messaging.Message.encode(m).finish();
        assert.deepEqual(norm(codec.decodeStruct('messaging', 'Message', theirs)), norm(m));
        assert.deepEqual([...ours], [...theirs]);
      }),
      { numRuns: 200 },
    );
  });

  it('Frame (bytes, map, int64) round-trips both ways', function () {
    fc.assert(
      fc.property(frame, (f) => {
        const ours = encodeFrame(f);
        assert.deepEqual(norm(messaging.Frame.decode(ours)), norm(f));
        const theirs = messaging.Frame.encode(
          messaging.Frame.fromPartial({ ...f, payload: Buffer.from(f.payload) }),
        ).finish();
        assert.deepEqual(norm(decodeFrame(theirs)), norm(f));
      }),
      { numRuns: 200 },
    );
  });

  it("a '__proto__' extra key is dropped by both decoders, never touching prototypes", function () {
    const extra = JSON.parse('{"__proto__":"x","trace":"t1"}') as Record<string, string>;
    const wire = encodeFrame({ id: 1, kind: 1, iface: 'a', method: 'b', payload: new Uint8Array(), extra });
    for (const f of [messaging.Frame.decode(wire), decodeFrame(wire)]) {
      assert.deepEqual(Object.keys(f.extra), ['trace']);
      assert.equal(Object.getPrototypeOf(f.extra), Object.prototype);
      assert.equal(f.extra.trace, 't1');
    }
  });

  it('QueryResult (repeated structs, packed ints) round-trips both ways', function () {
    fc.assert(
      fc.property(
        fc.record({
          hits: fc.array(hit, { maxLength: 4 }),
          partial: fc.boolean(),
          missing_partitions: fc.array(int, { maxLength: 5 }),
        }),
        (q) => {
          const ours = codec.encodeStruct('location', 'QueryResult', q);
          assert.deepEqual(norm(location.QueryResult.decode(ours)), norm(q));
          assert.deepEqual(
            norm(codec.decodeStruct('location', 'QueryResult', location.QueryResult.encode(q).finish())),
            norm(q),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('method requests and responses match the generated messages', function () {
    const req = codec.encodeRequest('messaging.IMessageServer', 'send', ['bob', '[]', 'c1']);
    assert.deepEqual(messaging.IMessageServerSendRequest.decode(req), {
      to_: 'bob',
      mime_text: '[]',
      client_msg_id: 'c1',
    });
    const token: auth.Token = {
      access_token: 'a',
      refresh_token: 'r',
      access_expires_at: 5,
      refresh_expires_at: 6,
      user_id: 'u',
      username: 'n',
      session_id: 's',
      device_id: 'd',
      display_name: 'D',
    };
    const resp = auth.IAuthServerUserAuthResponse.encode({ value: token }).finish();
    assert.deepEqual(codec.decodeResponse('auth.IAuthServer', 'userAuth', resp), token);
    const presence = messaging.IMessageServerPresenceResponse.encode({
      value: [{ user_id: 'x', online: true, last_seen: 3 }],
    }).finish();
    assert.deepEqual(codec.decodeResponse('messaging.IMessageServer', 'presence', presence), [
      { user_id: 'x', online: true, last_seen: 3 },
    ]);
    assert.equal(codec.decodeResponse('messaging.IMessageServer', 'ack', new Uint8Array()), undefined);
    // An absent struct result decodes to its empty value, as the runtime's proxies do.
    const empty = codec.decodeResponse('messaging.IMessageServer', 'send', new Uint8Array()) as messaging.SendResult;
    assert.deepEqual(empty, { msg_id: '', seq: 0, sent_at: 0, duplicate: false });
  });

  it('group methods (sequence<string> arguments, sequence<Group> results) match the generated messages', function () {
    const req = codec.encodeRequest('messaging.IMessageServer', 'createGroup', ['trip', ['u_b', 'u_c']]);
    assert.deepEqual(messaging.IMessageServerCreateGroupRequest.decode(req), { name: 'trip', members: ['u_b', 'u_c'] });
    const g: messaging.Group = { group_id: 'g_1', name: 'trip', created_by: 'u_a', created_at: 7, members: ['u_a'] };
    const resp = messaging.IMessageServerGroupsResponse.encode({ value: [g, { ...g, group_id: 'g_2' }] }).finish();
    assert.deepEqual(codec.decodeResponse('messaging.IMessageServer', 'groups', resp), [g, { ...g, group_id: 'g_2' }]);
    assert.equal(codec.decodeResponse('messaging.IMessageServer', 'leaveGroup', new Uint8Array()), undefined);
  });

  it('refuses values of the wrong type with the field named', function () {
    assert.throws(
      () => codec.encodeRequest('messaging.IMessageServer', 'send', [5, '', '']),
      (e: unknown) => e instanceof CodecError && e.message === 'to_: expected a string',
    );
    assert.throws(() => codec.encodeRequest('messaging.IMessageServer', 'ack', [1.5]), /seq: expected an integer/);
    assert.throws(() => codec.iface('nope.INope'), /unknown interface nope.INope/);
  });
});
