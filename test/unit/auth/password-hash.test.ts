// scrypt hashing: the production parameters, PHC format, verification in
// constant time, parameters carried in the hash, corrupt hashes refused.
// (One hash at the production cost, N=2^17; the rest use a cheap cost.)
import assert from 'node:assert/strict';
import {
  DEFAULT_PARAMS,
  hashPassword,
  needsRehash,
  parseHash,
  verifyPassword,
} from '../../../services/auth/src/password-hash.js';

const CHEAP = { ln: 10, r: 8, p: 1 };

describe('auth: password hashing', function () {
  // Two hashes at the production cost take ~1 s on an idle core, far longer on a busy shared box.
  this.timeout(60_000);

  it('uses scrypt N=2^17, r=8, p=1 by default (works within maxmem) and verifies', async function () {
    assert.deepEqual(DEFAULT_PARAMS, { ln: 17, r: 8, p: 1 });
    const h = await hashPassword('correct horse battery staple');
    assert.match(h, /^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.equal(await verifyPassword('correct horse battery staple', h), true);
    assert.equal(needsRehash(h), false);
  });

  it('salts every hash and refuses wrong passwords', async function () {
    const a = await hashPassword('same password', CHEAP);
    const b = await hashPassword('same password', CHEAP);
    assert.notEqual(a, b);
    assert.equal(await verifyPassword('same password', b), true);
    assert.equal(await verifyPassword('same passwort', b), false);
    assert.equal(await verifyPassword('', b), false);
    assert.equal(await verifyPassword('密码 🔑', await hashPassword('密码 🔑', CHEAP)), true);
  });

  it('verifies hashes made with other parameters, and flags them for rehashing', async function () {
    const h = await hashPassword('pw', CHEAP);
    assert.deepEqual(parseHash(h).params, CHEAP);
    assert.equal(await verifyPassword('pw', h), true);
    assert.equal(needsRehash(h), true);
  });

  it('refuses corrupt stored hashes instead of running them', function () {
    const cases: [string, RegExp][] = [
      ['plaintext', /not a scrypt PHC string/],
      ['$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', /not a scrypt PHC string/],
      ['$scrypt$ln=40,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$' + 'A'.repeat(43), /ln=40 out of bounds/],
      ['$scrypt$ln=17,r=8,p=99$c2FsdHNhbHRzYWx0c2FsdA$' + 'A'.repeat(43), /p=99 out of bounds/],
      ['$scrypt$ln=17,r=8,p=1$c2FsdA$aGFzaA', /wrong key length/],
    ];
    for (const [h, re] of cases) assert.throws(() => parseHash(h), re, h);
  });
});
