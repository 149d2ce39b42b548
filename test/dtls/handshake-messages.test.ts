import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'crypto';
import {
  decodeClientHello, decodeFinished, decodeHelloVerifyRequest, decodePskClientKeyExchange, decodePskServerKeyExchange,
  decodeServerHello, encodeClientHello, encodeHelloVerifyRequest, encodeServerHello, encodeVec16,
} from '../../src/dtls/handshake-messages';
import { DtlsDecodeError } from '../../src/dtls/errors';

const ch = {
  clientVersion: 0xfefd,
  random: randomBytes(32),
  sessionId: Buffer.alloc(0),
  cookie: randomBytes(20),
  cipherSuites: [0xc0a8, 0x00ae, 0x00ff],
  compressionMethods: Buffer.from([0]),
  extensions: [{ type: 23, data: Buffer.alloc(0) }, { type: 0xff01, data: Buffer.from([0]) }],
};

describe('hello messages', () => {
  test('ClientHello round trip, with the byte ranges the cookie covers', () => {
    const body = encodeClientHello(ch);
    const d = decodeClientHello(body);
    assert.equal(d.clientVersion, ch.clientVersion);
    assert.deepEqual(d.random, ch.random);
    assert.deepEqual(d.cookie, ch.cookie);
    assert.deepEqual(d.cipherSuites, ch.cipherSuites);
    assert.deepEqual(d.extensions, ch.extensions);
    // version + random + session_id | cookie vector | cipher suites + compression
    assert.equal(d.cookieStart, 2 + 32 + 1);
    assert.equal(d.cookieEnd, d.cookieStart + 1 + 20);
    assert.equal(d.paramsEnd, d.cookieEnd + 2 + 6 + 2);
  });

  test('a ClientHello without extensions is legal (RFC 5246 7.4.1.2)', () => {
    const d = decodeClientHello(encodeClientHello({ ...ch, extensions: [] }));
    assert.deepEqual(d.extensions, []);
  });

  test('ServerHello and HelloVerifyRequest round trip', () => {
    const sh = { serverVersion: 0xfefd, random: randomBytes(32), sessionId: randomBytes(32), cipherSuite: 0xc0a8, compressionMethod: 0,
      extensions: [{ type: 0xff01, data: Buffer.from([0]) }] };
    assert.deepEqual(decodeServerHello(encodeServerHello(sh)), sh);
    const hvr = { serverVersion: 0xfeff, cookie: randomBytes(32) };
    assert.deepEqual(decodeHelloVerifyRequest(encodeHelloVerifyRequest(hvr)), hvr);
  });

  test('PSK key exchange messages and Finished', () => {
    assert.deepEqual(decodePskClientKeyExchange(encodeVec16(Buffer.from('dev-1'))), Buffer.from('dev-1'));
    assert.deepEqual(decodePskServerKeyExchange(encodeVec16(Buffer.alloc(0))), Buffer.alloc(0));
    assert.throws(() => decodeFinished(Buffer.alloc(11)), DtlsDecodeError);
    assert.throws(() => decodePskClientKeyExchange(Buffer.from([0, 5, 1, 2])), DtlsDecodeError);
    assert.throws(() => decodePskClientKeyExchange(Buffer.from([0, 1, 1, 2])), DtlsDecodeError, 'trailing bytes');
  });

  test('every truncation of a ClientHello and every bad vector length throws DtlsDecodeError', () => {
    const body = encodeClientHello(ch);
    for (let n = 0; n < body.length; n++) {
      // a prefix ending exactly after compression_methods is a valid extension-less hello
      if (n === decodeClientHello(body).paramsEnd) continue;
      assert.throws(() => decodeClientHello(body.subarray(0, n)), DtlsDecodeError, `prefix ${n}`);
    }
    const odd = encodeClientHello({ ...ch, cipherSuites: [1] });
    odd.writeUInt16BE(3, 2 + 32 + 1 + 1 + 20); // odd cipher_suites length
    assert.throws(() => decodeClientHello(odd), DtlsDecodeError);
    const dup = encodeClientHello({ ...ch, extensions: [{ type: 23, data: Buffer.alloc(0) }, { type: 23, data: Buffer.alloc(0) }] });
    assert.throws(() => decodeClientHello(dup), /duplicate extension/);
    const noComp = encodeClientHello({ ...ch, compressionMethods: Buffer.alloc(0), extensions: [] });
    assert.throws(() => decodeClientHello(noComp), DtlsDecodeError);
  });

  test('random garbage never escapes as anything but DtlsDecodeError', () => {
    let x = 99;
    const rnd = (n: number): number => { x = (x * 1103515245 + 12345) & 0x7fffffff; return x % n; };
    const decoders = [decodeClientHello, decodeServerHello, decodeHelloVerifyRequest, decodePskClientKeyExchange];
    for (let i = 0; i < 5000; i++) {
      const buf = Buffer.alloc(rnd(120));
      for (let j = 0; j < buf.length; j++) buf[j] = rnd(256);
      for (const dec of decoders) {
        try {
          dec(buf);
        } catch (err) {
          assert.ok(err instanceof DtlsDecodeError, String(err));
        }
      }
    }
  });
});
