import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, createHmac } from 'crypto';
import { CbcSha256Protection } from '../../src/dtls/cipher-cbc';

const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const macKey = Buffer.alloc(32, 0x42);

function macInput(epoch: number, seq: number, type: number, content: Buffer): Buffer {
  const h = Buffer.alloc(13);
  h.writeUInt16BE(epoch, 0);
  h.writeUIntBE(seq, 2, 6);
  h[8] = type;
  h.writeUInt16BE(0xfefd, 9);
  h.writeUInt16BE(content.length, 11);
  return Buffer.concat([h, content]);
}

/** A record built by hand from RFC 5246 6.2.3.2, with a chosen padding length. */
function handRecord(epoch: number, seq: number, type: number, content: Buffer, padLength: number, iv: Buffer): Buffer {
  const mac = createHmac('sha256', macKey).update(macInput(epoch, seq, type, content)).digest();
  const pad = Buffer.alloc(padLength + 1, padLength);
  const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
  const body = Buffer.concat([iv, c.update(Buffer.concat([content, mac, pad])), c.final()]);
  const h = Buffer.alloc(13);
  h[0] = type;
  h.writeUInt16BE(0xfefd, 1);
  h.writeUInt16BE(epoch, 3);
  h.writeUIntBE(seq, 5, 6);
  h.writeUInt16BE(body.length, 11);
  return Buffer.concat([h, body]);
}

describe('AES-128-CBC + HMAC-SHA256 record protection (RFC 5246 6.2.3.2)', () => {
  const p = new CbcSha256Protection(key, macKey);

  test('opens records built by hand, with any legal padding length', () => {
    const content = Buffer.from('hello over CBC');
    // content 14 + MAC 32 = 46: padding_length + 1 must make a multiple of 16: 2, 18, 34, ... 242
    for (const padLength of [1, 17, 33, 241]) {
      const rec = handRecord(1, 77, 23, content, padLength, Buffer.alloc(16, padLength));
      assert.deepEqual(p.open(23, 0xfefd, 1, 77, rec, 13, rec.length), content, `padding ${padLength}`);
    }
  });

  test('records we seal decrypt by hand to content + MAC + padding', () => {
    for (const len of [0, 1, 15, 16, 31, 32, 33, 200]) {
      const content = Buffer.alloc(len, 0x61);
      const rec = p.seal(23, 0xfefd, 1, len, content);
      const iv = rec.subarray(13, 29);
      const d = createDecipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
      const plain = Buffer.concat([d.update(rec.subarray(29)), d.final()]);
      const padLength = plain[plain.length - 1];
      for (let i = 1; i <= padLength + 1; i++) assert.equal(plain[plain.length - i], padLength);
      assert.deepEqual(plain.subarray(0, len), content);
      const mac = createHmac('sha256', macKey).update(macInput(1, len, 23, content)).digest();
      assert.deepEqual(plain.subarray(len, len + 32), mac);
      assert.equal(plain.length, len + 32 + padLength + 1);
      assert.deepEqual(p.open(23, 0xfefd, 1, len, rec, 13, rec.length), content);
    }
  });

  test('two seals of the same plaintext use different IVs', () => {
    const a = p.seal(23, 0xfefd, 1, 0, Buffer.from('x'));
    const b = p.seal(23, 0xfefd, 1, 0, Buffer.from('x'));
    assert.notDeepEqual(a.subarray(13, 29), b.subarray(13, 29));
  });

  test('bad padding, bad MAC, wrong sequence number, tampering and bad lengths are refused', () => {
    const content = Buffer.from('hello over CBC');
    // padding bytes that disagree with padding_length
    const iv = Buffer.alloc(16, 3);
    const mac = createHmac('sha256', macKey).update(macInput(1, 1, 23, content)).digest();
    const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
    const badPad = Buffer.concat([content, mac, Buffer.from([1, 2])]);
    const body = Buffer.concat([iv, c.update(badPad), c.final()]);
    const rec = Buffer.concat([Buffer.from([23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, body.length]), body]);
    assert.equal(p.open(23, 0xfefd, 1, 1, rec, 13, rec.length), null);

    const good = p.seal(23, 0xfefd, 1, 9, content);
    assert.equal(p.open(23, 0xfefd, 1, 10, good, 13, good.length), null);
    assert.equal(p.open(21, 0xfefd, 1, 9, good, 13, good.length), null);
    for (let i = 13; i < good.length; i++) {
      const bad = Buffer.from(good);
      bad[i] ^= 0x80;
      assert.equal(p.open(23, 0xfefd, 1, 9, bad, 13, bad.length), null, `byte ${i}`);
    }
    assert.equal(p.open(23, 0xfefd, 1, 9, good, 13, good.length - 1), null, 'not whole blocks');
    assert.equal(p.open(23, 0xfefd, 1, 9, good, 13, 13 + 16 + 32), null, 'too short for MAC + padding');
    const wrongKey = new CbcSha256Protection(key, Buffer.alloc(32, 0x43));
    assert.equal(wrongKey.open(23, 0xfefd, 1, 9, good, 13, good.length), null);
  });
});
