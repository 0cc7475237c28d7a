// Which address a login is throttled under: the gateway-forwarded one when
// valid, else the peer; IPv4-mapped IPv6 as IPv4; other IPv6 by its /64.
import assert from 'node:assert/strict';
import { clientAddress, hostOfPeer, normaliseAddress } from '../../../services/auth/src/client-address.js';

describe('auth: client address', function () {
  const peers: [string, string][] = [
    ['127.0.0.1:50000', '127.0.0.1'],
    ['ipv4:10.1.2.3:443', '10.1.2.3'],
    ['[::1]:50000', '::1'],
    ['ipv6:[2001:db8::1]:80', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['unix:/tmp/sock', 'unix:/tmp/sock'],
  ];
  for (const [peer, host] of peers) {
    it(`takes the host of peer ${peer}`, function () {
      assert.equal(hostOfPeer(peer), host);
    });
  }

  const addrs: [string, string | undefined][] = [
    ['203.0.113.7', '203.0.113.7'],
    [' 203.0.113.7 ', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::1', '2001:db8:1:2::/64'],
    ['2001:db8::', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0:0::/64'],
    ['not-an-ip', undefined],
    ['999.1.1.1', undefined],
    ['', undefined],
  ];
  for (const [addr, want] of addrs) {
    it(`normalises ${JSON.stringify(addr)} → ${want}`, function () {
      assert.equal(normaliseAddress(addr), want);
    });
  }

  it('prefers a valid forwarded address, else the peer, else "unknown"', function () {
    assert.equal(clientAddress({ 'client-addr': '198.51.100.4' }, '10.0.0.1:5'), '198.51.100.4');
    assert.equal(clientAddress({ 'client-addr': 'garbage' }, '10.0.0.1:5'), '10.0.0.1');
    assert.equal(clientAddress({}, '[2001:db8:a:b::1]:5'), '2001:db8:a:b::/64');
    assert.equal(clientAddress({}, 'unix:/tmp/x'), 'unknown');
  });
});
