import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Lwm2mPath } from '../../src/model/path';
import { DecodeError, EncodeError } from '../../src/errors';
import {
  DiscoverEntry, formatDiscover, formatLinks, formatRegistrationLinks, MAX_LINK_INPUT, MAX_LINKS, parseDiscover, parseLinks,
  parseRegistrationLinks,
} from '../../src/content/link';

const decodeFails = (fn: () => unknown, ...fragments: string[]) => assert.throws(fn, (e: unknown) => {
  assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`);
  assert.equal(e.format, 40);
  for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" should contain "${f}"`);
  return true;
});

describe('link-format: RFC 6690 parsing', () => {
  test('RFC 6690 section 5 example', () => {
    const links = parseLinks('</sensors/temp>;rt="temperature-c";if="sensor",</sensors/light>;rt="light-lux";if="sensor"');
    assert.deepEqual(links, [
      { uri: '/sensors/temp', params: { rt: 'temperature-c', if: 'sensor' } },
      { uri: '/sensors/light', params: { rt: 'light-lux', if: 'sensor' } },
    ]);
  });

  test('quoted strings keep commas, semicolons and escaped quotes; params without value are true', () => {
    const links = parseLinks('</a>;title="x, y; \\"z\\" \\\\";obs;ct=40,</b>;anchor="/a";rel=describedby');
    assert.deepEqual(links, [
      { uri: '/a', params: { title: 'x, y; "z" \\', obs: true, ct: '40' } },
      { uri: '/b', params: { anchor: '/a', rel: 'describedby' } },
    ]);
  });

  test('empty input, whitespace around separators, UTF-8 bytes', () => {
    assert.deepEqual(parseLinks(''), []);
    assert.deepEqual(parseLinks('  \n'), []);
    assert.deepEqual(parseLinks('</1/0> , </3/0> ;ver=1.1\n'), [
      { uri: '/1/0', params: {} }, { uri: '/3/0', params: { ver: '1.1' } },
    ]);
    assert.deepEqual(parseLinks(Buffer.from('</x>;title="é"')), [{ uri: '/x', params: { title: 'é' } }]);
  });

  test('the first occurrence of a parameter wins; "__proto__" is an ordinary name', () => {
    const [l] = parseLinks('</a>;ct=1;ct=2;__proto__=3');
    assert.equal(l.params.ct, '1');
    assert.equal(Object.getOwnPropertyDescriptor(l.params, '__proto__')?.value, '3');
    assert.equal(Object.getPrototypeOf(l.params), Object.prototype);
  });

  test('malformed input gives DecodeError(40) with a position', () => {
    decodeFails(() => parseLinks('/1/0'), 'expected "<"');
    decodeFails(() => parseLinks('</1/0'), 'unterminated "<"');
    decodeFails(() => parseLinks('</1/0>;'), 'parameter name');
    decodeFails(() => parseLinks('</1/0>;a='), 'empty value');
    decodeFails(() => parseLinks('</1/0>;a="x'), 'unterminated quoted');
    decodeFails(() => parseLinks('</1/0>;a="x\\'), 'unterminated quoted');
    decodeFails(() => parseLinks('</1/0>,'), 'trailing ","');
    decodeFails(() => parseLinks('</1/0> </2>'), 'expected "," or ";"');
    decodeFails(() => parseLinks('</1/0>;a=b"c'), 'invalid character');
    decodeFails(() => parseLinks('</1 0>'), 'URI');
    decodeFails(() => parseLinks('</1/0>x'), 'character 6');
  });

  test('hard limits on size, link count and parameter count', () => {
    decodeFails(() => parseLinks('<' + 'a'.repeat(MAX_LINK_INPUT) + '>'), 'exceeds');
    decodeFails(() => parseLinks(Buffer.alloc(MAX_LINK_INPUT + 1, 0x20)), 'exceeds');
    decodeFails(() => parseLinks(new Array(MAX_LINKS + 1).fill('</1>').join(',')), `more than ${MAX_LINKS} links`);
    assert.equal(parseLinks(new Array(MAX_LINKS).fill('</1>').join(',')).length, MAX_LINKS);
    decodeFails(() => parseLinks('</1>' + ';a'.repeat(100)), 'parameters');
    decodeFails(() => parseLinks(42 as unknown as string), 'not a string');
  });

  test('formatLinks writes ptokens bare and quotes the rest, and parses back', () => {
    const links = [
      { uri: '/', params: { rt: 'oma.lwm2m', ct: '60 110' } as Record<string, string | true> },
      { uri: '/1', params: { ver: '1.1' } },
      { uri: '/a', params: { title: 'x, "y"\\', obs: true as const } },
    ];
    const text = formatLinks(links);
    assert.equal(text, '</>;rt="oma.lwm2m";ct="60 110",</1>;ver=1.1,</a>;title="x, \\"y\\"\\\\";obs');
    assert.deepEqual(parseLinks(text), links);
    assert.throws(() => formatLinks([{ uri: '/a>', params: {} }]), EncodeError);
    assert.throws(() => formatLinks([{ uri: '/a', params: { 'b c': '1' } }]), EncodeError);
  });
});

