import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Lwm2mPath } from '../../src/model/path';
import { DecodeError, EncodeError } from '../../src/errors';
import { oldTlvCodec, tlvCodec } from '../../src/content/tlv';
import { Lwm2mRecord, Lwm2mValue } from '../../src/content/values';
import { emptyRegistry, hex, registry } from './model-a';
import { DEVICE_3_0_TLV as DEVICE_3_0 } from '../helpers/spec-examples';

const at = (p: string, reg = registry) => ({ registry: reg, path: Lwm2mPath.parse(p) });
const rec = (p: string, value?: Lwm2mValue): Lwm2mRecord => (value === undefined ? { path: Lwm2mPath.parse(p) } : { path: Lwm2mPath.parse(p), value });
/** Records as [path, value] pairs, for readable comparisons. */
const pairs = (records: Lwm2mRecord[]) => records.map((r) => [r.path.toString(), r.value] as const);
const decodeFails = (payload: Buffer, p: string, ...fragments: string[]) => assert.throws(() => tlvCodec.decode(payload, at(p)), (e: unknown) => {
  assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`);
  assert.equal(e.format, 11542);
  for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" should contain "${f}"`);
  return true;
});
const encodeFails = (records: Lwm2mRecord[], p: string, ...fragments: string[]) => assert.throws(() => tlvCodec.encode(records, at(p)), (e: unknown) => {
  assert.ok(e instanceof EncodeError, `expected EncodeError, got ${String(e)}`);
  for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" should contain "${f}"`);
  return true;
});


const DEVICE_VALUES: Array<readonly [string, Lwm2mValue]> = [
  ['/3/0/0', 'Open Mobile Alliance'],
  ['/3/0/1', 'Lightweight M2M Client'],
  ['/3/0/2', '345000123'],
  ['/3/0/3', '1.0'],
  ['/3/0/6/0', 1],
  ['/3/0/6/1', 5],
  ['/3/0/7/0', 3800],
  ['/3/0/7/1', 5000],
  ['/3/0/8/0', 125],
  ['/3/0/8/1', 900],
  ['/3/0/9', 100],
  ['/3/0/10', 15],
  ['/3/0/11/0', 0],
  ['/3/0/13', new Date(1367491215 * 1000)],
  ['/3/0/14', '+02:00'],
  ['/3/0/16', 'U'],
];

// 1.0.2 section 6.4.3.2 "Multiple Object Instance Request Examples", B: Read /2 on the
// Access Control object, two instances (the second with a 16-bit resource-instance id, 310).
const ACCESS_CONTROL_2 = hex(`
  08 00 0E C1 00 01 C1 01 00 83 02 41 7F 07 C1 03 7F
  08 02 12 C1 00 03 C1 01 00 87 02 41 7F 07 61 01 36 01 C1 03 7F`);

// Same section, D: Read /1 on the Server object with a single instance.
const SERVER_1 = hex('08 00 0F C1 00 01 C4 01 00 01 51 80 C1 06 01 C1 07 55');

// 1.0.2 section 6.4.3.3 "Example of Request on an Object Instance containing an Object
// Link Resource", example 1: Read /65/0 (a multiple Objlnk resource 0 -> 66:0 and 66:1).
const OBJLNK_65_0 = hex(`
  88 00 0C 44 00 00 42 00 00 44 01 00 42 00 01
  C8 01 0D 38 36 31 33 38 30 30 37 35 35 35 30 30
  C4 02 12 34 56 78`);

// Example 2: Read /66, two instances, each with an Objlnk (67:0 and the "null" link 65535:65535).
const OBJLNK_66 = hex(`
  08 00 26
    C8 00 0B 6D 79 53 65 72 76 69 63 65 20 31
    C8 01 0F 49 6E 74 65 72 6E 65 74 2E 31 35 2E 32 33 34
    C4 02 00 43 00 00
  08 01 26
    C8 00 0B 6D 79 53 65 72 76 69 63 65 20 32
    C8 01 0F 49 6E 74 65 72 6E 65 74 2E 31 35 2E 32 33 35
    C4 02 FF FF FF FF`);

