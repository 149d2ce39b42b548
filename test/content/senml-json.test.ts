import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { senmlJsonCodec } from '../../src/content/senml-json';
import { DecodeError, EncodeError } from '../../src/errors';
import { Lwm2mPath } from '../../src/model/path';
import { Lwm2mRecord } from '../../src/content/values';
import { at, DEVICE_EXAMPLE, emptyRegistry, view } from './fixtures';

const dec = (json: string, path = '/', reg?: Parameters<typeof at>[1]) => senmlJsonCodec.decode(Buffer.from(json), at(path, reg));
const enc = (records: Lwm2mRecord[], path = '/') => senmlJsonCodec.encode(records, at(path)).toString();
const rec = (path: string, value?: Lwm2mRecord['value'], time?: number): Lwm2mRecord => {
  const r: Lwm2mRecord = { path: Lwm2mPath.parse(path) };
  if (value !== undefined) r.value = value;
  if (time !== undefined) r.time = time;
  return r;
};
const nows = () => Date.now() / 1000;

// OMA TS Core 1.1 section 7.4.5 (SenML JSON) example payloads, whitespace removed.
const SPEC_DEVICE_READ = '[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"1","vs":"Lightweight M2M Client"},'
  + '{"n":"2","vs":"345000123"},{"n":"3","vs":"1.0"},{"n":"6/0","v":1},{"n":"6/1","v":5},{"n":"7/0","v":3800},'
  + '{"n":"7/1","v":5000},{"n":"8/0","v":125},{"n":"8/1","v":900},{"n":"9","v":100},{"n":"10","v":15},{"n":"11/0","v":0},'
  + '{"n":"13","v":1367491215},{"n":"14","vs":"+02:00"},{"n":"16","vs":"U"}]';
const SPEC_HISTORY = '[{"bn":"/72/","bt":25462634,"n":"1/2","v":22.4,"t":-5},{"n":"1/2","v":22.9,"t":-30},{"n":"1/2","v":24.1,"t":-50}]';
const SPEC_OBJLNK = '[{"bn":"/","n":"65/0/0/0","vlo":"66:0"},{"n":"65/0/0/1","vlo":"66:1"},{"n":"65/0/1","vs":"8613800755500"},'
  + '{"n":"65/0/2","v":1},{"n":"66/0/0","vs":"myService1"},{"n":"66/0/1","vs":"Internet.15.234"},{"n":"66/0/2","vlo":"67:0"},'
  + '{"n":"66/1/0","vs":"myService2"},{"n":"66/1/1","vs":"Internet.15.235"},{"n":"66/1/2","vlo":"65535:65535"},'
  + '{"n":"67/0/0","vs":"85.76.76.84"},{"n":"67/0/1","vs":"85.76.255.255"}]';
const SPEC_SINGLE = '[{"bn":"/3/0/0","vs":"Open Mobile Alliance"}]';
const SPEC_COMPOSITE_REQUEST = '[{"n":"/3/0/0"},{"n":"/3/0/9"},{"n":"/1/0/1"}]';
const SPEC_COMPOSITE_RESPONSE = '[{"n":"/3/0/0","vs":"Open Mobile Alliance"},{"n":"/3/0/9","v":95},{"n":"/1/0/1","v":86400}]';
const SPEC_WRITE_COMPOSITE = '[{"n":"/3311/0/5850","vb":false},{"n":"/3311/1/5850","vb":false},{"n":"/3311/2/5851","v":20},'
  + '{"n":"/3308/0/5900","v":18}]';

