/**
 * Reads that do not go as the model expects, against raw CoAP devices on real UDP sockets:
 * - partial results: one record of the answer does not decode (issue 11 item 9);
 * - an empty pack for a resource (item 10);
 * - resources of objects the model does not know: structured format first, 5.00 retried (item 17);
 * - a per-endpoint preferred content format, as a server option and at run time (item 16b);
 * - what the device gets on the wire for LwM2M JSON (item 8) and Float resources in SenML CBOR (item 7).
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, ServerEnv } from '../helpers/server-env';
import { RawDevice } from '../helpers/raw-device';
import { DecodeError } from '../../src/errors';
import { InvalidArgumentError } from '../../src/server';
import { decodeCbor, CborMap } from '../../src/content/cbor-wire';

/** TLV of /3/0 with resources 0 (String "ab"), 9 (Integer 1 byte 87) and 4 (Reboot, executable) carrying a value. */
const TLV_WITH_EXECUTABLE_VALUE = Buffer.of(0xc2, 0x00, 0x61, 0x62, 0xc1, 0x09, 0x57, 0xc1, 0x04, 0x01);
/** TLV of /3/0: resource 0 (String "ab"), resource 20 (Battery Status, Integer) with 9 bytes (TLV integers have 1-8). */
const TLV_WITH_BAD_INTEGER = Buffer.of(0xc2, 0x00, 0x61, 0x62, 0xc8, 0x14, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9);

