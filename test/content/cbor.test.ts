import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Lwm2mPath } from '../../src/model/path';
import { DecodeError, EncodeError } from '../../src/errors';
import { cborCodec } from '../../src/content/cbor';
import { Lwm2mValue } from '../../src/content/values';
import { emptyRegistry, hex, registry } from './model-a';

const at = (p: string, reg = registry) => ({ registry: reg, path: Lwm2mPath.parse(p) });
const enc = (p: string, value: Lwm2mValue, reg = registry) => cborCodec.encode([{ path: Lwm2mPath.parse(p), value }], at(p, reg)).toString('hex');
const dec = (p: string, h: string, reg = registry) => {
  const r = cborCodec.decode(hex(h), at(p, reg));
  assert.equal(r.length, 1);
  assert.equal(r[0].path.toString(), p);
  return r[0].value;
};
const decodeFails = (p: string, h: string, ...fragments: string[]) => assert.throws(() => dec(p, h), (e: unknown) => {
  assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`);
  assert.equal(e.format, 60);
  for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" should contain "${f}"`);
  return true;
});

describe('CBOR single value codec (60)', () => {
  test('identifies itself', () => {
    assert.equal(cborCodec.format, 60);
    assert.equal(cborCodec.singleValue, true);
  });

  test('encodes with the shortest heads (RFC 8949 4.1) and round trips every type', () => {
    const cases: Array<[string, Lwm2mValue, string]> = [
      ['/9999/0/0', '', '60'],
      ['/9999/0/0', 'IETF', '6449455446'],
      ['/9999/0/1', 0, '00'],
      ['/9999/0/1', 23, '17'],
      ['/9999/0/1', 24, '1818'],
      ['/9999/0/1', 1000, '1903e8'],
      ['/9999/0/1', -1, '20'],
      ['/9999/0/1', -1000, '3903e7'],
      ['/9999/0/1', 4294967296, '1b0000000100000000'],
      ['/9999/0/1', 9223372036854775807n, '1b7fffffffffffffff'],
      ['/9999/0/1', -9223372036854775808n, '3b7fffffffffffffff'],
      ['/9999/0/2', 18446744073709551615n, '1bffffffffffffffff'],
      ['/9999/0/3', 1.5, 'fa3fc00000'],
      ['/9999/0/3', 1, 'fa3f800000'],
      ['/9999/0/3', 0.1, 'fb3fb999999999999a'],
      ['/9999/0/4', true, 'f5'],
      ['/9999/0/4', false, 'f4'],
      ['/9999/0/5', Buffer.of(1, 2, 3, 4), '4401020304'],
      ['/9999/0/5', Buffer.alloc(0), '40'],
      ['/9999/0/6', new Date(1367491215000), '1a5182428f'],
      ['/9999/0/7', { objectId: 3, instanceId: 0 }, '63333a30'],
      ['/9999/0/8', '</1>', '643c2f313e'],
    ];
    for (const [p, v, h] of cases) {
      assert.equal(enc(p, v), h, `${p} ${String(v)}`);
      assert.deepEqual(dec(p, h), v, `${p} ${h}`);
    }
  });

  test('decodes the other encodings a peer may choose', () => {
    assert.deepEqual(dec('/9999/0/6', 'c11a5182428f'), new Date(1367491215000), 'tag 1 epoch time');
    assert.deepEqual(dec('/9999/0/6', 'c074323031332d30352d30325431303a34303a31355a'), new Date(1367491215000), 'tag 0 date string');
    assert.equal(dec('/9999/0/3', 'f93e00'), 1.5, 'half float');
    assert.equal(dec('/9999/0/3', '02'), 2, 'an integer for a float');
    assert.equal(dec('/9999/0/1', '1b0000000000000005'), 5, 'non-shortest integer');
    assert.equal(dec('/9999/0/2', 'c249010000000000000000', emptyRegistry), 18446744073709551616n, 'bignum, unknown resource');
  });

  test('unknown resources decode as the CBOR type', () => {
    assert.equal(dec('/5/0/1', '1903e8', emptyRegistry), 1000);
    assert.equal(dec('/5/0/1', 'fa3fc00000', emptyRegistry), 1.5);
    assert.equal(dec('/5/0/1', '6449455446', emptyRegistry), 'IETF');
    assert.deepEqual(dec('/5/0/1', '4401020304', emptyRegistry), Buffer.of(1, 2, 3, 4));
    assert.equal(dec('/5/0/1', 'f5', emptyRegistry), true);
    assert.equal(enc('/5/0/1', 2.5, emptyRegistry), 'fa40200000');
    assert.equal(enc('/5/0/1', 7, emptyRegistry), '07');
  });

  test('rejects what is not one value of the model type', () => {
    decodeFails('/9999/0/1', '', 'empty');
    decodeFails('/9999/0/1', '0102', 'malformed');
    decodeFails('/9999/0/1', '820102', 'array');
    decodeFails('/9999/0/1', 'a0', 'map');
    decodeFails('/9999/0/1', 'c1a0', 'map');
    decodeFails('/9999/0/1', 'f6', 'null');
    decodeFails('/9999/0/1', '5affffffff00', 'malformed');
    decodeFails('/9999/0/1', 'fa3fc00000', '/9999/0/1', 'integer');
    decodeFails('/9999/0/1', '1bffffffffffffffff', 'signed 64-bit');
    decodeFails('/9999/0/4', '01', 'boolean');
    decodeFails('/9999/0/7', '62333a', 'objlnk');
    decodeFails('/9999/0/0', '01', 'string');
    decodeFails('/9999/0/5', '6161', 'opaque');
    decodeFails('/3/0', '01', 'resource');
  });

  test('encoding errors are EncodeError', () => {
    assert.throws(() => enc('/9999/0/1', 'x'), (e: unknown) => e instanceof EncodeError && e.format === 60);
    assert.throws(() => cborCodec.encode([], at('/9999/0/1')), EncodeError);
    assert.throws(() => enc('/9999/0/9', 1), EncodeError);
  });
});