describe('link-format: LwM2M registration payloads', () => {
  test('Core 1.1 registration example with root link and ct', () => {
    const reg = parseRegistrationLinks('</>;rt="oma.lwm2m";ct=110,</1>;ver=1.1,</1/0>,</3/0>,</3303/0>,</3303/1>');
    assert.deepEqual(reg, {
      rootPath: '/',
      ct: [110],
      objects: [
        { objectId: 1, version: '1.1', instances: [0] },
        { objectId: 3, instances: [0] },
        { objectId: 3303, instances: [0, 1] },
      ],
      others: [],
    });
  });

  test('ct as a quoted list; objects without instances; 1.0 payload without root link', () => {
    const reg = parseRegistrationLinks('</>;rt="oma.lwm2m";ct="60 110 11543",</5>,</3/0>');
    assert.deepEqual(reg.ct, [60, 110, 11543]);
    assert.deepEqual(reg.objects, [{ objectId: 5, instances: [] }, { objectId: 3, instances: [0] }]);
    const old = parseRegistrationLinks('</1/0>,</3/0>');
    assert.equal(old.rootPath, '/');
    assert.equal(old.ct, undefined);
    assert.deepEqual(old.objects.map((o) => o.objectId), [1, 3]);
  });

  test('alternate root path', () => {
    const reg = parseRegistrationLinks('</lwm2m>;rt="oma.lwm2m",</lwm2m/1/0>,</lwm2m/3/0>,</other/5/0>');
    assert.equal(reg.rootPath, '/lwm2m');
    assert.deepEqual(reg.objects, [{ objectId: 1, instances: [0] }, { objectId: 3, instances: [0] }]);
    assert.deepEqual(reg.others, [{ uri: '/other/5/0', params: {} }]);
  });

  test('links that are not objects or instances are kept aside', () => {
    const reg = parseRegistrationLinks('</>;rt="oma.lwm2m",</3/0/1>,</abc>,</3/65535>,</3/0>');
    assert.deepEqual(reg.objects, [{ objectId: 3, instances: [0] }]);
    assert.deepEqual(reg.others.map((l) => l.uri), ['/3/0/1', '/abc', '/3/65535']);
  });

  test('object and instance links are recognised exactly as the path grammar says (random URIs)', () => {
    // Reference: the part under the root is /O, /O/I (optional trailing slash), ids of 1-5 digits, O <= 65535, I <= 65534.
    const reference = (uri: string, root: string): number[] | undefined => {
      let rest: string;
      if (root === '/') rest = uri;
      else if (uri.startsWith(root + '/')) rest = uri.slice(root.length);
      else return undefined;
      const m = /^\/(\d{1,5})(?:\/(\d{1,5}))?\/?$/.exec(rest);
      if (!m) return undefined;
      const ids = [Number(m[1])];
      if (m[2] !== undefined) ids.push(Number(m[2]));
      return ids[0] > 65535 || (ids.length > 1 && ids[1] > 65534) ? undefined : ids;
    };
    let seed = 5;
    const rnd = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000) * n);
    const segments = ['0', '3', '42', '00042', '65535', '65534', '65536', '000001', '', 'a', '3a', '1.0', 'lwm2m'];
    let objects = 0;
    for (let k = 0; k < 3000; k++) {
      const root = rnd(3) === 0 ? '/lwm2m' : '/';
      let uri = root === '/' ? (rnd(8) === 0 ? '/lwm2m' : '') : (rnd(8) === 0 ? '/lwm2' : '/lwm2m');
      const n = 1 + rnd(3);
      for (let j = 0; j < n; j++) uri += '/' + segments[rnd(segments.length)];
      if (rnd(4) === 0) uri += '/';
      if (uri === root || uri === '') continue;
      const head = root === '/' ? '</>;rt="oma.lwm2m"' : `<${root}>;rt="oma.lwm2m"`;
      const reg = parseRegistrationLinks(`${head},<${uri}>`);
      const want = reference(uri, root);
      if (want === undefined) {
        assert.deepEqual(reg.objects, [], uri);
        assert.deepEqual(reg.others.map((l) => l.uri), [uri], uri);
      } else {
        objects++;
        assert.deepEqual(reg.objects, [{ objectId: want[0], instances: want.slice(1) }], `${root} ${uri}`);
      }
    }
    assert.ok(objects > 100, `enough object links drawn (${objects})`);
  });

  test('bad ct and ver are DecodeError', () => {
    decodeFails(() => parseRegistrationLinks('</>;rt="oma.lwm2m";ct=abc'), 'ct');
    decodeFails(() => parseRegistrationLinks('</>;rt="oma.lwm2m";ct="60 99999"'), 'ct');
    decodeFails(() => parseRegistrationLinks('</>;rt="oma.lwm2m";ct'), 'ct');
    decodeFails(() => parseRegistrationLinks('</1>;ver=x.y'), 'version');
    decodeFails(() => parseRegistrationLinks('</1'), 'unterminated');
  });

  test('formatRegistrationLinks round trips', () => {
    const reg = {
      rootPath: '/',
      ct: [60, 110],
      objects: [{ objectId: 1, version: '1.1', instances: [0] }, { objectId: 3, instances: [0] }, { objectId: 5, instances: [] }],
    };
    const text = formatRegistrationLinks(reg);
    assert.equal(text, '</>;rt="oma.lwm2m";ct="60 110",</1>;ver=1.1,</1/0>,</3/0>,</5>');
    assert.deepEqual(parseRegistrationLinks(text), { ...reg, others: [] });
    const alt = formatRegistrationLinks({ rootPath: '/lwm2m/', objects: [{ objectId: 3, instances: [0] }] });
    assert.equal(alt, '</lwm2m>;rt="oma.lwm2m",</lwm2m/3/0>');
    assert.equal(parseRegistrationLinks(alt).rootPath, '/lwm2m');
  });
});

