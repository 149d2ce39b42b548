import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv } from 'crypto';
import { Ccm8Protection, ccm8Open, ccm8Seal } from '../../src/dtls/cipher-ccm';
import { parseRecord, RecordView } from '../../src/dtls/record';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');

describe('AES-128-CCM-8 primitive', () => {
  test('NIST SP 800-38C example 3 (12-byte nonce, 8-byte tag: the TLS CCM-8 shape)', () => {
    const key = hex('404142434445464748494a4b4c4d4e4f');
    const nonce = hex('101112131415161718191a1b');
    const aad = hex('000102030405060708090a0b0c0d0e0f10111213');
    const p = hex('202122232425262728292a2b2c2d2e2f3031323334353637');
    const c = hex('e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5 484392fbc1b09951');
    assert.deepEqual(ccm8Seal(key, nonce, aad, p), c);
    assert.deepEqual(ccm8Open(key, nonce, aad, c), p);
  });

  test('RFC 3610 packet vector #1 (13-byte nonce, M = 8)', () => {
    const key = hex('c0c1c2c3c4c5c6c7c8c9cacbcccdcecf');
    const nonce = hex('00000003020100a0a1a2a3a4a5');
    const aad = hex('0001020304050607');
    const p = hex('08090a0b0c0d0e0f101112131415161718191a1b1c1d1e');
    const c = hex('588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0');
    assert.deepEqual(ccm8Seal(key, nonce, aad, p), c);
    assert.deepEqual(ccm8Open(key, nonce, aad, c), p);
  });

  test('any changed bit of ciphertext, tag, nonce or AAD fails', () => {
    const key = hex('404142434445464748494a4b4c4d4e4f');
    const nonce = hex('101112131415161718191a1b');
    const aad = Buffer.from('aad');
    const sealed = ccm8Seal(key, nonce, aad, Buffer.from('some plaintext'));
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i] ^= 0x01;
      assert.equal(ccm8Open(key, nonce, aad, bad), null, `byte ${i}`);
    }
    assert.equal(ccm8Open(key, hex('101112131415161718191a1c'), aad, sealed), null);
    assert.equal(ccm8Open(key, nonce, Buffer.from('aae'), sealed), null);
    assert.equal(ccm8Open(key, nonce, aad, sealed.subarray(0, 7)), null);
  });
});

describe('CCM-8 record protection (RFC 6655 3, RFC 6347 4.1.2.1)', () => {
  const key = hex('000102030405060708090a0b0c0d0e0f');
  const salt = hex('a0a1a2a3');

  test('record = header + epoch|seq explicit nonce + ciphertext + 8-byte tag; nonce and AAD as the RFCs say', () => {
    const p = new Ccm8Protection(key, salt);
    const plaintext = Buffer.from('CoAP over DTLS');
    const epoch = 1;
    const seq = 0x0102030405;
    const rec = p.seal(23, 0xfefd, epoch, seq, plaintext);
    const v = new RecordView();
    assert.equal(parseRecord(rec, 0, v), rec.length);
    assert.equal(v.type, 23);
    assert.equal(v.epoch, epoch);
    assert.equal(v.seq, seq);
    assert.equal(rec.length, 13 + 8 + plaintext.length + 8);
    // nonce_explicit = epoch (2) + sequence number (6)
    assert.deepEqual(rec.subarray(13, 21), hex('0001 000102030405'));
    // decrypt by hand from the RFC definitions
    const nonce = Buffer.concat([salt, rec.subarray(13, 21)]);
    const aad = Buffer.concat([hex('0001 000102030405'), Buffer.from([23, 0xfe, 0xfd, 0, plaintext.length])]);
    const d = createDecipheriv('aes-128-ccm', key, nonce, { authTagLength: 8 });
    d.setAuthTag(rec.subarray(rec.length - 8));
    d.setAAD(aad, { plaintextLength: plaintext.length });
    const out = d.update(rec.subarray(21, rec.length - 8));
    d.final();
    assert.deepEqual(out, plaintext);
  });

  test('open reverses seal; wrong epoch, sequence number, type, key or salt fails', () => {
    const p = new Ccm8Protection(key, salt);
    for (const len of [0, 1, 15, 16, 17, 100, 1200]) {
      const pt = Buffer.alloc(len, len & 0xff);
      const rec = p.seal(23, 0xfefd, 1, len, pt);
      assert.deepEqual(p.open(23, 0xfefd, 1, len, rec, 13, rec.length), pt);
      assert.equal(p.open(23, 0xfefd, 1, len + 1, rec, 13, rec.length), null);
      assert.equal(p.open(22, 0xfefd, 1, len, rec, 13, rec.length), null);
      assert.equal(p.open(23, 0xfefd, 2, len, rec, 13, rec.length), null);
      assert.equal(new Ccm8Protection(hex('ff0102030405060708090a0b0c0d0e0f'), salt).open(23, 0xfefd, 1, len, rec, 13, rec.length), null);
      assert.equal(new Ccm8Protection(key, hex('a0a1a2a4')).open(23, 0xfefd, 1, len, rec, 13, rec.length), null);
    }
  });

  test('fragments shorter than nonce + tag are refused', () => {
    const p = new Ccm8Protection(key, salt);
    const rec = Buffer.alloc(13 + 15);
    assert.equal(p.open(23, 0xfefd, 1, 0, rec, 13, rec.length), null);
  });
});
