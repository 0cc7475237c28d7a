// The interfaces a device calls, as the IDL compiler generated them
// (proto/gen/ts/*.tce.ts): the SDK's calls are checked against them at compile
// time, so a method or parameter renamed in the IDL breaks the build here, not
// on a phone. Types only: nothing of the server runtime reaches a bundle.
import type { IAuthServerServant } from '../../proto/gen/ts/auth.tce.js';
import type { IDiagServant } from '../../proto/gen/ts/diag.tce.js';
import type { ILocationQueryServant, ILocationReportServant } from '../../proto/gen/ts/location.tce.js';
import type { IMessageServerServant, ISessionServant } from '../../proto/gen/ts/messaging.tce.js';

/** Qualified IDL interface name → its generated interface (those a device calls; not ITerminal, which it serves). */
export interface DeviceApi {
  'auth.IAuthServer': IAuthServerServant;
  'messaging.IMessageServer': IMessageServerServant;
  'messaging.ISession': ISessionServant;
  'location.ILocationQuery': ILocationQueryServant;
  'location.ILocationReport': ILocationReportServant;
  'diag.IDiag': IDiagServant;
}

export type Iface = keyof DeviceApi;
export type Method<I extends Iface> = keyof DeviceApi[I] & string;

type Fn<I extends Iface, M extends Method<I>> = DeviceApi[I][M] extends (...args: infer A) => infer R
  ? { args: A; result: R }
  : never;

/** A method's parameters in IDL order (the generated servant's, without its trailing call context). */
export type Args<I extends Iface, M extends Method<I>> = Fn<I, M>['args'] extends [...infer P, unknown] ? P : never;

/** What a method answers (void for none). */
export type Result<I extends Iface, M extends Method<I>> = Awaited<Fn<I, M>['result']>;