describe('TLV codec: the specification examples', () => {
  test('identifies itself, and 1542 is the same format', () => {
    assert.equal(tlvCodec.format, 11542);
    assert.equal(oldTlvCodec.format, 1542);
    assert.equal(tlvCodec.singleValue, false);
    assert.equal(tlvCodec.multiPath, false);
  });

  test('Device /3/0 single instance: decode to the expected values, re-encode the same 121 bytes', () => {
    assert.equal(DEVICE_3_0.length, 121);
    const records = tlvCodec.decode(DEVICE_3_0, at('/3/0'));
    assert.deepEqual(pairs(records), DEVICE_VALUES);
    assert.deepEqual(tlvCodec.encode(records, at('/3/0')), DEVICE_3_0);
    // The pre-registration number decodes the same way.
    assert.deepEqual(pairs(oldTlvCodec.decode(DEVICE_3_0, at('/3/0'))), DEVICE_VALUES);
  });

  test('Device read on the object /3: the instance wrapped in an object-instance TLV (08 00 79)', () => {
    const payload = Buffer.concat([hex('08 00 79'), DEVICE_3_0]);
    const records = tlvCodec.decode(payload, at('/3'));
    assert.deepEqual(pairs(records), DEVICE_VALUES);
    assert.deepEqual(tlvCodec.encode(records, at('/3')), payload);
  });

  test('Access Control /2: multiple object instances, 16-bit resource-instance id', () => {
    const records = tlvCodec.decode(ACCESS_CONTROL_2, at('/2'));
    assert.deepEqual(pairs(records), [
      ['/2/0/0', 1], ['/2/0/1', 0], ['/2/0/2/127', 7], ['/2/0/3', 127],
      ['/2/2/0', 3], ['/2/2/1', 0], ['/2/2/2/127', 7], ['/2/2/2/310', 1], ['/2/2/3', 127],
    ]);
    assert.deepEqual(tlvCodec.encode(records, at('/2')), ACCESS_CONTROL_2);
  });

  test('Server /1 with a single instance: integer of 4 bytes, boolean', () => {
    const records = tlvCodec.decode(SERVER_1, at('/1'));
    assert.deepEqual(pairs(records), [['/1/0/0', 1], ['/1/0/1', 86400], ['/1/0/6', true], ['/1/0/7', 'U']]);
    assert.deepEqual(tlvCodec.encode(records, at('/1')), SERVER_1);
  });

  test('Object link example 1: multiple Objlnk resource in /65/0', () => {
    const records = tlvCodec.decode(OBJLNK_65_0, at('/65/0'));
    assert.deepEqual(pairs(records), [
      ['/65/0/0/0', { objectId: 66, instanceId: 0 }], ['/65/0/0/1', { objectId: 66, instanceId: 1 }],
      ['/65/0/1', '8613800755500'], ['/65/0/2', 0x12345678],
    ]);
    assert.deepEqual(tlvCodec.encode(records, at('/65/0')), OBJLNK_65_0);
  });

  test('Object link example 2: /66 with two instances', () => {
    const records = tlvCodec.decode(OBJLNK_66, at('/66'));
    assert.deepEqual(pairs(records), [
      ['/66/0/0', 'myService 1'], ['/66/0/1', 'Internet.15.234'], ['/66/0/2', { objectId: 67, instanceId: 0 }],
      ['/66/1/0', 'myService 2'], ['/66/1/1', 'Internet.15.235'], ['/66/1/2', { objectId: 65535, instanceId: 65535 }],
    ]);
    assert.deepEqual(tlvCodec.encode(records, at('/66')), OBJLNK_66);
  });

  test('a request on a multiple resource (/3/0/6) and on one resource instance (/3/0/7/1)', () => {
    // The Available Power Sources and Power Source Voltage entries of the Device example, on their own.
    const res = hex('86 06 41 00 01 41 01 05');
    assert.deepEqual(pairs(tlvCodec.decode(res, at('/3/0/6'))), [['/3/0/6/0', 1], ['/3/0/6/1', 5]]);
    assert.deepEqual(tlvCodec.encode([rec('/3/0/6/0', 1), rec('/3/0/6/1', 5)], at('/3/0/6')), res);
    const ri = hex('42 01 13 88');
    assert.deepEqual(pairs(tlvCodec.decode(ri, at('/3/0/7/1'))), [['/3/0/7/1', 5000]]);
    assert.deepEqual(tlvCodec.encode([rec('/3/0/7/1', 5000)], at('/3/0/7/1')), ri);
    // A single resource: Read /3/0/9 -> C1 09 64.
    assert.deepEqual(pairs(tlvCodec.decode(hex('C1 09 64'), at('/3/0/9'))), [['/3/0/9', 100]]);
    assert.deepEqual(tlvCodec.encode([rec('/3/0/9', 100)], at('/3/0/9')), hex('C1 09 64'));
  });
});

