import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseSenmlCbor, parseSenmlCborItems, senmlCborCodec } from '../../src/content/senml-cbor';
import { halfToNumber, numberToHalf } from '../../src/content/cbor-wire';
import { DecodeError, EncodeError } from '../../src/errors';
import { Lwm2mPath } from '../../src/model/path';
import { Lwm2mRecord } from '../../src/content/values';
import { at, DEVICE_EXAMPLE, emptyRegistry, view } from './fixtures';

/** Bytes from numbers and ASCII strings, written like the spec's annotated CBOR. */
function b(...parts: Array<number | string>): Buffer {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else for (const ch of p) out.push(ch.charCodeAt(0));
  }
  return Buffer.from(out);
}
const dec = (buf: Buffer, path = '/', reg?: Parameters<typeof at>[1]) => senmlCborCodec.decode(buf, at(path, reg));
const enc = (records: Lwm2mRecord[], path = '/') => senmlCborCodec.encode(records, at(path));
const rec = (path: string, value?: Lwm2mRecord['value'], time?: number): Lwm2mRecord => {
  const r: Lwm2mRecord = { path: Lwm2mPath.parse(path) };
  if (value !== undefined) r.value = value;
  if (time !== undefined) r.time = time;
  return r;
};

// OMA TS Core 1.1 section 7.4.4, Table 7.4.4-2: Read /3/0 in SenML CBOR
// [{-2: "/3/0/", 0: "0", 3: "Open Mobile Alliance"}, {0: "1", 3: "Lightweight M2M Client"}, ... {0: "16", 3: "U"}]
const SPEC_DEVICE = b(
  0x90,
  0xa3, 0x21, 0x65, '/3/0/', 0x00, 0x61, '0', 0x03, 0x74, 'Open Mobile Alliance',
  0xa2, 0x00, 0x61, '1', 0x03, 0x76, 'Lightweight M2M Client',
  0xa2, 0x00, 0x61, '2', 0x03, 0x69, '345000123',
  0xa2, 0x00, 0x61, '3', 0x03, 0x63, '1.0',
  0xa2, 0x00, 0x63, '6/0', 0x02, 0x01,
  0xa2, 0x00, 0x63, '6/1', 0x02, 0x05,
  0xa2, 0x00, 0x63, '7/0', 0x02, 0x19, 0x0e, 0xd8,
  0xa2, 0x00, 0x63, '7/1', 0x02, 0x19, 0x13, 0x88,
  0xa2, 0x00, 0x63, '8/0', 0x02, 0x18, 0x7d,
  0xa2, 0x00, 0x63, '8/1', 0x02, 0x19, 0x03, 0x84,
  0xa2, 0x00, 0x61, '9', 0x02, 0x18, 0x64,
  0xa2, 0x00, 0x62, '10', 0x02, 0x0f,
  0xa2, 0x00, 0x64, '11/0', 0x02, 0x00,
  0xa2, 0x00, 0x62, '13', 0x02, 0x1a, 0x51, 0x82, 0x42, 0x8f,
  0xa2, 0x00, 0x62, '14', 0x03, 0x66, '+02:00',
  0xa2, 0x00, 0x62, '16', 0x03, 0x61, 'U',
);
// Table 7.4.4-3: [{-2: "/72/", -3: 25462634, 0: "1/2", 2: 22.4, 6: -5}, {0: "1/2", 2: 22.9, 6: -30}, {0: "1/2", 2: 24.1, 6: -50}]
const SPEC_HISTORY = b(
  0x83,
  0xa5, 0x21, 0x64, '/72/', 0x22, 0x1a, 0x01, 0x84, 0x87, 0x6a, 0x00, 0x63, '1/2',
  0x02, 0xfb, 0x40, 0x36, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x06, 0x24,
  0xa3, 0x00, 0x63, '1/2', 0x02, 0xfb, 0x40, 0x36, 0xe6, 0x66, 0x66, 0x66, 0x66, 0x66, 0x06, 0x38, 0x1d,
  0xa3, 0x00, 0x63, '1/2', 0x02, 0xfb, 0x40, 0x38, 0x19, 0x99, 0x99, 0x99, 0x99, 0x9a, 0x06, 0x38, 0x31,
);
// Table 7.4.4-4: object links, [{-2: "/", 0: "65/0/0/0", "vlo": "66:0"}, ...]
const SPEC_OBJLNK = b(
  0x8c,
  0xa3, 0x21, 0x61, '/', 0x00, 0x68, '65/0/0/0', 0x63, 'vlo', 0x64, '66:0',
  0xa2, 0x00, 0x68, '65/0/0/1', 0x63, 'vlo', 0x64, '66:1',
  0xa2, 0x00, 0x66, '65/0/1', 0x03, 0x6d, '8613800755500',
  0xa2, 0x00, 0x66, '65/0/2', 0x02, 0x01,
  0xa2, 0x00, 0x66, '66/0/0', 0x03, 0x6a, 'myService1',
  0xa2, 0x00, 0x66, '66/0/1', 0x03, 0x6f, 'Internet.15.234',
  0xa2, 0x00, 0x66, '66/0/2', 0x63, 'vlo', 0x64, '67:0',
  0xa2, 0x00, 0x66, '66/1/0', 0x03, 0x6a, 'myService2',
  0xa2, 0x00, 0x66, '66/1/1', 0x03, 0x6f, 'Internet.15.235',
  0xa2, 0x00, 0x66, '66/1/2', 0x63, 'vlo', 0x6b, '65535:65535',
  0xa2, 0x00, 0x66, '67/0/0', 0x03, 0x6b, '85.76.76.84',
  0xa2, 0x00, 0x66, '67/0/1', 0x03, 0x6d, '85.76.255.255',
);
// Table 7.4.4-5: [{-2: "/3/0/0", 3: "Open Mobile Alliance"}]
const SPEC_SINGLE = b(0x81, 0xa2, 0x21, 0x66, '/3/0/0', 0x03, 0x74, 'Open Mobile Alliance');
// Table 7.4.4-6: Read-Composite request [{0: "/3/0/0"}, {0: "/3/0/9"}, {0: "/1/0/1"}]
const SPEC_COMPOSITE_REQUEST = b(0x83, 0xa1, 0x00, 0x66, '/3/0/0', 0xa1, 0x00, 0x66, '/3/0/9', 0xa1, 0x00, 0x66, '/1/0/1');
// Table 7.4.4-7: Read-Composite response
const SPEC_COMPOSITE_RESPONSE = b(
  0x83,
  0xa2, 0x00, 0x66, '/3/0/0', 0x03, 0x74, 'Open Mobile Alliance',
  0xa2, 0x00, 0x66, '/3/0/9', 0x02, 0x18, 0x5f,
  0xa2, 0x00, 0x66, '/1/0/1', 0x02, 0x1a, 0x00, 0x01, 0x51, 0x80,
);
// Table 7.4.4-8: Write-Composite [{0: "/3311/0/5850", 4: false}, {0: "/3311/1/5850", 4: false}, {0: "/3311/2/5851", 2: 20}, {0: "/3308/0/5900", 2: 18}]
const SPEC_WRITE_COMPOSITE = b(
  0x84,
  0xa2, 0x00, 0x6c, '/3311/0/5850', 0x04, 0xf4,
  0xa2, 0x00, 0x6c, '/3311/1/5850', 0x04, 0xf4,
  0xa2, 0x00, 0x6c, '/3311/2/5851', 0x02, 0x14,
  0xa2, 0x00, 0x6c, '/3308/0/5900', 0x02, 0x12,
);

