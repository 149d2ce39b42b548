import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'crypto';
import { CookieFactory } from '../../src/dtls/cookie';
import { decodeClientHello, encodeClientHello } from '../../src/dtls/handshake-messages';

function hello(cookie: Buffer = Buffer.alloc(0), random: Buffer = randomBytes(32), suites = [0xc0a8]) {
  const body = encodeClientHello({ clientVersion: 0xfefd, random, sessionId: Buffer.alloc(0), cookie, cipherSuites: suites,
    compressionMethods: Buffer.from([0]), extensions: [{ type: 23, data: Buffer.alloc(0) }] });
  return { body, ch: decodeClientHello(body) };
}

describe('HelloVerifyRequest cookies (RFC 6347 4.2.1)', () => {
  test('a cookie verifies for the same client parameters and address only', () => {
    const f = new CookieFactory();
    const first = hello();
    const cookie = f.generate('10.0.0.1', 5000, first.body, first.ch.cookieStart, first.ch.cookieEnd, first.ch.paramsEnd);
    // the second ClientHello repeats the parameters and carries the cookie
    const second = hello(cookie, first.ch.random);
    const v = (addr: string, port: number, h = second) => f.verify(addr, port, h.ch.cookie, h.body, h.ch.cookieStart, h.ch.cookieEnd, h.ch.paramsEnd);
    assert.ok(v('10.0.0.1', 5000));
    assert.ok(!v('10.0.0.2', 5000), 'other address');
    assert.ok(!v('10.0.0.1', 5001), 'other port');
    assert.ok(!v('10.0.0.1', 5000, hello(cookie)), 'other random');
    assert.ok(!v('10.0.0.1', 5000, hello(cookie, first.ch.random, [0xc0a8, 0x00ae])), 'other cipher suites');
    const bad = Buffer.from(cookie);
    bad[0] ^= 1;
    assert.ok(!v('10.0.0.1', 5000, hello(bad, first.ch.random)), 'altered cookie');
    assert.ok(!v('10.0.0.1', 5000, hello(cookie.subarray(0, 16), first.ch.random)), 'short cookie');
  });

  test('the secret rotates: a cookie lives at least one lifetime and at most two', () => {
    let now = 1_000_000;
    const f = new CookieFactory({ lifetimeMs: 1000, now: () => now });
    const h = hello();
    const cookie = f.generate('::1', 1, h.body, h.ch.cookieStart, h.ch.cookieEnd, h.ch.paramsEnd);
    const again = hello(cookie, h.ch.random);
    const ok = () => f.verify('::1', 1, cookie, again.body, again.ch.cookieStart, again.ch.cookieEnd, again.ch.paramsEnd);
    now += 999;
    assert.ok(ok(), 'same secret');
    now += 1; // rotation: the cookie was made with what is now the previous secret
    assert.ok(ok(), 'previous secret still accepted');
    now += 1000; // second rotation: gone
    assert.ok(!ok(), 'two rotations later');
  });

  test('after a long silence neither old secret survives', () => {
    let now = 0;
    const f = new CookieFactory({ lifetimeMs: 1000, now: () => now });
    const h = hello();
    const cookie = f.generate('::1', 1, h.body, h.ch.cookieStart, h.ch.cookieEnd, h.ch.paramsEnd);
    const again = hello(cookie, h.ch.random);
    now += 5000;
    assert.ok(!f.verify('::1', 1, cookie, again.body, again.ch.cookieStart, again.ch.cookieEnd, again.ch.paramsEnd));
  });
});
