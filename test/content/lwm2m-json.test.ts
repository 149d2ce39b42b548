import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { lwm2mJsonCodec, oldLwm2mJsonCodec } from '../../src/content/lwm2m-json';
import { DecodeError, EncodeError } from '../../src/errors';
import { Lwm2mPath } from '../../src/model/path';
import { Lwm2mRecord } from '../../src/content/values';
import { at, DEVICE_EXAMPLE, emptyRegistry, view } from './fixtures';

const dec = (json: string, path = '/', reg?: Parameters<typeof at>[1]) => lwm2mJsonCodec.decode(Buffer.from(json), at(path, reg));
const enc = (records: Lwm2mRecord[], path = '/') => lwm2mJsonCodec.encode(records, at(path)).toString();
const rec = (path: string, value?: Lwm2mRecord['value'], time?: number): Lwm2mRecord => {
  const r: Lwm2mRecord = { path: Lwm2mPath.parse(path) };
  if (value !== undefined) r.value = value;
  if (time !== undefined) r.time = time;
  return r;
};

// OMA TS LightweightM2M 1.0.2 section 6.4.4, the JSON example for a Read of the Device object instance /3/0.
const SPEC_DEVICE = '{"bn":"/3/0/","e":[{"n":"0","sv":"Open Mobile Alliance"},{"n":"1","sv":"Lightweight M2M Client"},'
  + '{"n":"2","sv":"345000123"},{"n":"3","sv":"1.0"},{"n":"6/0","v":1},{"n":"6/1","v":5},{"n":"7/0","v":3800},'
  + '{"n":"7/1","v":5000},{"n":"8/0","v":125},{"n":"8/1","v":900},{"n":"9","v":100},{"n":"10","v":15},{"n":"11/0","v":0},'
  + '{"n":"13","v":1367491215},{"n":"14","sv":"+02:00"},{"n":"16","sv":"U"}]}';
// Same section: a notification with several historical values of one Temperature resource (base time + relative t).
const SPEC_HISTORY = `{"bn":"/3303/0/5700","e":[{"v":22.4,"t":-5},{"v":22.9,"t":-30},{"v":24.1,"t":-50}],"bt":25462634}`;
// Same section: the object link example (Read of /65/0 and the objects it links to, Appendix C figure), root base name.
const SPEC_OBJLNK = '{"bn":"/","e":[{"n":"65/0/0/0","ov":"66:0"},{"n":"65/0/0/1","ov":"66:1"},{"n":"65/0/1","sv":"8613800755500"},'
  + '{"n":"65/0/2","v":1},{"n":"66/0/0","sv":"myService 1"},{"n":"66/0/1","sv":"Internet.15.234"},{"n":"66/1/0","sv":"myService 2"},'
  + '{"n":"66/1/1","sv":"Internet.15.235"},{"n":"66/1/2","ov":"65535:65535"},{"n":"67/0/0","sv":"85.76.76.84"},'
  + '{"n":"67/0/1","sv":"85.76.255.255"}]}';

describe('LwM2M JSON: specification examples (Core 1.0.2 6.4.4)', () => {
  test('Read /3/0 decodes to the Device instance and re-encodes to the same text', () => {
    const records = dec(SPEC_DEVICE, '/3/0');
    assert.deepEqual(view(records), DEVICE_EXAMPLE);
    assert.equal(enc(records, '/3/0'), SPEC_DEVICE);
  });

  test('historical values: bt + t', () => {
    const before = Date.now() / 1000;
    const records = dec(SPEC_HISTORY, '/3303/0/5700');
    assert.deepEqual(records.map((r) => r.value), [22.4, 22.9, 24.1]);
    assert.ok(records.every((r) => r.path.toString() === '/3303/0/5700'));
    // Below 2^28: relative to now, like SenML (RFC 8428 4.5.3).
    assert.ok(records[0].time! >= before + 25462634 - 5);
    assert.equal(Math.round(records[0].time! - records[1].time!), 25);
    // An absolute base time gives absolute times.
    const abs = dec('{"bn":"/1024/0/1","e":[{"v":22.9,"t":-30},{"v":22.4,"t":-5}],"bt":1700000000}', '/', emptyRegistry);
    assert.deepEqual(view(abs), [['/1024/0/1', 22.9, 1699999970], ['/1024/0/1', 22.4, 1699999995]]);
  });

  test('object links', () => {
    const records = dec(SPEC_OBJLNK, '/');
    assert.deepEqual(records[0].value, { objectId: 66, instanceId: 0 });
    assert.deepEqual(records[8].value, { objectId: 65535, instanceId: 65535 });
    assert.equal(records[4].value, 'myService 1');
    assert.equal(enc(records, '/'), SPEC_OBJLNK);
  });

  test('the old content format 1543 decodes the same payloads', () => {
    assert.equal(oldLwm2mJsonCodec.format, 1543);
    assert.deepEqual(view(oldLwm2mJsonCodec.decode(Buffer.from(SPEC_DEVICE), at('/3/0'))), DEVICE_EXAMPLE);
    assert.throws(() => oldLwm2mJsonCodec.decode(Buffer.from('[]'), at('/')), (e: unknown) => e instanceof DecodeError && e.format === 1543);
  });
});