describe('TLV codec: values', () => {
  const roundTrip = (p: string, value: Lwm2mValue, expectedValueHex?: string) => {
    const target = Lwm2mPath.parse(p);
    const out = tlvCodec.encode([{ path: target, value }], at(p));
    if (expectedValueHex !== undefined) {
      // Header of a resource (or resource instance) entry with an 8-bit id: type, id, optional length byte(s).
      const v = hex(expectedValueHex);
      assert.deepEqual(out.subarray(out.length - v.length), v, `${p} ${String(value)}: ${out.toString('hex')}`);
      const t = out[0];
      const lenType = (t >> 3) & 3;
      const len = lenType === 0 ? t & 7 : out.readUIntBE(2, lenType);
      assert.equal(len, v.length);
    }
    const back = tlvCodec.decode(out, at(p));
    assert.equal(back.length, 1);
    assert.equal(back[0].path.toString(), p);
    assert.deepEqual(back[0].value, value, `${p} ${String(value)}`);
    return out;
  };

  test('integers take the shortest two\'s complement width, at every boundary', () => {
    const cases: Array<[number | bigint, string]> = [
      [0, '00'], [127, '7f'], [128, '0080'], [-128, '80'], [-129, 'ff7f'],
      [32767, '7fff'], [32768, '00008000'], [-32768, '8000'], [-32769, 'ffff7fff'],
      [2147483647, '7fffffff'], [2147483648, '0000000080000000'], [-2147483648, '80000000'], [-2147483649, 'ffffffff7fffffff'],
      [Number.MAX_SAFE_INTEGER, '001fffffffffffff'], [Number.MIN_SAFE_INTEGER, 'ffe0000000000001'],
      [9223372036854775807n, '7fffffffffffffff'], [-9223372036854775808n, '8000000000000000'],
    ];
    for (const [v, h] of cases) roundTrip('/9999/0/1', v, h);
  });

  test('unsigned integers use unsigned widths up to 2^64-1', () => {
    const cases: Array<[number | bigint, string]> = [
      [0, '00'], [255, 'ff'], [256, '0100'], [65535, 'ffff'], [65536, '00010000'], [4294967295, 'ffffffff'],
      [4294967296, '0000000100000000'], [18446744073709551615n, 'ffffffffffffffff'],
    ];
    for (const [v, h] of cases) roundTrip('/9999/0/2', v, h);
  });

  test('floats: 4 bytes when single precision is exact, 8 otherwise', () => {
    roundTrip('/9999/0/3', 1.5, '3fc00000');
    roundTrip('/9999/0/3', -0.25, 'be800000');
    roundTrip('/9999/0/3', 0.1, '3fb999999999999a');
    roundTrip('/9999/0/3', 1e300, '7e37e43c8800759c');
    roundTrip('/9999/0/3', 3, '40400000');
    // A 4-byte float from a device decodes to its single-precision value.
    assert.equal(tlvCodec.decode(hex('C4 03 3D CC CC CD'), at('/9999/0'))[0].value, Math.fround(0.1));
  });

  test('booleans, strings, opaque, time, objlnk, corelnk, empty values', () => {
    roundTrip('/9999/0/4', true, '01');
    roundTrip('/9999/0/4', false, '00');
    roundTrip('/9999/0/0', '', '');
    roundTrip('/9999/0/0', 'héllo ✓', Buffer.from('héllo ✓').toString('hex'));
    roundTrip('/9999/0/5', Buffer.alloc(0), '');
    roundTrip('/9999/0/5', Buffer.of(0, 1, 0xfe, 0xff), '0001feff');
    roundTrip('/9999/0/6', new Date(1367491215000), '5182428f');
    roundTrip('/9999/0/6', new Date(0), '00');
    roundTrip('/9999/0/6', new Date(-1000), 'ff');
    roundTrip('/9999/0/6', new Date(4102444800000), '00000000f4865700'); // 2100-01-01: beyond 32 bits
    roundTrip('/9999/0/7', { objectId: 3, instanceId: 0 }, '00030000');
    roundTrip('/9999/0/8', '</3/0>', Buffer.from('</3/0>').toString('hex'));
    assert.deepEqual(tlvCodec.encode([rec('/9999/0/0', '')], at('/9999/0/0')), hex('C0 00'));
  });

  test('values are converted from the usual JS forms before encoding', () => {
    const out = tlvCodec.encode([rec('/9999/0/7', '3:1' as unknown as Lwm2mValue), rec('/9999/0/6', 10 as unknown as Lwm2mValue)], at('/9999/0'));
    assert.deepEqual(pairs(tlvCodec.decode(out, at('/9999/0'))), [['/9999/0/6', new Date(10000)], ['/9999/0/7', { objectId: 3, instanceId: 1 }]]);
  });

  test('value lengths use the 3-bit, 8, 16 and 24-bit length forms', () => {
    for (const [size, lenType] of [[7, 0], [8, 1], [255, 1], [256, 2], [65535, 2], [65536, 3], [70000, 3]] as const) {
      const value = Buffer.alloc(size, 0x5a);
      const out = roundTrip('/9999/0/5', value);
      assert.equal((out[0] >> 3) & 3, lenType, `size ${size}`);
      assert.equal(out.length, 2 + lenType + size);
    }
  });

  test('16-bit identifiers for resources and instances', () => {
    const out = tlvCodec.encode([rec('/9999/300/300', 1)], at('/9999'));
    assert.deepEqual(out, hex('24 01 2C E1 01 2C 01'));
    assert.deepEqual(pairs(tlvCodec.decode(out, at('/9999'))), [['/9999/300/300', 1]]);
  });

  test('unknown resources: values decode as opaque, encode from their JS type', () => {
    const records = tlvCodec.decode(DEVICE_3_0, at('/3/0', emptyRegistry));
    assert.equal(records.length, DEVICE_VALUES.length);
    assert.deepEqual(records[0].value, Buffer.from('Open Mobile Alliance'));
    assert.deepEqual(records[13].value, hex('51 82 42 8F'));
    const out = tlvCodec.encode([rec('/5/0/1', 1.5), rec('/5/0/2', -2), rec('/5/0/3', 'x'), rec('/5/0/4', 2n ** 63n)], at('/5/0', emptyRegistry));
    assert.deepEqual(out, hex('C4 01 3F C0 00 00 C1 02 FE C1 03 78 C8 04 08 80 00 00 00 00 00 00 00'));
  });

  test('an empty multiple resource encodes as an empty multiple-resource TLV and decodes as a path-only record', () => {
    const out = tlvCodec.encode([rec('/3/0/11')], at('/3/0/11'));
    assert.deepEqual(out, hex('80 0B'));
    assert.deepEqual(pairs(tlvCodec.decode(out, at('/3/0/11'))), [['/3/0/11', undefined]]);
  });

  test('records are grouped whatever their order', () => {
    const shuffled = [...DEVICE_VALUES].reverse().map(([p, v]) => rec(p, v));
    assert.deepEqual(tlvCodec.encode(shuffled, at('/3/0')), DEVICE_3_0);
  });
});

