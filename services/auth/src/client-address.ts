// The address brute-force throttling keys on. Behind the gateway every call
// comes from a gateway pod, so the gateway passes the device's address in
// ctx.extra ('client-addr'); direct callers are keyed by their peer address.
// IPv6 addresses are keyed by their /64: one subscriber usually holds a whole
// /64, and per-address limits would otherwise be trivially sidestepped.
import net from 'node:net';
import { CLIENT_ADDR_EXTRA } from './extra-keys.js';

/** Extracts the host from a grpc-js peer string: "1.2.3.4:5", "[::1]:5", "ipv4:…", "unix:…". */
export function hostOfPeer(peer: string): string {
  let p = peer.replace(/^(ipv4|ipv6):/, '');
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(p);
  if (bracket) return bracket[1]!;
  if (net.isIPv6(p)) return p;
  const colon = p.lastIndexOf(':');
  if (colon > 0 && net.isIPv4(p.slice(0, colon))) p = p.slice(0, colon);
  return p;
}

/** Canonical throttle key part for an address: IPv4 as is, IPv4-mapped IPv6 as IPv4, other IPv6 as its /64. */
export function normaliseAddress(addr: string): string | undefined {
  const a = addr.trim();
  if (net.isIPv4(a)) return a;
  if (!net.isIPv6(a)) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped && net.isIPv4(mapped[1]!)) return mapped[1]!;
  return `${expandIPv6(a).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(a: string): string[] {
  let s = a.split('%')[0]!.toLowerCase();
  // An embedded IPv4 tail becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    s = s.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => g.replace(/^0+(?=.)/, ''));
}

/** The throttle key for a call: the gateway-forwarded address if valid, else the peer, else 'unknown'. */
export function clientAddress(extra: Record<string, string>, peer: string): string {
  const forwarded = extra[CLIENT_ADDR_EXTRA];
  if (forwarded) {
    const n = normaliseAddress(forwarded);
    if (n) return n;
  }
  return normaliseAddress(hostOfPeer(peer)) ?? 'unknown';
}