describe('link-format: Discover answers', () => {
  test('Core example: attributes typed, paths parsed', () => {
    const entries = parseDiscover('</3/0>;pmin=10,</3/0/1>,</3/0/7>;dim=8,</3/0/13>;gt=50.5;lt=-1;st=0.5;epmin=1;epmax=60,</3>;ver=1.1');
    assert.deepEqual(entries.map((e) => [e.path.toString(), e.attributes]), [
      ['/3/0', { pmin: 10 }],
      ['/3/0/1', {}],
      ['/3/0/7', { dim: 8 }],
      ['/3/0/13', { gt: 50.5, lt: -1, st: 0.5, epmin: 1, epmax: 60 }],
      ['/3', { ver: '1.1' }],
    ]);
  });

  test('Bootstrap-Discover answer with ssid, uri and lwm2m', () => {
    const entries = parseDiscover('</>;lwm2m=1.1,</0/0>;ssid=101;uri="coap://server:5683",</1/0>;ssid=101,</3/0>');
    assert.deepEqual(entries.map((e) => [e.path.toString(), e.attributes]), [
      ['/', { lwm2m: '1.1' }],
      ['/0/0', { ssid: 101, uri: 'coap://server:5683' }],
      ['/1/0', { ssid: 101 }],
      ['/3/0', {}],
    ]);
  });

  test('alternate root path', () => {
    const entries = parseDiscover('</lwm2m/3/0>;pmax=60', { rootPath: '/lwm2m' });
    assert.equal(entries[0].path.toString(), '/3/0');
    decodeFails(() => parseDiscover('</x/3/0>', { rootPath: '/lwm2m' }), 'root path');
  });

  test('errors: non-numeric attribute, non-LwM2M path', () => {
    decodeFails(() => parseDiscover('</3/0>;pmin=abc'), 'pmin');
    decodeFails(() => parseDiscover('</3/0>;pmax'), 'pmax');
    decodeFails(() => parseDiscover('</sensors/temp>'), 'not an LwM2M path');
  });

  test('formatDiscover round trips', () => {
    const entries: DiscoverEntry[] = [
      { path: Lwm2mPath.parse('/3/0'), attributes: { pmin: 10, pmax: 60 } },
      { path: Lwm2mPath.parse('/3/0/7'), attributes: { dim: 2, gt: 1.5 } },
      { path: Lwm2mPath.parse('/3/0/13'), attributes: {} },
      { path: Lwm2mPath.parse('/0/0'), attributes: { ssid: 1, uri: 'coaps://a:5684' } },
    ];
    const text = formatDiscover(entries);
    assert.equal(text, '</3/0>;pmin=10;pmax=60,</3/0/7>;dim=2;gt=1.5,</3/0/13>,</0/0>;ssid=1;uri="coaps://a:5684"');
    const show = (es: DiscoverEntry[]) => es.map((e) => [e.path.toString(), e.attributes]);
    assert.deepEqual(show(parseDiscover(text)), show(entries));
    assert.equal(formatDiscover(entries.slice(0, 1), { rootPath: '/lwm2m' }), '</lwm2m/3/0>;pmin=10;pmax=60');
    assert.throws(() => formatDiscover([{ path: Lwm2mPath.parse('/3/0'), attributes: { gt: NaN } }]), EncodeError);
  });
});