describe('SenML JSON: specification examples (Core 1.1 7.4.5)', () => {
  test('Read /3/0 decodes to the Device instance and re-encodes to the same text', () => {
    const records = dec(SPEC_DEVICE_READ, '/3/0');
    assert.deepEqual(view(records), DEVICE_EXAMPLE);
    assert.equal(enc(records, '/3/0'), SPEC_DEVICE_READ);
  });

  test('historical values: bt + t resolved, relative to now below 2^28 (RFC 8428 4.5.3)', () => {
    const before = nows();
    const records = dec(SPEC_HISTORY, '/72');
    const after = nows();
    assert.deepEqual(records.map((r) => [r.path.toString(), r.value]), [['/72/1/2', 22.4], ['/72/1/2', 22.9], ['/72/1/2', 24.1]]);
    // 25462634 - 5 < 2^28: a time relative to now.
    assert.ok(records[0].time! >= before + 25462634 - 5 && records[0].time! <= after + 25462634 - 5);
    assert.equal(Math.round(records[0].time! - records[1].time!), 25);
    assert.equal(Math.round(records[0].time! - records[2].time!), 45);
  });

  test('absolute base time applies to the following records', () => {
    const records = dec('[{"bn":"/3303/0/5700","bt":1700000000,"v":22.9},{"v":22.4,"t":-5},{"v":24.1,"t":-50}]', '/3303/0/5700');
    assert.deepEqual(view(records), [['/3303/0/5700', 22.9, 1700000000], ['/3303/0/5700', 22.4, 1699999995],
      ['/3303/0/5700', 24.1, 1699999950]]);
  });

  test('object links (Read /65 example with objects 65, 66, 67)', () => {
    const records = dec(SPEC_OBJLNK, '/');
    assert.deepEqual(view(records), [
      ['/65/0/0/0', { objectId: 66, instanceId: 0 }], ['/65/0/0/1', { objectId: 66, instanceId: 1 }],
      ['/65/0/1', '8613800755500'], ['/65/0/2', 1], ['/66/0/0', 'myService1'], ['/66/0/1', 'Internet.15.234'],
      ['/66/0/2', { objectId: 67, instanceId: 0 }], ['/66/1/0', 'myService2'], ['/66/1/1', 'Internet.15.235'],
      ['/66/1/2', { objectId: 65535, instanceId: 65535 }], ['/67/0/0', '85.76.76.84'], ['/67/0/1', '85.76.255.255'],
    ]);
    // Composite layout re-encodes with full names.
    const again = dec(enc(records, '/'), '/');
    assert.deepEqual(view(again), view(records));
  });

  test('single resource read', () => {
    const records = dec(SPEC_SINGLE, '/3/0/0');
    assert.deepEqual(view(records), [['/3/0/0', 'Open Mobile Alliance']]);
    assert.equal(enc(records, '/3/0/0'), SPEC_SINGLE);
  });

  test('Read-Composite request: names without values', () => {
    const records = dec(SPEC_COMPOSITE_REQUEST, '/');
    assert.deepEqual(records.map((r) => [r.path.toString(), 'value' in r]), [['/3/0/0', false], ['/3/0/9', false], ['/1/0/1', false]]);
    assert.equal(enc(records, '/'), SPEC_COMPOSITE_REQUEST);
    // Composite requests may also name objects and instances.
    assert.deepEqual(dec('[{"n":"/1"},{"n":"/3/0"}]').map((r) => r.path.toString()), ['/1', '/3/0']);
  });

  test('Read-Composite response and Write-Composite request re-encode byte for byte', () => {
    const resp = dec(SPEC_COMPOSITE_RESPONSE, '/');
    assert.deepEqual(view(resp), [['/3/0/0', 'Open Mobile Alliance'], ['/3/0/9', 95], ['/1/0/1', 86400]]);
    assert.equal(enc(resp, '/'), SPEC_COMPOSITE_RESPONSE);
    const write = dec(SPEC_WRITE_COMPOSITE, '/');
    assert.deepEqual(view(write), [['/3311/0/5850', false], ['/3311/1/5850', false], ['/3311/2/5851', 20], ['/3308/0/5900', 18]]);
    assert.equal(enc(write, '/'), SPEC_WRITE_COMPOSITE);
  });
});

