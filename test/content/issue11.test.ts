/**
 * Codec behaviours of issue 11: lenient decoding (CodecOptions.undecoded) in every multi-record format, Float
 * resources as CBOR floats in LwM2M CBOR, JSON number literals beyond a double, the `unknown` request kind, and the
 * plain CBOR codec on our own reader (no cbor-x).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, ContentFormat as CF } from '../../src/content/index';
import { UndecodedRecord } from '../../src/content/codec';
import { fallbackFormats } from '../../src/content/choose';
import { cborCodec } from '../../src/content/cbor';
import { DecodeError } from '../../src/errors';
import { Lwm2mPath } from '../../src/model/path';
import { Lwm2mRecord } from '../../src/content/values';
import { at, view } from './fixtures';

const lenient = (format: number, payload: Buffer | string, path: string) => {
  const undecoded: UndecodedRecord[] = [];
  const records = decode(format, Buffer.isBuffer(payload) ? payload : Buffer.from(payload), { ...at(path), undecoded });
  return { records: view(records), undecoded: undecoded.map((u) => u.path.toString()), reasons: undecoded.map((u) => u.reason) };
};
const rec = (path: string, value: Lwm2mRecord['value']): Lwm2mRecord => ({ path: Lwm2mPath.parse(path), value });

describe('lenient decoding: a record whose value does not decode is listed, the others kept', () => {
  // /3/0: Manufacturer "OMA", Battery Level (Integer) carrying text, Reboot (executable) carrying a value, Memory Free 15.
  const cases: Array<[string, number, Buffer | string]> = [
    ['SenML JSON', CF.SENML_JSON, JSON.stringify([{ bn: '/3/0/', n: '0', vs: 'OMA' }, { n: '9', vs: 'full' }, { n: '4', v: 1 }, { n: '10', v: 15 }])],
    ['LwM2M JSON', CF.LWM2M_JSON, '{"bn":"/3/0/","e":[{"n":"0","sv":"OMA"},{"n":"9","sv":"full"},{"n":"4","v":1},{"n":"10","v":15}]}'],
    // [{-2: "/3/0/", 0: "0", 3: "OMA"}, {0: "9", 3: "full"}, {0: "4", 2: 1}, {0: "10", 2: 15}]
    ['SenML CBOR', CF.SENML_CBOR, Buffer.from('84a321652f332f302f0061300363' + Buffer.from('OMA').toString('hex')
      + 'a200613903' + '64' + Buffer.from('full').toString('hex') + 'a2006134' + '0201' + 'a200623130020f', 'hex')],
    // {[3, 0]: {0: "OMA", 9: "full", 4: 1, 10: 15}}
    ['LwM2M CBOR', CF.LWM2M_CBOR, Buffer.from('a18203' + '00' + 'a4' + '0063' + Buffer.from('OMA').toString('hex') + '0964'
      + Buffer.from('full').toString('hex') + '0401' + '0a0f', 'hex')],
    // TLV: resource 0 "OMA", resource 9 with 9 bytes (an Integer has 1-8), resource 4 with a value, resource 10 = 15
    ['TLV', CF.TLV, Buffer.from('c3004f4d41' + 'c80909010203040506070809' + 'c10401' + 'c10a0f', 'hex')],
  ];
  for (const [name, format, payload] of cases) {
    test(name, () => {
      const r = lenient(format, payload, '/3/0');
      assert.deepEqual(r.records, [['/3/0/0', 'OMA'], ['/3/0/10', 15]]);
      assert.deepEqual(r.undecoded, ['/3/0/9', '/3/0/4']);
      assert.ok(r.reasons.every((why) => !why.startsWith('cannot decode')), 'reasons without the format prefix');
      assert.match(r.reasons[1], /executable/);
      // Without the option the whole payload fails, as before.
      assert.throws(() => decode(format, Buffer.isBuffer(payload) ? payload : Buffer.from(payload), at('/3/0')), DecodeError);
    });
  }

  test('malformed structure still fails the whole payload', () => {
    const undecoded: UndecodedRecord[] = [];
    assert.throws(() => decode(CF.SENML_JSON, Buffer.from('[{"bn":"/3/0/","n":"0","vs":"OMA"},'), { ...at('/3/0'), undecoded }), DecodeError);
    assert.throws(() => decode(CF.TLV, Buffer.from('c3004f4d', 'hex'), { ...at('/3/0'), undecoded }), DecodeError);
    assert.throws(() => decode(CF.SENML_JSON, Buffer.from('[{"n":"/4/0/x","v":1}]'), { ...at('/'), undecoded }), DecodeError);
    assert.equal(undecoded.length, 0);
  });
});

describe('LwM2M CBOR: Float resources as CBOR floats (Core 1.2 7.4.6, Appendix C)', () => {
  test('a whole Float is the shortest exact float; Integers and Time stay integers', () => {
    const enc = (r: Lwm2mRecord, p: string) => encode(CF.LWM2M_CBOR, [r], at(p)).toString('hex');
    // {[3308, 0, 5900]: 33.0}
    assert.equal(enc(rec('/3308/0/5900', 33), '/3308/0/5900'), 'a1' + '83190cec00' + '19170c' + 'f95020');
    assert.equal(enc(rec('/3303/0/5700', 21.5), '/3303/0/5700'), 'a1' + '83190ce700' + '191644' + 'f94d60');
    assert.equal(enc(rec('/3303/0/5700', 1e10), '/3303/0/5700'), 'a1' + '83190ce700' + '191644' + 'fa501502f9');
    assert.equal(enc(rec('/3/0/9', 33), '/3/0/9'), 'a1' + '83030009' + '1821');
    // Floats of a multiple resource too: {[10250, 0, 12]: {0: 1.0, 1: 0.1}}
    const multi = encode(CF.LWM2M_CBOR, [rec('/10250/0/12/0', 1), rec('/10250/0/12/1', 0.1)], at('/10250/0/12')).toString('hex');
    assert.equal(multi, 'a1' + '8319280a000c' + 'a2' + '00f93c00' + '01fb3fb999999999999a');
    // And both forms decode.
    assert.deepEqual(view(decode(CF.LWM2M_CBOR, Buffer.from('a183190cec0019170c1821', 'hex'), at('/3308/0/5900'))), [['/3308/0/5900', 33]]);
    assert.deepEqual(view(decode(CF.LWM2M_CBOR, Buffer.from('a183190cec0019170cf95020', 'hex'), at('/3308/0/5900'))), [['/3308/0/5900', 33]]);
  });

  test('SenML CBOR Read of an instance: whole floats as floats, round trip', () => {
    const records = [rec('/3303/0/5700', 20), rec('/3303/0/5601', -4), rec('/3303/0/5701', 'Cel')];
    const buf = encode(CF.SENML_CBOR, records, at('/3303/0'));
    assert.ok(buf.includes(Buffer.from('02f94d00', 'hex')), '20.0 as f9 4d00');
    assert.ok(buf.includes(Buffer.from('02f9c400', 'hex')), '-4.0 as f9 c400');
    assert.deepEqual(view(decode(CF.SENML_CBOR, buf, at('/3303/0'))), view(records));
  });
});

describe('JSON number literals beyond a double are decode errors (RFC 8259 6)', () => {
  test('SenML JSON and LwM2M JSON refuse 1e400 / -1e400 for a Float, in v, bv and t', () => {
    const fails = (f: number, s: string, p: string) => assert.throws(() => decode(f, Buffer.from(s), at(p)),
      (e: unknown) => e instanceof DecodeError && /range|finite/.test(e.message), s);
    fails(CF.SENML_JSON, '[{"bn":"/3303/0/5700","v":1e400}]', '/3303/0/5700');
    fails(CF.SENML_JSON, '[{"bn":"/3303/0/5700","v":-1e400}]', '/3303/0/5700');
    fails(CF.SENML_JSON, '[{"bn":"/3303/0/5700","bv":1e400,"v":1}]', '/3303/0/5700');
    fails(CF.SENML_JSON, '[{"bn":"/3303/0/5700","t":1e400,"v":1}]', '/3303/0/5700');
    fails(CF.LWM2M_JSON, '{"bn":"/3303/0/","e":[{"n":"5700","v":1e400}]}', '/3303/0/5700');
    fails(CF.LWM2M_JSON, '{"bn":"/3303/0/","e":[{"n":"5700","v":1,"t":1e400}]}', '/3303/0/5700');
    // Large but finite values still decode.
    assert.equal(decode(CF.SENML_JSON, Buffer.from('[{"bn":"/3303/0/5700","v":1e300}]'), at('/3303/0/5700'))[0].value, 1e300);
  });
});

describe('the unknown request kind: structured formats first (resources the model does not know)', () => {
  test('1.1 with ct=110, 1.1 bare, 1.2, 1.0', () => {
    assert.deepEqual(fallbackFormats({ version: '1.1', ct: [110], kind: 'unknown' }), [110, 112, 11542, 11543, 0, 60]);
    assert.deepEqual(fallbackFormats({ version: '1.1', kind: 'unknown' }), [112, 110, 11542, 11543, 0, 60]);
    assert.deepEqual(fallbackFormats({ version: '1.2', ct: [11544], kind: 'unknown' }), [11544, 112, 110, 11542, 11543, 0, 60]);
    assert.deepEqual(fallbackFormats({ version: '1.0', kind: 'unknown' }), [11542, 11543, 0]);
    // The single kind is unchanged: text first.
    assert.equal(fallbackFormats({ version: '1.1', kind: 'single' })[0], 0);
  });
});

describe('plain CBOR (60) on our own reader', () => {
  const dec = (p: string, h: string) => cborCodec.decode(Buffer.from(h, 'hex'), at(p))[0].value;
  test('tags: epoch time as integer or float, date string, bignums', () => {
    assert.deepEqual(dec('/10250/0/6', 'c1fb41d46090a3e00000'), new Date(1367491215000), 'tag 1 with a float, floored to seconds');
    assert.deepEqual(dec('/10250/0/6', 'c11a5182428f'), new Date(1367491215000));
    assert.deepEqual(dec('/10250/0/6', 'c074323031332d30352d30325431303a34303a31355a'), new Date(1367491215000));
    assert.equal(dec('/10250/0/2', 'c248ffffffffffffffff'), 18446744073709551615n, 'bignum: Unsigned maximum');
    assert.throws(() => dec('/10250/0/2', 'c249010000000000000000'), DecodeError, '2^64 is beyond Unsigned');
    // A decimal fraction (tag 4) holds an array: refused like any container, as before with cbor-x.
    assert.throws(() => dec('/10250/0/3', 'c48220182d'), DecodeError);
    assert.equal(dec('/10250/0/3', 'f95020'), 33, 'half float');
  });
  test('containers and hostile headers are refused before anything is allocated', () => {
    const fails = (h: string, what: RegExp) => assert.throws(() => dec('/10250/0/1', h), (e: unknown) => e instanceof DecodeError && what.test(e.message), h);
    fails('9bffffffffffffffff', /array/);
    fails('bbffffffffffffffff', /map/);
    fails('c1c1c1c1c1c1c1c1c1c101', /tags/);
    fails('5bffffffffffffffff', /malformed/);
    fails('7a7fffffff61', /malformed/);
    fails('c1f6', /invalid date|tag 1/);
    fails('d86401', /tag 100/);
    fails('f7', /undefined/);
  });
});