describe('SenML CBOR: specification examples (Core 1.1 7.4.4)', () => {
  test('Table 7.4.4-2: Read /3/0, decoded and re-encoded byte for byte', () => {
    const records = dec(SPEC_DEVICE, '/3/0');
    assert.deepEqual(view(records), DEVICE_EXAMPLE);
    assert.deepEqual(enc(records, '/3/0'), SPEC_DEVICE);
  });

  test('Table 7.4.4-3: historical values with base time', () => {
    const before = Date.now() / 1000;
    const records = dec(SPEC_HISTORY, '/72');
    assert.deepEqual(records.map((r) => [r.path.toString(), r.value]), [['/72/1/2', 22.4], ['/72/1/2', 22.9], ['/72/1/2', 24.1]]);
    assert.ok(records[0].time! >= before + 25462634 - 5);
    assert.equal(Math.round(records[1].time! - records[2].time!), 20);
  });

  test('Table 7.4.4-4: object links with the text label "vlo"', () => {
    const records = dec(SPEC_OBJLNK, '/');
    assert.deepEqual(records[0].value, { objectId: 66, instanceId: 0 });
    assert.deepEqual(records[9].value, { objectId: 65535, instanceId: 65535 });
    assert.equal(records[3].value, 1);
    assert.equal(records.length, 12);
    assert.deepEqual(view(dec(enc(records, '/'), '/')), view(records));
  });

  test('Tables 7.4.4-5 to 7.4.4-8: single value, composite read request/response, composite write', () => {
    assert.deepEqual(view(dec(SPEC_SINGLE, '/3/0/0')), [['/3/0/0', 'Open Mobile Alliance']]);
    assert.deepEqual(enc(dec(SPEC_SINGLE, '/3/0/0'), '/3/0/0'), SPEC_SINGLE);

    const req = dec(SPEC_COMPOSITE_REQUEST);
    assert.deepEqual(req.map((r) => [r.path.toString(), r.value]), [['/3/0/0', undefined], ['/3/0/9', undefined], ['/1/0/1', undefined]]);
    assert.deepEqual(enc(req), SPEC_COMPOSITE_REQUEST);

    const resp = dec(SPEC_COMPOSITE_RESPONSE);
    assert.deepEqual(view(resp), [['/3/0/0', 'Open Mobile Alliance'], ['/3/0/9', 95], ['/1/0/1', 86400]]);
    assert.deepEqual(enc(resp), SPEC_COMPOSITE_RESPONSE);

    const write = dec(SPEC_WRITE_COMPOSITE);
    assert.deepEqual(view(write), [['/3311/0/5850', false], ['/3311/1/5850', false], ['/3311/2/5851', 20], ['/3308/0/5900', 18]]);
    // Re-encoded, the Float Set Point Value 18 stays a float (half f9 4c80) where the table shows the integer 18 (12):
    // Leshan's decoder refuses an integer for a Float resource. The Integer 20 stays an integer.
    const floatSetPoint = Buffer.concat([SPEC_WRITE_COMPOSITE.subarray(0, SPEC_WRITE_COMPOSITE.length - 1), Buffer.of(0xf9, 0x4c, 0x80)]);
    assert.deepEqual(enc(write), floatSetPoint);
    assert.deepEqual(view(dec(floatSetPoint)), view(write));
  });

  test('OMA issue 484 example: {0: "/65/0/0/0", "vlo": "66:0"}', () => {
    const buf = b(0x81, 0xa2, 0x00, 0x69, '/65/0/0/0', 0x63, 'vlo', 0x64, '66:0');
    assert.deepEqual(view(dec(buf)), [['/65/0/0/0', { objectId: 66, instanceId: 0 }]]);
    assert.deepEqual(enc(dec(buf)), buf);
  });
});