describe('LwM2M JSON: values and forms', () => {
  const all: Lwm2mRecord[] = [
    rec('/10250/0/0', 'a "b" \\ c'), rec('/10250/0/1', -42), rec('/10250/0/2', 18446744073709551615n), rec('/10250/0/3', 25.5),
    rec('/10250/0/4', false), rec('/10250/0/5', Buffer.from([0xfb, 0xff, 0x01])), rec('/10250/0/6', new Date(1700000000000)),
    rec('/10250/0/7', { objectId: 3, instanceId: 1 }), rec('/10250/0/8', '</3/0>'), rec('/10250/0/9/2', -9223372036854775808n),
    rec('/10250/0/13/0', Buffer.alloc(0)), rec('/10250/0/3', 3.25, 1700000000.5),
  ];

  test('round trip of every type (opaque as base64 in sv)', () => {
    const text = enc(all, '/10250/0');
    assert.ok(text.includes('{"n":"5","sv":"+/8B"}'));
    assert.ok(text.includes('{"n":"7","ov":"3:1"}'));
    assert.ok(text.includes('{"n":"4","bv":false}'));
    assert.deepEqual(view(dec(text, '/10250/0')), view(all));
  });

  test('single resource: bn is the object instance, n the resource id (TS 1.0.2 6.4.4, as wakaama writes it)', () => {
    // C clients build each entry's path from an instance base name; `{"bn":"/3/0/14","e":[{"sv":...}]}` gets a 4.04.
    assert.equal(enc([rec('/3/0/9', 95)], '/3/0/9'), '{"bn":"/3/0/","e":[{"n":"9","v":95}]}');
    assert.equal(enc([rec('/3/0/14', '+02')], '/3/0/14'), '{"bn":"/3/0/","e":[{"n":"14","sv":"+02"}]}');
    assert.equal(enc([rec('/3/0/7/1', 5000)], '/3/0/7/1'), '{"bn":"/3/0/","e":[{"n":"7/1","v":5000}]}');
    assert.equal(enc([rec('/3/0/7/0', 3800), rec('/3/0/7/1', 5000)], '/3/0/7'), '{"bn":"/3/0/","e":[{"n":"7/0","v":3800},{"n":"7/1","v":5000}]}');
    // Both forms are read.
    assert.deepEqual(view(dec('{"bn":"/3/0/9","e":[{"v":95}]}', '/3/0/9')), [['/3/0/9', 95]]);
    assert.deepEqual(view(dec('{"bn":"/3/0/","e":[{"n":"9","v":95}]}', '/3/0/9')), [['/3/0/9', 95]]);
    assert.deepEqual(view(dec('{"bn":"/3/0/7/","e":[{"n":"0","v":3800},{"n":"1","v":5000}]}', '/3/0/7')), [['/3/0/7/0', 3800], ['/3/0/7/1', 5000]]);
    assert.deepEqual(view(dec(enc([rec('/3/0/7/1', 5000)], '/3/0/7/1'), '/3/0/7/1')), [['/3/0/7/1', 5000]]);
  });

  test('names: bn without leading slash, no bn, bn cut inside an id (as seen from devices)', () => {
    const custom = dec('{"bn":"1024/0/", "e":[{"n":"0","sv":"a string"},{"n":"1","v":10.5},{"n":"2","bv":true}]}', '/', emptyRegistry);
    assert.deepEqual(view(custom), [['/1024/0/0', 'a string'], ['/1024/0/1', 10.5], ['/1024/0/2', true]]);
    assert.deepEqual(dec('{"e":[{"n":"/3/0/0","sv":"x"}]}', '/3/0').map((r) => r.path.toString()), ['/3/0/0']);
    assert.deepEqual(dec('{"bn":"3/0/1","e":[{"n":"1/0","v":0},{"n":"1/1","v":0}]}', '/3/0/11').map((r) => r.path.toString()),
      ['/3/0/11/0', '/3/0/11/1']);
  });

  test('the model decides types', () => {
    assert.throws(() => dec('{"e":[{"n":"/10250/0/1","v":1.5}]}'), DecodeError);
    assert.equal(dec('{"e":[{"n":"/10250/0/3","v":2}]}')[0].value, 2);
    assert.throws(() => dec('{"e":[{"n":"/10250/0/5","sv":"!!"}]}'), DecodeError); // opaque must be base64
    assert.equal(dec('{"e":[{"n":"/9/0/5","sv":"!!"}]}', '/', emptyRegistry)[0].value, '!!'); // unknown: a string
    assert.deepEqual(dec('{"e":[{"n":"/10250/0/1","v":123456789012345678}]}')[0].value, 123456789012345678n);
  });

  test('empty answers', () => {
    assert.deepEqual(dec('{"e":[]}', '/2'), []);
    assert.deepEqual(dec('{"bn":"2/0", "e":[]}', '/2/0'), []);
    assert.deepEqual(dec('', '/2'), []);
  });

  test('malformed payloads are DecodeErrors', () => {
    const cases = [
      '{}', '[]', '{"e":{}}', '{"bn":1,"e":[]}', '{"bt":"1","e":[]}', '{"e":[1]}', '{"e":[{"n":2,"v":1}]}',
      '{"e":[{"n":"/3/0/9","v":"1"}]}', '{"e":[{"n":"/3/0/9","bv":1}]}', '{"e":[{"n":"/3/0/9","ov":"1"}]}',
      '{"e":[{"n":"/3/0/9","sv":1}]}', '{"e":[{"n":"/3/0/9","v":1,"sv":"1"}]}', '{"e":[{"n":"/3/0","v":1}]}',
      '{"e":[{"v":1}]}', '{"e":[{"n":"/3/0/9","v":1,"t":"x"}]}', '{"e":[{"n":"/3/0/a","v":1}]}', '{"e":[',
    ];
    for (const c of cases) assert.throws(() => dec(c), DecodeError, c);
    assert.throws(() => dec('{"e":[{"n":"/3/0/0","sv":"x"}]}', '/3/1'), DecodeError);
  });

  test('encoding errors', () => {
    assert.throws(() => enc([rec('/3/0/0', 'x')], '/4'), EncodeError);
    assert.throws(() => enc([rec('/10250/0/3', Infinity)], '/10250/0'), EncodeError);
  });
});
