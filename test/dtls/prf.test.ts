import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'crypto';
import {
  extendedMasterSecret, finishedVerifyData, keyBlock, masterSecret, prf, pskPremasterSecret, pSha256,
} from '../../src/dtls/prf';
import { deriveEpochKeys, TLS_PSK_WITH_AES_128_CCM_8 } from '../../src/dtls/suites';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s:]/g, ''), 'hex');

describe('TLS 1.2 PRF (RFC 5246 5)', () => {
  test('P_SHA256 test vector (IETF TLS WG, also `openssl kdf TLS1-PRF`)', () => {
    const secret = hex('9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35');
    const seed = hex('a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c');
    const expected = hex(`e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4 e6 1e db 5a
      6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af 0f a0 22 f7 07 7d ef 17 ab fd 37 97 c0 56 4b ab 4f bc 91 66 6e 9d ef 9b
      97 fc e3 4f 79 67 89 ba a4 80 82 d1 22 ee 42 c5 a7 2e 5a 51 10 ff f7 01 87 34 7b 66`);
    assert.deepEqual(prf(secret, 'test label', seed, 100), expected);
  });

  test('output is a prefix-consistent stream: shorter outputs are prefixes of longer ones', () => {
    const secret = Buffer.from('secret');
    const seed = Buffer.from('seed');
    const long = pSha256(secret, seed, 97);
    for (const n of [1, 31, 32, 33, 64, 96]) assert.deepEqual(pSha256(secret, seed, n), long.subarray(0, n));
  });

  test('P_SHA256 follows the A(i) chain of RFC 5246 5 (first two blocks computed by hand)', () => {
    const secret = Buffer.from('k');
    const seed = Buffer.from('s');
    const a1 = createHmac('sha256', secret).update(seed).digest();
    const a2 = createHmac('sha256', secret).update(a1).digest();
    const b1 = createHmac('sha256', secret).update(Buffer.concat([a1, seed])).digest();
    const b2 = createHmac('sha256', secret).update(Buffer.concat([a2, seed])).digest();
    assert.deepEqual(pSha256(secret, seed, 64), Buffer.concat([b1, b2]));
  });
});

describe('PSK key schedule', () => {
  test('premaster secret of RFC 4279 2: uint16 N, N zeros, uint16 N, psk', () => {
    const psk = hex('0102030405');
    assert.deepEqual(pskPremasterSecret(psk), hex('0005 0000000000 0005 0102030405'));
  });

  test('master secret and extended master secret use their labels and seeds', () => {
    const pms = pskPremasterSecret(Buffer.from('key'));
    const cr = Buffer.alloc(32, 1);
    const sr = Buffer.alloc(32, 2);
    assert.deepEqual(masterSecret(pms, cr, sr), prf(pms, 'master secret', Buffer.concat([cr, sr]), 48));
    const sessionHash = Buffer.alloc(32, 3);
    assert.deepEqual(extendedMasterSecret(pms, sessionHash), prf(pms, 'extended master secret', sessionHash, 48));
    assert.notDeepEqual(masterSecret(pms, cr, sr), masterSecret(pms, sr, cr));
  });

  test('key block seed is server_random + client_random; Finished uses the side labels', () => {
    const ms = Buffer.alloc(48, 7);
    const cr = Buffer.alloc(32, 1);
    const sr = Buffer.alloc(32, 2);
    assert.deepEqual(keyBlock(ms, cr, sr, 40), prf(ms, 'key expansion', Buffer.concat([sr, cr]), 40));
    const h = Buffer.alloc(32, 9);
    assert.deepEqual(finishedVerifyData(ms, true, h), prf(ms, 'client finished', h, 12));
    assert.deepEqual(finishedVerifyData(ms, false, h), prf(ms, 'server finished', h, 12));
  });

  test('epoch keys: the client writes with what the server reads, and the reverse', () => {
    const ms = Buffer.alloc(48, 5);
    const cr = Buffer.alloc(32, 1);
    const sr = Buffer.alloc(32, 2);
    const client = deriveEpochKeys(TLS_PSK_WITH_AES_128_CCM_8, ms, cr, sr, true);
    const server = deriveEpochKeys(TLS_PSK_WITH_AES_128_CCM_8, ms, cr, sr, false);
    const rec = client.write.seal(23, 0xfefd, 1, 5, Buffer.from('hello'));
    assert.deepEqual(server.read.open(23, 0xfefd, 1, 5, rec, 13, rec.length), Buffer.from('hello'));
    assert.equal(client.read.open(23, 0xfefd, 1, 5, rec, 13, rec.length), null, 'a side cannot read its own writes');
    const back = server.write.seal(23, 0xfefd, 1, 0, Buffer.from('world'));
    assert.deepEqual(client.read.open(23, 0xfefd, 1, 0, back, 13, back.length), Buffer.from('world'));
  });
});