describe('server reads: partial answers, unknown models, preferred formats (real UDP, raw devices)', () => {
  let env: ServerEnv;
  let d10: RawDevice; // LwM2M 1.0
  let d11: RawDevice; // LwM2M 1.1, announces SenML JSON
  let d11bare: RawDevice; // LwM2M 1.1 with no ct
  let dpref: RawDevice; // LwM2M 1.0 with a preferred format from the server options

  before(async () => {
    env = await startServer({ preferredFormats: { devpref: 11543 } });
    d10 = await env.device('dev10', { links: '</1/0>,</3/0>' });
    d11 = await env.device('dev11', { links: '</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>,</3308/0>,</32769/0>' });
    d11bare = await env.device('dev11bare', { links: '</1/0>,</3/0>,</32769/0>' });
    dpref = await env.device('devpref', { links: '</1/0>,</3/0>' });
    assert.equal((await d10.register(['lt=300'])).code, '2.01');
    assert.equal((await d11.register(['lt=300', 'lwm2m=1.1'])).code, '2.01');
    assert.equal((await d11bare.register(['lt=300', 'lwm2m=1.1'])).code, '2.01');
    assert.equal((await dpref.register(['lt=300'])).code, '2.01');
  });
  after(async () => {
    await env.close();
  });

  test('item 9: an instance read returns what decoded and lists the record that did not (a value for an executable resource)', async () => {
    d10.on('GET', '/3/0', { code: '2.05', format: 11542, payload: TLV_WITH_EXECUTABLE_VALUE });
    const r = await env.server.read('dev10', '/3/0');
    assert.deepEqual(r.value, { 0: 'ab', 9: 87 });
    assert.equal(r.records.length, 2);
    assert.ok(r.undecoded, 'undecoded is set');
    assert.deepEqual(r.undecoded!.map((u) => u.path.toString()), ['/3/0/4']);
    assert.match(r.undecoded![0].reason, /executable/);
  });

  test('item 9: a bad TLV resource (9-byte Integer) is left out, the rest returned', async () => {
    d10.on('GET', '/3/0', { code: '2.05', format: 11542, payload: TLV_WITH_BAD_INTEGER });
    const r = await env.server.read('dev10', '/3/0');
    assert.deepEqual(r.value, { 0: 'ab' });
    assert.deepEqual(r.undecoded!.map((u) => [u.path.toString(), /9 bytes/.test(u.reason)]), [['/3/0/20', true]]);
  });

  test('item 9: SenML JSON with a string for an Integer resource: partial; a clean answer has no undecoded', async () => {
    d11.on('GET', '/3/0', { code: '2.05', format: 110, payload: JSON.stringify([{ bn: '/3/0/', n: '0', vs: 'OMA' }, { n: '9', vs: 'full' }, { n: '10', v: 15 }]) });
    const r = await env.server.read('dev11', '/3/0');
    assert.deepEqual(r.value, { 0: 'OMA', 10: 15 });
    assert.deepEqual(r.undecoded!.map((u) => u.path.toString()), ['/3/0/9']);
    d11.on('GET', '/3/0', { code: '2.05', format: 110, payload: JSON.stringify([{ bn: '/3/0/', n: '0', vs: 'OMA' }]) });
    assert.equal((await env.server.read('dev11', '/3/0')).undecoded, undefined);
  });

  test('item 9: when the requested path itself does not decode, the read fails with a DecodeError', async () => {
    d11.on('GET', '/3/0/9', { code: '2.05', format: 110, payload: JSON.stringify([{ bn: '/3/0/9', vs: 'full' }]) });
    await assert.rejects(env.server.read('dev11', '/3/0/9', { format: 110 }), (e: unknown) => e instanceof DecodeError && /dev11 \/3\/0\/9/.test(e.message) && /integer/.test(e.message));
    d10.on('GET', '/3/0/9', { code: '2.05', format: 11542, payload: Buffer.of(0xc8, 0x09, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9) });
    await assert.rejects(env.server.read('dev10', '/3/0/9'), DecodeError);
  });

  test('item 9: Read-Composite returns the paths that decoded, lists the others; a requested path that fails is an error', async () => {
    d11.on('FETCH', '/', { code: '2.05', format: 110, payload: JSON.stringify([{ n: '/3/0/0', vs: 'OMA' }, { n: '/3/0/9', vs: 'full' }]) });
    const r = await env.server.readComposite('dev11', ['/3/0'], { format: 110 });
    assert.deepEqual(r.value, { '/3/0/0': 'OMA' });
    assert.deepEqual(r.undecoded!.map((u) => u.path.toString()), ['/3/0/9']);
    await assert.rejects(env.server.readComposite('dev11', ['/3/0/0', '/3/0/9'], { format: 110 }), DecodeError);
  });

  test('item 10: an empty SenML JSON / LwM2M JSON pack for a resource is a DecodeError; 1e400 for a Float too', async () => {
    d11.on('GET', '/3/0/9', { code: '2.05', format: 110, payload: '[]' });
    await assert.rejects(env.server.read('dev11', '/3/0/9', { format: 110 }), (e: unknown) => e instanceof DecodeError && /carries no value/.test(e.message));
    d10.on('GET', '/3/0/9', { code: '2.05', format: 11543, payload: '{"bn":"/3/0/","e":[]}' });
    await assert.rejects(env.server.read('dev10', '/3/0/9', { format: 11543 }), DecodeError);
    d11.on('GET', '/3308/0/5900', { code: '2.05', format: 110, payload: '[{"bn":"/3308/0/5900","v":1e400}]' });
    await assert.rejects(env.server.read('dev11', '/3308/0/5900', { format: 110 }), (e: unknown) => e instanceof DecodeError && /range/.test(e.message));
    // An empty multiple resource is a value (no instances), not an error.
    d11.on('GET', '/3/0/7', { code: '2.05', format: 110, payload: '[]' });
    const r = await env.server.read('dev11', '/3/0/7', { format: 110 });
    assert.equal(r.records.length, 0);
  });

  test('item 17: a resource of an unknown object is asked in a structured format first (SenML JSON announced)', async () => {
    d11.on('GET', '/32769/0/1', (req) => (req.accept === 110
      ? { code: '2.05', format: 110, payload: JSON.stringify([{ bn: '/32769/0/1/', n: '0', v: 1 }, { n: '1', v: 2 }]) }
      : { code: '5.00' }));
    const r = await env.server.read('dev11', '/32769/0/1');
    assert.deepEqual(r.value, { 0: 1, 1: 2 });
    assert.deepEqual(d11.received.filter((x) => x.path === '/32769/0/1').map((x) => x.accept), [110]);
  });

  test('item 17: a 5.00 to the first (structured) guess is retried in the other formats, down to text/plain', async () => {
    d11bare.on('GET', '/32769/0/2', (req) => (req.accept === 0 ? { code: '2.05', format: 0, payload: '42' } : { code: req.accept === 112 ? '5.00' : '4.06' }));
    const r = await env.server.read('dev11bare', '/32769/0/2');
    assert.equal(r.value, '42', 'text of an unknown resource stays text');
    const accepts = d11bare.received.filter((x) => x.path === '/32769/0/2').map((x) => x.accept);
    assert.equal(accepts[0], 112, 'SenML CBOR first');
    assert.equal(accepts[accepts.length - 1], 0, 'text/plain last');
    assert.ok(accepts.indexOf(110) > 0 && accepts.indexOf(110) < accepts.indexOf(0));
  });

  test('item 17: a 5.00 after the first attempt, or for a known resource, is not retried', async () => {
    d11bare.on('GET', '/3/0/9', { code: '5.00' });
    await assert.rejects(env.server.read('dev11bare', '/3/0/9'), /5\.00/);
    assert.equal(d11bare.received.filter((x) => x.path === '/3/0/9').length, 1);
    d11bare.on('GET', '/32769/0/3', (req) => (req.accept === 112 ? { code: '4.06' } : { code: '5.00' }));
    await assert.rejects(env.server.read('dev11bare', '/32769/0/3'), /5\.00/);
    assert.deepEqual(d11bare.received.filter((x) => x.path === '/32769/0/3').map((x) => x.accept), [112, 110]);
  });

  test('item 16b: the preferred format from the server options is asked first (LwM2M JSON for a 1.0 device)', async () => {
    dpref.on('GET', '/3/0', (req) => (req.accept === 11543 ? { code: '2.05', format: 11543, payload: '{"bn":"/3/0/","e":[{"n":"0","sv":"OMA"}]}' } : null));
    const r = await env.server.read('devpref', '/3/0');
    assert.deepEqual(r.value, { 0: 'OMA' });
    assert.deepEqual(dpref.received.filter((x) => x.path === '/3/0').map((x) => x.accept), [11543], 'no TLV request at all');
    assert.equal(env.server.getPreferredFormat('devpref'), 11543);
    // Writes use it too: the single resource in LwM2M JSON, base name at the instance (item 8).
    dpref.on('PUT', '/3/0/14', { code: '2.04' });
    const w = await env.server.write('devpref', '/3/0/14', '+02');
    assert.equal(w.format, 11543);
    const put = dpref.received.filter((x) => x.method === 'PUT' && x.path === '/3/0/14').pop()!;
    assert.equal(put.contentFormat, 11543);
    assert.equal(put.payload.toString(), '{"bn":"/3/0/","e":[{"n":"14","sv":"+02"}]}');
  });

  test('item 16b: set at run time, cleared, and refused for formats with no codec', async () => {
    d10.on('GET', '/3/0/0', (req) => ({ code: '2.05', format: req.accept, payload: req.accept === 0 ? 'OMA' : req.accept === 11543 ? '{"bn":"/3/0/","e":[{"n":"0","sv":"OMA"}]}' : Buffer.of(0xc3, 0x00, 0x4f, 0x4d, 0x41) }));
    await env.server.read('dev10', '/3/0/0');
    env.server.setPreferredFormat('dev10', 0);
    await env.server.read('dev10', '/3/0/0');
    env.server.setPreferredFormat('dev10', 11543);
    await env.server.read('dev10', '/3/0/0');
    env.server.setPreferredFormat('dev10', undefined);
    await env.server.read('dev10', '/3/0/0');
    assert.deepEqual(d10.received.filter((x) => x.path === '/3/0/0').map((x) => x.accept), [11542, 0, 11543, 11542]);
    // A single-value preference does not apply where it cannot carry the request: /3/0 with text preferred stays TLV.
    env.server.setPreferredFormat('dev10', 0);
    d10.on('GET', '/3/0', { code: '2.05', format: 11542, payload: Buffer.of(0xc3, 0x00, 0x4f, 0x4d, 0x41) });
    await env.server.read('dev10', '/3/0');
    assert.equal(d10.received.filter((x) => x.path === '/3/0').pop()!.accept, 11542);
    env.server.setPreferredFormat('dev10', undefined);
    assert.throws(() => env.server.setPreferredFormat('dev10', 9999), InvalidArgumentError);
    assert.throws(() => env.server.setPreferredFormat('dev10', 40), InvalidArgumentError);
    assert.equal(env.server.getPreferredFormat('dev10'), undefined);
  });

  test('item 7: Write-Composite in SenML CBOR sends a whole Float as a CBOR float', async () => {
    let payload: Buffer | undefined;
    d11.on('iPATCH', '/', (req) => { payload = req.payload; return { code: '2.04' }; });
    await env.server.writeComposite('dev11', { '/3308/0/5900': 33, '/3/0/13': 1367491215 }, { format: 112 });
    const doc = decodeCbor(payload!, 112) as CborMap[];
    const values = new Map(doc.map((m) => [m.entries.find(([k]) => k === 0)![1], m.entries.find(([k]) => k === 2)![1]]));
    assert.deepEqual([...values.keys()].sort(), ['/3/0/13', '/3308/0/5900']);
    // {0: "/3308/0/5900", 2: 33.0}: the value item is the half float f9 5020, not the integer 18 21.
    assert.ok(payload!.includes(Buffer.from('02f95020', 'hex')), payload!.toString('hex'));
    assert.ok(!payload!.includes(Buffer.from('021821', 'hex')));
    assert.ok(payload!.includes(Buffer.from('021a5182428f', 'hex')), 'Time stays an integer');
  });
});
