import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { lwm2mCborCodec } from '../../src/content/lwm2m-cbor';
import { DecodeError, EncodeError } from '../../src/errors';
import { Lwm2mPath } from '../../src/model/path';
import { Lwm2mRecord } from '../../src/content/values';
import { at, DEVICE_EXAMPLE, emptyRegistry, view } from './fixtures';

function b(...parts: Array<number | string>): Buffer {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else for (const ch of p) out.push(ch.charCodeAt(0));
  }
  return Buffer.from(out);
}
const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const dec = (buf: Buffer, path = '/', reg?: Parameters<typeof at>[1]) => lwm2mCborCodec.decode(buf, at(path, reg));
const enc = (records: Lwm2mRecord[], path = '/') => lwm2mCborCodec.encode(records, at(path));
const rec = (path: string, value?: Lwm2mRecord['value'], time?: number): Lwm2mRecord => {
  const r: Lwm2mRecord = { path: Lwm2mPath.parse(path) };
  if (value !== undefined) r.value = value;
  if (time !== undefined) r.time = time;
  return r;
};

/*
 * Core 1.2 section 7.4.6 defines the structure: nested maps keyed by ids, where a key may be an array of ids
 * covering several levels, forms mixed freely, definite or indefinite length. The vectors below cover each form the
 * section allows (they match the interoperability vectors of the AVSystem Anjay implementation).
 */