describe('SenML JSON: values and types', () => {
  const all: Lwm2mRecord[] = [
    rec('/10250/0/0', 'héllo "quoted" \u2028'), rec('/10250/0/1', -42), rec('/10250/0/2', 18446744073709551615n),
    rec('/10250/0/3', 25.5), rec('/10250/0/4', true), rec('/10250/0/5', Buffer.from([0xfb, 0xff, 0x00])),
    rec('/10250/0/6', new Date(1700000000000)), rec('/10250/0/7', { objectId: 3, instanceId: 1 }),
    rec('/10250/0/8', '</3/0>;ver=1.1'), rec('/10250/0/9/0', 9223372036854775807n), rec('/10250/0/9/7', -9223372036854775808n),
    rec('/10250/0/12/1', 1e300), rec('/10250/0/13/0', Buffer.alloc(0)),
  ];

  test('round trip of every type', () => {
    const out = dec(enc(all, '/10250/0'), '/10250/0');
    assert.deepEqual(view(out), view(all));
  });

  test('opaque is base64url without padding, and padded / standard base64 is accepted', () => {
    const text = enc([rec('/10250/0/5', Buffer.from([0xfb, 0xff]))], '/10250/0/5');
    assert.equal(text, '[{"bn":"/10250/0/5","vd":"-_8"}]');
    assert.deepEqual(view(dec('[{"bn":"/0/0/3","vd":"q83v"}]', '/0/0/3')), [['/0/0/3', 'hex:abcdef']]);
    assert.deepEqual(view(dec('[{"n":"/0/0/3","vd":"AQIDBAU="}]')), [['/0/0/3', 'hex:0102030405']]);
    assert.deepEqual(view(dec('[{"n":"/0/0/3","vd":"+/8="}]')), [['/0/0/3', 'hex:fbff']]);
    for (const bad of ['!!', 'A', 'AB=', 'A=B', 'q83v==x']) {
      assert.throws(() => dec(`[{"n":"/0/0/3","vd":"${bad}"}]`), DecodeError, bad);
    }
  });

  test('integers beyond 2^53 are kept exactly (bigint)', () => {
    assert.deepEqual(dec('[{"n":"/0/0/16","v":18446744073709551615}]')[0].value, 18446744073709551615n);
    assert.deepEqual(dec('[{"n":"/10250/0/1","v":-9223372036854775800}]')[0].value, -9223372036854775800n);
    assert.deepEqual(dec('[{"n":"/10250/0/1","v":9007199254740993}]')[0].value, 9007199254740993n);
    assert.equal(dec('[{"n":"/10250/0/1","v":1234567890123456}]')[0].value, 1234567890123456);
    assert.equal(enc([rec('/0/0/16', 18446744073709551615n)], '/'), '[{"n":"/0/0/16","v":18446744073709551615}]');
    // Unknown resource: still exact.
    assert.deepEqual(dec('[{"n":"/9/0/1","v":123456789012345678901}]')[0].value, 123456789012345678901n);
    // Out of range for the model type.
    assert.throws(() => dec('[{"n":"/0/0/16","v":18446744073709551616}]'), DecodeError);
    assert.throws(() => dec('[{"n":"/0/0/16","v":-1}]'), DecodeError);
  });

  test('the model decides integer vs float', () => {
    assert.equal(dec('[{"n":"/10250/0/3","v":25}]')[0].value, 25); // Float holding 25
    assert.equal(dec('[{"n":"/10250/0/1","v":25.0}]')[0].value, 25); // integral JSON float for an Integer
    assert.throws(() => dec('[{"n":"/10250/0/1","v":25.5}]'), (e: unknown) => e instanceof DecodeError && /10250\/0\/1/.test(e.message));
    assert.equal(dec('[{"n":"/10250/0/1","v":1.5e3}]')[0].value, 1500);
  });

  test('time: seconds in v, also in exponent form', () => {
    assert.deepEqual(view(dec('[{"bn":"/3/0/13","v":1.638435E9}]', '/3/0/13')), [['/3/0/13', 'date:2021-12-02T08:50:00.000Z']]);
    assert.equal(enc([rec('/3/0/13', new Date(1638435000500))], '/3/0/13'), '[{"bn":"/3/0/13","v":1638435000}]');
  });

  test('field/type mismatches are DecodeErrors naming the path', () => {
    const cases = [
      '[{"n":"/10250/0/0","v":1}]', // string resource given a number
      '[{"n":"/10250/0/1","vs":"1"}]', // integer given a string
      '[{"n":"/10250/0/4","v":1}]', // boolean given a number
      '[{"n":"/10250/0/5","vs":"AQ"}]', // opaque given a string
      '[{"n":"/10250/0/7","vlo":"3"}]', // malformed link
      '[{"n":"/10250/0/7","vlo":"3:70000"}]',
      '[{"n":"/10250/0/6","vs":"2020-01-01"}]',
    ];
    for (const c of cases) assert.throws(() => dec(c), DecodeError, c);
  });

  test('unknown resources keep what the format says', () => {
    const out = dec('[{"bn":"/9000/1/","n":"0","v":1.5},{"n":"1","vs":"s"},{"n":"2","vb":false},{"n":"3","vd":"AAE"},'
      + '{"n":"4","vlo":"1:2"},{"n":"5/3","v":-7}]', '/', emptyRegistry);
    assert.deepEqual(view(out), [['/9000/1/0', 1.5], ['/9000/1/1', 's'], ['/9000/1/2', false], ['/9000/1/3', 'hex:0001'],
      ['/9000/1/4', { objectId: 1, instanceId: 2 }], ['/9000/1/5/3', -7]]);
  });

  test('names: bn + n concatenation, leading slash optional (field compatibility)', () => {
    assert.deepEqual(dec('[{"bn":"/2/3","n":"/0","v":1234}]', '/2/3').map((r) => r.path.toString()), ['/2/3/0']);
    assert.deepEqual(dec('[{"bn":"3303/0/","n":"5700","v":1}]').map((r) => r.path.toString()), ['/3303/0/5700']);
    assert.deepEqual(dec('[{"bn":"/3/0/","n":"0","vs":"a"},{"bn":"/1/0/","n":"1","v":5},{"n":"7","vs":"U"}]')
      .map((r) => r.path.toString()), ['/3/0/0', '/1/0/1', '/1/0/7']);
  });

  test('base value is added to v (RFC 8428 4.1)', () => {
    assert.equal(dec('[{"bn":"/10250/0/","bv":100,"n":"1","v":-1}]')[0].value, 99);
  });

  test('timestamps round-trip as absolute t; untimed records stay untimed', () => {
    const records = [rec('/3303/0/5700', 21.5, 1700000000), rec('/3303/0/5700', 22.5, 1700000060.25), rec('/3303/0/5701', 'Cel')];
    const text = enc(records, '/3303/0');
    assert.equal(text, '[{"bn":"/3303/0/","n":"5700","t":1700000000,"v":21.5},{"n":"5700","t":1700000060.25,"v":22.5},'
      + '{"n":"5701","vs":"Cel"}]');
    assert.deepEqual(view(dec(text, '/3303/0')), view(records));
  });

  test('empty payloads', () => {
    assert.deepEqual(dec('', '/3/0/6'), []);
    assert.deepEqual(dec(' \n', '/3/0'), []);
    assert.deepEqual(dec('[]', '/3/0'), []);
    assert.equal(enc([], '/3/0'), '[]');
  });

  test('malformed packs are DecodeErrors', () => {
    const cases = [
      '{', '{}', '"x"', '[1]', '[[]]', '[null]', '[{"n":1}]', '[{"bn":true,"n":"0"}]', '[{"n":"/3/0/0","t":"x","vs":"a"}]',
      '[{"n":"/3/0/0","vs":"a","v":1}]', // two values
      '[{"n":"/3/0","v":1}]', // value on an instance
      '[{"v":1}]', // no name
      '[{"n":"/3/0/0/0/0","v":1}]', '[{"n":"/3/x/0","v":1}]', '[{"n":"/3/65535/0","v":1}]',
      '[{"n":"/3/0/9","v":1,"foo_":1}]', // must-understand field
      '[{"n":"/3/0/9","vb":"true"}]', '[{"n":"/3/0/9","v":"1"}]', '[{"n":"/3/0/9","bv":"1","v":1}]',
      '[{"n":"/3/0/9","v":1}] x', '[{"n":"/3/0/9","v":01}]',
    ];
    for (const c of cases) assert.throws(() => dec(c), DecodeError, c);
    assert.throws(() => senmlJsonCodec.decode(Buffer.from([0x5b, 0xff, 0x5d]), at('/')), DecodeError); // invalid UTF-8
    // Big-number path of the parser rejects the same garbage.
    for (const c of ['[{"n":"/3/0/9","v":12345678901234567]', '[{"n":"/3/0/9","v":12345678901234567,}]', '[{"n":"\\q","v":12345678901234567}]']) {
      assert.throws(() => dec(c), DecodeError, c);
    }
  });

  test('records outside the requested path are rejected', () => {
    assert.throws(() => dec('[{"n":"/3/0/0","vs":"x"}]', '/3/1'), DecodeError);
    assert.throws(() => enc([rec('/3/0/0', 'x')], '/3/1'), EncodeError);
  });

  test('encoding errors: NaN, wrong types, values above resources', () => {
    assert.throws(() => enc([rec('/10250/0/3', NaN)], '/10250/0'), EncodeError);
    assert.throws(() => enc([rec('/10250/0/1', 'abc')], '/10250/0'), EncodeError);
    assert.throws(() => enc([{ path: Lwm2mPath.parse('/3/0'), value: 1 }], '/3'), EncodeError);
  });

  test('values are converted with the model before encoding', () => {
    assert.equal(enc([rec('/10250/0/7', '3:1' as unknown as string)], '/10250/0/7'), '[{"bn":"/10250/0/7","vlo":"3:1"}]');
    assert.equal(enc([rec('/10250/0/4', 'true')], '/10250/0/4'), '[{"bn":"/10250/0/4","vb":true}]');
  });
});
