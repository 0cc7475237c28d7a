// The SDK's typed calls follow the IDL: every interface the SDK names has a
// generated interface, and `invoke` refuses (at compile time — `make lint`
// type-checks this file) a method the IDL lacks, missing or mistyped
// parameters and a wrong result type.
import assert from 'node:assert/strict';
import type { TceClient } from '../../../sdk/src/client.js';
import type { Iface } from '../../../sdk/src/device-api.js';
import { codec, IFACES } from '../../../sdk/src/index.js';

// Never run: its body is checked by the compiler only.
export async function compileTimeChecks(c: TceClient): Promise<void> {
  // @ts-expect-error: no such method in location::ILocationQuery
  await c.invoke(IFACES.locationQuery, 'nearest', [1, 2, 3, 4]);
  // @ts-expect-error: nearby takes four parameters
  await c.invoke(IFACES.locationQuery, 'nearby', [1, 2, 3]);
  // @ts-expect-error: lon is a double
  await c.invoke(IFACES.locationQuery, 'nearby', ['1', 2, 3, 4]);
  // @ts-expect-error: nearby answers a QueryResult
  const wrong: string = await c.invoke(IFACES.locationQuery, 'nearby', [1, 2, 3, 4]);
  void wrong;
  const ok = await c.invoke(IFACES.messages, 'history', ['peer', 0, 20]);
  void ok.has_more;
}

describe('sdk: calls typed from the IDL', function () {
  it('names only interfaces the IDL defines, each with the methods the codec knows', function () {
    const { terminal, ...called } = IFACES; // ITerminal is served by the device, not called
    assert.equal(terminal, 'messaging.ITerminal');
    const names: Iface[] = Object.values(called);
    for (const iface of names) assert.ok(codec.iface(iface), iface);
    assert.equal(codec.method(IFACES.locationQuery, 'nearby').name, 'nearby');
  });
});
