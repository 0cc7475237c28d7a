// Route resolution by name and by IDL index, with the exact errors.
import assert from 'node:assert/strict';
import { IAuthServerInfo } from '../../../proto/gen/ts/auth.tce.js';
import { IMessageServerInfo, ISessionInfo, ITerminalInfo } from '../../../proto/gen/ts/messaging.tce.js';
import { PlatformError } from '../../../services/runtime/src/errors.js';
import { RouteTable } from '../../../services/gateway/src/routes.js';

describe('gateway routes', function () {
  const table = new RouteTable(
    [
      { info: IMessageServerInfo, target: { kind: 'local', servant: {} } },
      { info: ISessionInfo, target: { kind: 'local', servant: {} } },
      { info: IAuthServerInfo, target: { kind: 'forward', upstream: 'auth' } },
    ],
    [ITerminalInfo],
  );
  const none = { iface: '', iface_index: 0, method: '', method_index: 0 };

  it('resolves by name and by index to the same method', function () {
    const a = table.resolve({ ...none, iface: 'auth.IAuthServer', method: 'userAuth' });
    const b = table.resolve({ ...none, iface_index: 1, method_index: 2 });
    assert.equal(a.method, b.method);
    assert.equal(a.method.path, '/auth.IAuthServer/userAuth');
    assert.deepEqual(a.route.target, { kind: 'forward', upstream: 'auth' });
  });

  const bad: [Partial<typeof none>, string, string][] = [
    [{ iface: 'x.Y', method: 'm' }, 'UNIMPLEMENTED', 'unknown interface x.Y'],
    [
      { iface: 'messaging.ITerminal', method: 'onMessage' },
      'UNIMPLEMENTED',
      'messaging.ITerminal is implemented by devices, not by the platform',
    ],
    [
      { iface: 'messaging.IMessageServer', method: 'toString' },
      'UNIMPLEMENTED',
      'messaging.IMessageServer has no method toString',
    ],
    [
      { iface: 'messaging.IMessageServer', method: '__proto__' },
      'UNIMPLEMENTED',
      'messaging.IMessageServer has no method __proto__',
    ],
    [{ iface_index: 77, method_index: 1 }, 'UNIMPLEMENTED', 'unknown interface index 77'],
    [{ iface_index: 2 }, 'INVALID_ARGUMENT', 'a call needs method or method_index'],
    [{}, 'INVALID_ARGUMENT', 'a call needs iface or iface_index'],
  ];
  for (const [f, code, message] of bad) {
    it(`refuses ${JSON.stringify(f)}`, function () {
      assert.throws(
        () => table.resolve({ ...none, ...f }),
        (e: unknown) => e instanceof PlatformError && e.code === code && e.message === message,
      );
    });
  }

  it('refuses two routes with one index', function () {
    assert.throws(
      () =>
        new RouteTable([
          { info: IMessageServerInfo, target: { kind: 'local', servant: {} } },
          { info: { ...ISessionInfo, index: 2 }, target: { kind: 'local', servant: {} } },
        ]),
      /interface index 2 used by messaging.IMessageServer and messaging.ISession/,
    );
  });
});