describe('TLV codec: tolerance and errors', () => {
  test('an object-instance wrapper around a single-instance answer is accepted when its id matches', () => {
    const wrapped = Buffer.concat([hex('08 00 79'), DEVICE_3_0]);
    assert.deepEqual(pairs(tlvCodec.decode(wrapped, at('/3/0'))), DEVICE_VALUES);
    decodeFails(Buffer.concat([hex('08 01 79'), DEVICE_3_0]), '/3/0', 'object instance 1', '/3/0');
  });

  test('resources without an object-instance wrapper on an object read belong to instance 0', () => {
    assert.deepEqual(pairs(tlvCodec.decode(hex('C1 09 64'), at('/3'))), [['/3/0/9', 100]]);
  });

  test('bare resource instances on a multiple-resource read', () => {
    assert.deepEqual(pairs(tlvCodec.decode(hex('41 00 01 41 01 05'), at('/3/0/6'))), [['/3/0/6/0', 1], ['/3/0/6/1', 5]]);
  });

  test('structural errors', () => {
    decodeFails(hex('C8 00 14 4F'), '/3/0', 'announces 20 bytes');
    decodeFails(hex('C8'), '/3/0', 'truncated');
    decodeFails(hex('E8 00'), '/3/0', 'truncated');
    decodeFails(hex('D8 00 00 00'), '/3/0', 'truncated');
    decodeFails(hex('08 00 03 41 00 01'), '/3', 'resource instance inside an object instance');
    decodeFails(hex('83 06 C1 00 01'), '/3/0', 'inside a multiple resource');
    decodeFails(hex('41 00 01'), '/3/0', 'cannot appear');
    decodeFails(hex('08 00 00'), '/', 'object path');
    decodeFails(hex('C1 09 64'), '/3/0/10', 'does not match');
    decodeFails(hex('C1 07 64'), '/3/0/7/1', 'resource-instance path');
  });

  test('value errors name the path and the type', () => {
    decodeFails(hex('C1 04 02'), '/9999/0', '/9999/0/4', 'boolean');
    decodeFails(hex('C2 04 00 01'), '/9999/0', 'boolean');
    decodeFails(hex('C3 03 00 00 00'), '/9999/0', '/9999/0/3', 'float');
    decodeFails(hex('C3 07 00 00 00'), '/9999/0', 'objlnk');
    decodeFails(hex('C0 01'), '/9999/0', 'integer');
    decodeFails(hex('C8 01 09 00 00 00 00 00 00 00 00 00'), '/9999/0', 'integer');
    decodeFails(hex('C2 00 C3 28'), '/9999/0', 'UTF-8');
    decodeFails(hex('C1 09 00'), '/9999/0', 'executable');
    decodeFails(hex('C8 06 09 00 00 00 00 00 00 00 00 00'), '/9999/0', 'time');
    decodeFails(hex('C8 06 08 7F FF FF FF FF FF FF FF'), '/9999/0', 'out of range');
  });

  test('non-standard integer widths are still read as two\'s complement', () => {
    assert.deepEqual(pairs(tlvCodec.decode(hex('C3 01 FF FF FE'), at('/9999/0'))), [['/9999/0/1', -2]]);
    assert.deepEqual(pairs(tlvCodec.decode(hex('C3 02 FF FF FE'), at('/9999/0'))), [['/9999/0/2', 0xfffffe]]);
  });

  test('object instance 65535 is reserved', () => {
    decodeFails(hex('28 FF FF 03 C1 00 01'), '/1', 'reserved');
  });

  test('encoding errors', () => {
    encodeFails([rec('/3/0/9', 1)], '/', 'object path');
    encodeFails([rec('/3/0/9', 1)], '/3/1', 'not below');
    encodeFails([rec('/3/0', 1)], '/3', 'resource');
    encodeFails([rec('/3/0/9', 1), rec('/3/0/9', 2)], '/3/0', 'twice');
    encodeFails([rec('/9999/0/1', 1), rec('/9999/0/1/0', 2)], '/9999/0', 'single value and resource instances');
    encodeFails([rec('/3/0/7', 1)], '/3/0', 'multiple resource');
    encodeFails([rec('/3/0/9')], '/3/0', 'no value');
    encodeFails([rec('/3/0/7/0')], '/3/0', 'no value');
    encodeFails([rec('/9999/0/1', 'abc')], '/9999/0', '/9999/0/1', 'integer');
    encodeFails([rec('/9999/0/1', 2n ** 63n)], '/9999/0', 'signed 64-bit');
    encodeFails([rec('/9999/0/9', 1)], '/9999/0', 'executable');
    encodeFails([rec('/9999/0/5', Buffer.alloc(0x1000000))], '/9999/0', '16 MiB');
  });
});
