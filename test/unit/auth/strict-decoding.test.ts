// Strict request checking against the compiler's descriptors: wrong wire
// types, invalid UTF-8, truncation and nesting are named precisely; valid,
// empty and forward-compatible messages pass.
import assert from 'node:assert/strict';
import path from 'node:path';
import { IAuthServerInfo } from '../../../proto/gen/ts/auth.tce.js';
import { IAuthServerUserAuthRequest, IAuthServerRegisterUserRequest } from '../../../proto/gen/ts/auth.js';
import { loadDescriptorIndex } from '../../../services/runtime/src/reflection.js';
import {
  MalformedRequest,
  checkMessage,
  guardServant,
  messageIndex,
  strictInterface,
} from '../../../services/auth/src/strict-decoding.js';
import { repoRoot } from '../../support/paths.js';

describe('auth: strict request decoding', function () {
  const index = loadDescriptorIndex(path.join(repoRoot, 'proto', 'gen', 'descriptors.binpb'));
  const messages = messageIndex(index);
  const userAuth = messages.get('auth.IAuthServerUserAuthRequest')!;
  const register = messages.get('auth.IAuthServerRegisterUserRequest')!;
  const logout = messages.get('auth.IAuthServerLogoutRequest')!;
  const str = (field: number, bytes: number[]): number[] => [(field << 3) | 2, bytes.length, ...bytes];
  const text = (s: string): number[] => [...Buffer.from(s)];

  const cases: [string, typeof userAuth, number[], string | undefined][] = [
    ['valid', userAuth, [...str(1, text('bob')), ...str(2, text('pw'))], undefined],
    ['empty', userAuth, [], undefined],
    ['unknown field', userAuth, [...str(9, text('x')), 0x50, 0x01], undefined],
    ['varint for a string', userAuth, [0x08, 0x01], 'user must be a string, got a number or boolean (varint)'],
    ['fixed64 for a string', userAuth, [0x09, 1, 2, 3, 4, 5, 6, 7, 8], 'user must be a string, got a 64-bit number'],
    ['group for a string', userAuth, [0x0b, 0x0c], 'user must be a string, got a group'],
    ['invalid UTF-8', userAuth, str(3, [0xc3, 0x28]), 'device_type is not valid UTF-8 text'],
    ['overlong UTF-8', userAuth, str(1, [0xc0, 0xaf]), 'user is not valid UTF-8 text'],
    ['UTF-8 surrogate', userAuth, str(1, [0xed, 0xa0, 0x80]), 'user is not valid UTF-8 text'],
    [
      'truncated length',
      userAuth,
      [0x0a, 0x05, 0x61],
      'request is not a valid protobuf message (truncated or corrupt)',
    ],
    ['truncated varint', userAuth, [0x0a, 0xff], 'request is not a valid protobuf message (truncated or corrupt)'],
    [
      'string for a bool',
      logout,
      str(2, text('yes')),
      'all_devices must be a boolean, got a string, bytes or a message',
    ],
    [
      'wrong type inside the struct',
      register,
      str(1, [0x1a, 0x01, 0x41, 0x20, 0x01]),
      'info.email must be a string, got a number or boolean (varint)',
    ],
    ['corrupt struct', register, str(1, [0x0a, 0x09]), 'info is not a valid protobuf message (truncated or corrupt)'],
    ['varint for the struct', register, [0x08, 0x01], 'info must be a message, got a number or boolean (varint)'],
  ];

  for (const [what, desc, bytes, want] of cases) {
    it(`${want ? 'refuses' : 'accepts'}: ${what}`, function () {
      assert.equal(checkMessage(new Uint8Array(bytes), desc, messages), want);
    });
  }

  it('accepts what the generated encoder produces', function () {
    const a = IAuthServerUserAuthRequest.encode({ user: 'bøb', passwd: '密码 🔑', device_type: 'ios' }).finish();
    assert.equal(checkMessage(a, userAuth, messages), undefined);
    const b = IAuthServerRegisterUserRequest.encode({
      info: { username: 'x', password: 'y', display_name: 'z', email: '' },
    }).finish();
    assert.equal(checkMessage(b, register, messages), undefined);
  });

  it('decodes good requests as before and bad ones to markers the guarded servant turns into INVALID_ARGUMENT', async function () {
    const strict = strictInterface(IAuthServerInfo, index);
    const def = Object.values(strict.service).find((d) => d.path === '/auth.IAuthServer/userAuth')!;
    const good = def.requestDeserialize(
      Buffer.from(IAuthServerUserAuthRequest.encode({ user: 'bob', passwd: 'pw', device_type: 'web' }).finish()),
    );
    assert.deepEqual(good, { user: 'bob', passwd: 'pw', device_type: 'web' });
    const badReq = def.requestDeserialize(Buffer.from([0x08, 0x01])) as Record<string, unknown>;
    assert.ok(badReq.user instanceof MalformedRequest);
    assert.equal(badReq.passwd, badReq.user);

    let called = false;
    const servant = guardServant(strict, {
      userAuth: (...args: unknown[]) => {
        called = true;
        return args.length;
      },
    } as never) as unknown as { userAuth: (...a: unknown[]) => unknown };
    assert.throws(() => servant.userAuth(badReq.user, badReq.passwd, badReq.device_type, {}), {
      code: 'INVALID_ARGUMENT',
      message: 'user must be a string, got a number or boolean (varint)',
    });
    assert.equal(called, false);
    assert.equal(servant.userAuth('bob', 'pw', 'web', {}), 4);
  });
});