describe('LwM2M CBOR: decoding every structural form (Core 1.2 7.4.6)', () => {
  const forms: Array<[string, string, Buffer, string, unknown[]]> = [
    ['{[13, 26, 1]: 42}', '/13/26/1', hex('A1 83 0D 18 1A 01 18 2A'), '', [['/13/26/1', 42]]],
    ['{[13, 26, 1]: true}', '/13/26/1', hex('A1 83 0D 18 1A 01 F5'), '', [['/13/26/1', true]]],
    ['{_ [_ 13, 26, 1]: 42}', '/13/26/1', hex('BF 9F 0D 18 1A 01 FF 18 2A FF'), '', [['/13/26/1', 42]]],
    ['{13: {26: {1: 42}}}', '/13/26/1', hex('A1 0D A1 18 1A A1 01 18 2A'), '', [['/13/26/1', 42]]],
    ['{[13]: {[26]: {[1]: 42}}}', '/13/26/1', hex('A1 81 0D A1 81 18 1A A1 81 01 18 2A'), '', [['/13/26/1', 42]]],
    ['{_ [_ 13]: {_ [_ 26]: {_ [_ 1]: 42}}}', '/13/26/1', hex('BF 9F 0D FF BF 9F 18 1A FF BF 9F 01 FF 18 2A FF FF FF'), '',
      [['/13/26/1', 42]]],
    ['{[13]: {[26]: {[1]: {[2]: 4([-1, 45])}}}} (decimal fraction)', '/13/26/1/2',
      hex('A1 81 0D A1 81 18 1A A1 81 01 A1 81 02 C4 82 20 18 2D'), '', [['/13/26/1/2', 4.5]]],
    ['{[13, 26]: {1: 42, 2: 21}}', '/13/26', hex('A1 82 0D 18 1A A2 01 18 2A 02 15'), '', [['/13/26/1', 42], ['/13/26/2', 21]]],
    ['{[13, 26, 1]: 42, [13, 26, 2]: 21}', '/13/26', hex('A2 83 0D 18 1A 01 18 2A 83 0D 18 1A 02 15'), '',
      [['/13/26/1', 42], ['/13/26/2', 21]]],
    ['{[13, 26]: {1: 42}, [13, 26, 2]: 21}', '/13/26', hex('A2 82 0D 18 1A A1 01 18 2A 83 0D 18 1A 02 15'), '',
      [['/13/26/1', 42], ['/13/26/2', 21]]],
    ['{[13, 26, 1]: 42, [13, 26]: {[2]: 21}}', '/13/26', hex('A2 83 0D 18 1A 01 18 2A 82 0D 18 1A A1 81 02 15'), '',
      [['/13/26/1', 42], ['/13/26/2', 21]]],
    ['{[13, 26, 1]: (_ h\'0011..\', h\'..EEFF\')}', '/13/26/1',
      hex('A1 83 0D 18 1A 01 5F 48 0011223344556677 48 8899AABBCCDDEEFF FF'), '', [['/13/26/1', 'hex:00112233445566778899aabbccddeeff']]],
    ['{[13, 26, 1]: {2: null, 3: 5}}', '/13/26/1', hex('A1 83 0D 18 1A 01 A2 02 F6 03 05'), '', [['/13/26/1/2', undefined], ['/13/26/1/3', 5]]],
    ['{13: {26: {1: 1}}, 14: {27: {2: 2}}} (composite)', '/', hex('A2 0D A1 18 1A A1 01 01 0E A1 18 1B A1 02 02'), '',
      [['/13/26/1', 1], ['/14/27/2', 2]]],
    ['{_ [_ 13]: {_ [_ 26]: {_ [_ 1]: 1}}, [_ 14]: {_ [_ 27]: {_ [_ 2]: 2}}}', '/',
      hex('BF 9F 0D FF BF 9F 18 1A FF BF 9F 01 FF 01 FF FF 9F 0E FF BF 9F 18 1B FF BF 9F 02 FF 02 FF FF FF'), '',
      [['/13/26/1', 1], ['/14/27/2', 2]]],
  ];
  for (const [name, path, buf, , expected] of forms) {
    test(name, () => {
      assert.deepEqual(view(dec(buf, path, emptyRegistry)), expected);
    });
  }

  test('all value types of unknown resources: int, negative, half float, text, bytes, objlnk text', () => {
    // {[13, 26]: {1: 1, 2: -1, 3: 2.5, 4: "test", 5: h'11223344', 6: "12:34", 7: 1}}
    const buf = hex('A1 82 0D 18 1A A7 01 01 02 20 03 F9 41 00 04 64 74657374 05 44 11223344 06 65 31323A3334 07 01');
    assert.deepEqual(view(dec(buf, '/13/26', emptyRegistry)), [['/13/26/1', 1], ['/13/26/2', -1], ['/13/26/3', 2.5],
      ['/13/26/4', 'test'], ['/13/26/5', 'hex:11223344'], ['/13/26/6', '12:34'], ['/13/26/7', 1]]);
    // With a model, "12:34" on an Objlnk resource is an object link.
    assert.deepEqual(dec(b(0xa1, 0x83, 0x19, 0x28, 0x0a, 0x00, 0x07, 0x65, '12:34'), '/')[0].value, { objectId: 12, instanceId: 34 });
  });

  test('time: tag 1, tag 0 and a plain integer for a Time resource', () => {
    // {[3, 0, 13]: 1(1367491215)}
    assert.deepEqual(view(dec(hex('A1 83 03 00 0D C1 1A 5182428F'))), [['/3/0/13', 'date:2013-05-02T10:40:15.000Z']]);
    assert.deepEqual(view(dec(hex('A1 83 03 00 0D 1A 5182428F'))), [['/3/0/13', 'date:2013-05-02T10:40:15.000Z']]);
    const tag0 = Buffer.concat([hex('A1 83 03 00 0D C0 74'), Buffer.from('2013-05-02T10:40:15Z')]);
    assert.deepEqual(view(dec(tag0)), [['/3/0/13', 'date:2013-05-02T10:40:15.000Z']]);
    // Unknown resource with tag 1: a Date too.
    assert.ok(dec(hex('A1 83 19 2328 00 01 C1 1A 5182428F'), '/', emptyRegistry)[0].value instanceof Date);
  });

  test('malformed payloads are DecodeErrors', () => {
    const cases: Array<[string, Buffer, string]> = [
      ['{[13, 26]: {65536: 5}}', hex('A1 82 0D 18 1A A1 1A 00010000 05'), '/13/26'],
      ['{[13, 26, 65536]: 5}', hex('A1 83 0D 18 1A 1A 00010000 05'), '/13/26'],
      ['{[13, 26, 3, 4, 5]: 5}', hex('A1 85 0D 18 1A 03 04 05 05'), '/13/26'],
      ['{[13, 26, 1]: {2: 5, [3, 4]: 6}}', hex('A1 83 0D 18 1A 01 A2 02 05 82 03 04 05'), '/13/26/1'],
      ['{13: {26: {1: {2: {3: 4}}}}}', hex('A1 0D A1 18 1A A1 01 A1 02 A1 03 04'), '/'],
      ['{13: {[]: 26}}', hex('A2 0D A1 80 18 1A A1 80 01 18 2A'), '/'],
      ['{[13, 26, 1]: 42} outside /14', hex('A1 83 0D 18 1A 01 18 2A'), '/14'],
      ['{[13, 26, 1]: 42} outside /13/27', hex('A1 83 0D 18 1A 01 18 2A'), '/13/27'],
      ['{[13, 26, 1]: 42} outside /13/26/2', hex('A1 83 0D 18 1A 01 18 2A'), '/13/26/2'],
      ['{[13, 0.26, 1]: 42}', hex('A1 83 0D FB 3FD0A3D70A3D70A4 01 18 2A'), '/'],
      ['{0.13: {[26, 1]: 42}}', hex('A1 FB 3FC0A3D70A3D70A4 A1 82 18 1A 01 18 2A'), '/'],
      ['{13: {"26": {1: 42}}}', hex('A1 0D A1 62 3236 A1 01 18 2A'), '/'],
      ['0', hex('00'), '/'],
      ['[1, 2, 3, 4]', hex('84 01 02 03 04'), '/'],
      ['{13: {26: [{1: 42}]}}', hex('A1 0D A1 18 1A 81 A1 01 18 2A'), '/'],
      ['truncated {[13, 26]: {', hex('A1 82 0D 18 1A A1'), '/'],
      ['value on an instance {[13, 26]: 5}', hex('A1 82 0D 18 1A 05'), '/'],
      ['instance id 65535 {[13, 65535, 1]: 5}', hex('A1 83 0D 19 FFFF 01 05'), '/'],
      ['unknown tag {[13, 26, 1]: 99(1)}', hex('A1 83 0D 18 1A 01 D8 63 01'), '/'],
      ['undefined value', hex('A1 83 0D 18 1A 01 F7'), '/'],
      ['Integer given 2.5', hex('A1 83 19 280A 00 01 F9 4100'), '/'],
    ];
    for (const [name, buf, path] of cases) assert.throws(() => dec(buf, path, name.startsWith('Integer') ? undefined : emptyRegistry), DecodeError, name);
  });
});