describe('SenML CBOR: values and wire forms', () => {
  const all: Lwm2mRecord[] = [
    rec('/10250/0/0', 'héllo'), rec('/10250/0/1', -42), rec('/10250/0/2', 18446744073709551615n), rec('/10250/0/3', 25.5),
    rec('/10250/0/4', true), rec('/10250/0/5', Buffer.from([0, 1, 2, 255])), rec('/10250/0/6', new Date(1700000000000)),
    rec('/10250/0/7', { objectId: 3, instanceId: 1 }), rec('/10250/0/8', '</3/0>'), rec('/10250/0/9/0', -9223372036854775808n),
    rec('/10250/0/9/1', 9223372036854775807n), rec('/10250/0/12/0', 0.1), rec('/10250/0/12/1', -Infinity), rec('/10250/0/13/9', Buffer.alloc(0)),
    rec('/10250/0/3', 1700000000.5, 1700000000.25),
  ];

  test('round trip of every type', () => {
    assert.deepEqual(view(dec(enc(all, '/10250/0'), '/10250/0')), view(all));
  });

  test('Float resources: the shortest exact float (half, single, double), also when whole; integers stay integers', () => {
    const one = (p: string, v: number) => enc([rec(p, v)], p).subarray(2 + 1 + 1 + p.length + 1).toString('hex');
    assert.equal(one('/10250/0/3', 25.5), 'f94e60');
    assert.equal(one('/10250/0/3', 33), 'f95020', 'a whole Float is a float (33.0), not the integer 33');
    assert.equal(one('/10250/0/3', 0), 'f90000');
    assert.equal(one('/10250/0/3', -0), 'f98000');
    assert.equal(one('/10250/0/3', 65504), 'f97bff');
    assert.equal(one('/10250/0/3', 65505), 'fa477fe100', 'beyond half: single');
    assert.equal(one('/10250/0/3', 2 ** -24), 'f90001', 'smallest half subnormal');
    assert.equal(one('/10250/0/3', 1e10), 'fa501502f9');
    assert.equal(one('/10250/0/3', 4294967297), 'fb41f0000000100000', 'whole but not exact in single: double');
    assert.equal(one('/10250/0/3', 0.1), 'fb3fb999999999999a');
    assert.equal(one('/10250/0/3', Infinity), 'f97c00');
    assert.equal(one('/10250/0/1', 33), '1821', 'Integer resource: integer');
    assert.equal(one('/10250/0/6', 1700000000), '1a6553f100', 'Time: integer seconds');
    // The integer form other peers write still decodes.
    assert.equal(dec(b(0x81, 0xa2, 0x21, 0x6a, '/10250/0/3', 0x02, 0x18, 0x21))[0].value, 33);
    // Every half pattern that is a finite number maps back exactly (numberToHalf is the inverse of halfToNumber).
    for (let h = 0; h < 0x10000; h++) {
      const v = halfToNumber(h);
      if (Number.isNaN(v)) continue;
      assert.equal(numberToHalf(v), h, `half 0x${h.toString(16)}`);
    }
    assert.equal(numberToHalf(1 + 2 ** -11), undefined);
    assert.equal(numberToHalf(1e-8), undefined);
    const nan = dec(enc([rec('/10250/0/3', NaN)], '/10250/0/3'), '/10250/0/3');
    assert.ok(Number.isNaN(nan[0].value as number));
  });

  test('decoding: half floats, indefinite lengths, text labels, tag 1 on bt, bignums and decimal fractions', () => {
    // [_ {_ "bn": "/10250/0/", "n": "3", 2: 1.5 (half)}]
    const indefinite = b(0x9f, 0xbf, 0x62, 'bn', 0x69, '/10250/0/', 0x61, 'n', 0x61, '3', 0x02, 0xf9, 0x3e, 0x00, 0xff, 0xff);
    assert.deepEqual(view(dec(indefinite)), [['/10250/0/3', 1.5]]);
    // [{-2: "/3303/0/5700", -3: 1(1720696276), 2: 21.5}]
    const tagged = b(0x81, 0xa3, 0x21, 0x6c, '/3303/0/5700', 0x22, 0xc1, 0x1a, 0x66, 0x8f, 0xc6, 0xd4, 0x02, 0xf9, 0x4d, 0x60);
    assert.deepEqual(view(dec(tagged)), [['/3303/0/5700', 21.5, 1720698580]]);
    // [{0: "/0/0/16", 2: 2(h'010000000000000000')}] = 2^64 -> out of the Unsigned range
    const big = b(0x81, 0xa2, 0x00, 0x67, '/0/0/16', 0x02, 0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    assert.throws(() => dec(big), DecodeError);
    assert.deepEqual(dec(big, '/', emptyRegistry)[0].value, 2n ** 64n);
    // [{0: "/10250/0/3", 2: 4([-1, 45])}] decimal fraction 4.5
    const frac = b(0x81, 0xa2, 0x00, 0x6a, '/10250/0/3', 0x02, 0xc4, 0x82, 0x20, 0x18, 0x2d);
    assert.equal(dec(frac)[0].value, 4.5);
    // Time as tag 1 or tag 0 in v (Core 1.1 Appendix C.2): [{0: "/3/0/13", 2: 1(1367491215)}], [{0: "/3/0/13", 2: 0("2013-05-02T10:40:15Z")}]
    assert.deepEqual(view(dec(b(0x81, 0xa2, 0x00, 0x67, '/3/0/13', 0x02, 0xc1, 0x1a, 0x51, 0x82, 0x42, 0x8f))),
      [['/3/0/13', 'date:2013-05-02T10:40:15.000Z']]);
    assert.deepEqual(view(dec(b(0x81, 0xa2, 0x00, 0x67, '/3/0/13', 0x02, 0xc0, 0x74, '2013-05-02T10:40:15Z'))),
      [['/3/0/13', 'date:2013-05-02T10:40:15.000Z']]);
    assert.throws(() => dec(b(0x81, 0xa2, 0x00, 0x67, '/3/0/13', 0x02, 0xc0, 0x61, 'x')), DecodeError);
    // Leshan's example: [{-2: "/0/0/3", 8: h'ABCDEF'}]
    assert.deepEqual(view(dec(Buffer.from('81a221662f302f302f330843abcdef', 'hex'), '/0/0/3')), [['/0/0/3', 'hex:abcdef']]);
    assert.equal(enc(dec(Buffer.from('81a221662f302f302f330843abcdef', 'hex'), '/0/0/3'), '/0/0/3').toString('hex'),
      '81a221662f302f302f330843abcdef');
  });

  test('the model decides: Integer given 25.5 fails, Float given 25 stays 25', () => {
    assert.equal(dec(b(0x81, 0xa2, 0x00, 0x6a, '/10250/0/3', 0x02, 0x18, 25))[0].value, 25);
    assert.throws(() => dec(b(0x81, 0xa2, 0x00, 0x6a, '/10250/0/1', 0x02, 0xf9, 0x4e, 0x64)), DecodeError); // 25.5 half
    assert.throws(() => dec(b(0x81, 0xa2, 0x00, 0x6a, '/10250/0/0', 0x02, 0x01)), DecodeError); // string given v
    assert.throws(() => dec(b(0x81, 0xa2, 0x00, 0x6a, '/10250/0/5', 0x03, 0x61, 'x')), DecodeError); // opaque given vs
  });

  test('malformed packs are DecodeErrors', () => {
    const cases: Buffer[] = [
      b(0xa0), // a map, not an array
      b(0x81, 0x01), // record not a map
      b(0x81, 0xa1, 0xf5, 0x01), // label neither int nor text
      b(0x81, 0xa2, 0x00, 0x01, 0x02, 0x01), // n not a text
      b(0x81, 0xa2, 0x00, 0x66, '/3/0/9', 0x02, 0x61, '1'), // v not a number
      b(0x81, 0xa2, 0x00, 0x66, '/3/0/9', 0x08, 0x61, '1'), // vd not bytes
      b(0x81, 0xa2, 0x00, 0x66, '/3/0/9', 0x04, 0x01), // vb not a bool
      b(0x81, 0xa3, 0x00, 0x66, '/3/0/9', 0x02, 0x01, 0x03, 0x61, 'x'), // two values
      b(0x81, 0xa2, 0x00, 0x66, '/3/0/9', 0x64, 'foo_'), // truncated
      b(0x81, 0xa3, 0x00, 0x66, '/3/0/9', 0x02, 0x01, 0x64, 'foo_', 0x01), // must-understand
      b(0x81, 0xa1, 0x02, 0x01), // no name
      b(0x82, 0xa0), // truncated array
      b(0x81, 0xa0, 0x00), // trailing byte
      b(0x9a, 0xff, 0xff, 0xff, 0xff), // huge declared length
      b(0x81, 0xa1, 0x00, 0x7a, 0x7f, 0xff, 0xff, 0xff), // huge text length
      b(0x81, 0xa1, 0x00, 0x62, 0xc3, 0x28), // invalid UTF-8
      Buffer.concat([Buffer.alloc(100, 0x81), Buffer.from([0xa0])]), // depth bomb
    ];
    for (const c of cases) assert.throws(() => dec(c), DecodeError, c.toString('hex'));
  });

  test('encoding errors', () => {
    assert.throws(() => enc([rec('/3/0/0', 'x')], '/3/1'), EncodeError);
    assert.throws(() => enc([rec('/10250/0/1', 1.5)], '/10250/0'), EncodeError);
    assert.throws(() => enc([rec('/10250/0/2', -1)], '/10250/0'), EncodeError);
  });

  test('empty payload and empty pack', () => {
    assert.deepEqual(dec(Buffer.alloc(0), '/3/0'), []);
    assert.deepEqual(dec(b(0x80), '/3/0'), []);
    assert.deepEqual(enc([], '/3/0'), b(0x80));
  });
});

describe('SenML CBOR direct reader', () => {
  /** Result or error message of a reader. */
  const outcome = (fn: () => unknown): unknown => {
    try {
      return { ok: fn() };
    } catch (err) {
      assert.ok(err instanceof DecodeError, `unexpected ${String(err)}`);
      return { error: err.message };
    }
  };

  test('reads every pack exactly as the general reader does (generated packs, then byte-level mutations)', () => {
    let seed = 21;
    const rnd = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000) * n);
    const head = (major: number, n: number): number[] => {
      const m = major << 5;
      if (n < 24) return [m | n];
      if (n < 0x100) return [m | 24, n];
      if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
      return [m | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
    };
    const textItem = (s: string) => { const u = Buffer.from(s, 'utf8'); return [...head(3, u.length), ...u]; };
    const values: Array<() => number[]> = [
      () => textItem(['/3/0/', '0', '6/1', '', 'é', 'x'.repeat(30)][rnd(6)]),
      () => head(0, [0, 5, 23, 24, 255, 256, 70000, 0xffffffff][rnd(8)]),
      () => head(1, [0, 9, 300, 0x12345678][rnd(4)]),
      () => [0x1b, 0, 0, 0, 1, 0, 0, 0, 0], // 64-bit integer
      () => [0xf9, 0x3c, 0x00], // half 1.0
      () => [0xfa, 0x41, 0xc8, 0x00, 0x00], // float 25
      () => [0xfb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18], // double pi
      () => [[0xf4], [0xf5], [0xf6]][rnd(3)], // false, true, null
      () => [...head(2, 3), 1, 2, 3], // bytes
      () => [0xc1, ...head(0, 1700000000)], // tag 1
      () => [0xc0, ...textItem('2020-01-01T00:00:00Z')], // tag 0
      () => [0x7f, 0x61, 0x61, 0xff], // indefinite text
    ];
    const labels: Array<() => number[]> = [
      () => head(0, rnd(10)), () => head(1, rnd(7)), () => textItem(['bn', 'n', 'v', 'vs', 'vlo', 'vb', 'vd', 'x_', 'zz', 'bt'][rnd(10)]),
      () => [0x18, 0x02], // non-shortest label 2
    ];
    const pack = (): Buffer => {
      const records = rnd(5);
      const out: number[] = [...head(4, records)];
      for (let i = 0; i < records; i++) {
        const fields = rnd(4);
        out.push(...head(5, fields));
        for (let f = 0; f < fields; f++) {
          // mostly the usual shape: integer labels with values of their kind
          const usual = rnd(3) > 0;
          if (usual) {
            const k = [-2, 0, 2, 3, 4, 8, 6, -3][rnd(8)];
            out.push(...(k < 0 ? head(1, -1 - k) : head(0, k)));
            out.push(...(k === -2 || k === 0 || k === 3 ? textItem(['/3/0/', '1', '6/0', 'abc'][rnd(4)])
              : k === 4 ? [0xf5] : k === 8 ? [...head(2, 2), 9, 9] : head(0, rnd(1000))));
          } else {
            out.push(...labels[rnd(labels.length)]());
            out.push(...values[rnd(values.length)]());
          }
        }
      }
      return Buffer.from(out);
    };
    let direct = 0;
    for (let k = 0; k < 20000; k++) {
      const p = pack();
      if (k % 2 === 1 && p.length > 0) {
        // flip, drop or add bytes
        const i = rnd(p.length);
        const m = rnd(3);
        if (m === 0) p[i] = rnd(256);
        else if (m === 1) { const cut = Buffer.concat([p.subarray(0, i), p.subarray(i + 1)]); assert.deepEqual(outcome(() => parseSenmlCbor(cut)), outcome(() => parseSenmlCborItems(cut))); continue; }
        else { const more = Buffer.concat([p, Buffer.from([rnd(256)])]); assert.deepEqual(outcome(() => parseSenmlCbor(more)), outcome(() => parseSenmlCborItems(more))); continue; }
      }
      const a = outcome(() => parseSenmlCbor(p));
      assert.deepEqual(a, outcome(() => parseSenmlCborItems(p)), p.toString('hex'));
      if ((a as { ok?: unknown }).ok !== undefined) direct++;
    }
    assert.ok(direct > 2000, `enough valid packs (${direct})`);
  });
});