describe('LwM2M CBOR: encoding the compact nested form', () => {
  const device = (): Lwm2mRecord[] => DEVICE_EXAMPLE.map(([p, v]) => rec(p,
    typeof v === 'string' && v.startsWith('date:') ? new Date(v.slice(5)) : v as Lwm2mRecord['value']));

  test('Read /3/0: one array key for /3/0, nested maps below, Time as tag 1', () => {
    const buf = enc(device(), '/3/0');
    const expected = Buffer.concat([
      hex('A1 82 03 00 AD'),
      b(0x00, 0x74, 'Open Mobile Alliance', 0x01, 0x76, 'Lightweight M2M Client', 0x02, 0x69, '345000123', 0x03, 0x63, '1.0'),
      hex('06 A2 00 01 01 05'), hex('07 A2 00 19 0ED8 01 19 1388'), hex('08 A2 00 18 7D 01 19 0384'),
      hex('09 18 64'), hex('0A 0F'), hex('82 0B 00 00'), hex('0D C1 1A 5182428F'),
      b(0x0e, 0x66, '+02:00', 0x10, 0x61, 'U'),
    ]);
    assert.equal(buf.toString('hex'), expected.toString('hex'));
    assert.deepEqual(view(dec(buf, '/3/0')), DEVICE_EXAMPLE);
  });

  test('single resource and composite payloads', () => {
    assert.equal(enc([rec('/3/0/9', 95)], '/3/0/9').toString('hex'), 'a183030009185f');
    const composite = enc([rec('/3/0/0', 'Open Mobile Alliance'), rec('/3/0/9', 95), rec('/1/0/1', 86400)]);
    // {[1, 0, 1]: 86400, [3, 0]: {0: "Open Mobile Alliance", 9: 95}}
    assert.equal(composite.toString('hex'), Buffer.concat([hex('A2 83 01 00 01 1A 00015180 82 03 00 A2 00 74'),
      Buffer.from('Open Mobile Alliance'), hex('09 18 5F')]).toString('hex'));
    assert.deepEqual(view(dec(composite)), [['/1/0/1', 86400], ['/3/0/0', 'Open Mobile Alliance'], ['/3/0/9', 95]]);
    // Path-only records are written as null and read back without a value.
    assert.deepEqual(view(dec(enc([rec('/3/0/0'), rec('/1/0/1')]))), [['/1/0/1', undefined], ['/3/0/0', undefined]]);
  });

  test('round trip of every type', () => {
    const all = [
      rec('/10250/0/0', 'é'), rec('/10250/0/1', -42), rec('/10250/0/2', 18446744073709551615n), rec('/10250/0/3', 25.5),
      rec('/10250/0/4', true), rec('/10250/0/5', Buffer.from([1, 2])), rec('/10250/0/6', new Date(1700000000000)),
      rec('/10250/0/7', { objectId: 3, instanceId: 1 }), rec('/10250/0/8', '</3/0>'), rec('/10250/0/9/0', -9223372036854775808n),
      rec('/10250/0/9/1', 9223372036854775807n), rec('/10250/0/12/0', 0.1), rec('/10250/0/13/0', Buffer.alloc(0)),
      rec('/10250/1/1', 7),
    ];
    assert.deepEqual(view(dec(enc(all, '/10250'), '/10250')), view(all));
  });

  test('encoding errors: history, value above values, outside the path, bad values', () => {
    assert.throws(() => enc([rec('/3303/0/5700', 1, 1), rec('/3303/0/5700', 2, 2)]), EncodeError);
    assert.throws(() => enc([rec('/3/0/7', 1), rec('/3/0/7/0', 2)]), EncodeError);
    assert.throws(() => enc([rec('/3/0/7/0', 2), rec('/3/0/7', 1)]), EncodeError);
    assert.throws(() => enc([rec('/3/0/0', 'x')], '/4'), EncodeError);
    assert.throws(() => enc([rec('/10250/0/1', 'x')]), EncodeError);
    assert.throws(() => enc([{ path: Lwm2mPath.parse('/3/0'), value: 1 }]), EncodeError);
  });

  test('empty payloads', () => {
    assert.deepEqual(dec(Buffer.alloc(0)), []);
    assert.deepEqual(dec(hex('A0')), []);
    assert.equal(enc([]).toString('hex'), 'a0');
  });
});
