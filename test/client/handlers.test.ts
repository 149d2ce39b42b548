/**
 * Server operations answered by the client, without a network: requests are built by hand (payload bytes from the
 * specification's encodings) and given to the dispatcher, as the CoAP endpoint would.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Lwm2mClient } from '../../src/client/client';
import { AttributeStore } from '../../src/client/attributes';
import { dispatchBootstrapRequest, dispatchServerRequest, ServerContext } from '../../src/client/handlers';
import { BootstrapContext } from '../../src/client/handlers/bootstrap';
import { validateBootstrapConfig } from '../../src/client/bootstrap';
import { ManualScheduler } from '../../src/client/scheduler';
import { CoapRequest, CoapResponse, Method } from '../../src/coap/types';
import { Observation } from '../../src/client/observe';
import { Lwm2mPath } from '../../src/model/path';

type Sent = { obs: Observation; res: CoapResponse; con: boolean };

function setup(version: '1.0' | '1.1' | '1.2' = '1.1') {
  const scheduler = new ManualScheduler(0);
  const client = new Lwm2mClient({
    endpoint: 'unit', serverUri: 'coap://127.0.0.1:5683', version, scheduler,
    objects: { 3303: { 0: { 5700: 21.5, 5701: 'Cel' } } },
  });
  const sent: Sent[] = [];
  const server: ServerContext & { sendNotification(o: Observation, r: CoapResponse, c: boolean): Promise<void> } = {
    ssid: 1, version, uri: 'coap://test', attributes: new AttributeStore(), confirmableNotifications: false,
    attributeDefaults: () => ({}),
    sendNotification: async (obs, res, con) => { sent.push({ obs, res, con }); },
  };
  const events: Record<string, unknown[]> = {};
  for (const e of ['write', 'execute', 'create', 'delete', 'reboot', 'attributes']) {
    events[e] = [];
    client.on(e, (x) => events[e].push(x));
  }
  const req = (method: Method, path: string, o: Partial<CoapRequest> = {}): Promise<CoapResponse> =>
    Promise.resolve(dispatchServerRequest(client, server, {
      method, path: path === '/' ? [] : path.slice(1).split('/'), query: [], payload: Buffer.alloc(0),
      token: Buffer.from([1, 2, 3]), confirmable: true, peer: { address: '127.0.0.1', port: 5683 }, ...o,
    }));
  return { client, server, sent, events, req, scheduler };
}

const text = (s: string) => Buffer.from(s, 'utf8');
/** Names of a SenML JSON pack, base names resolved (RFC 8428 4.5). */
function senmlNames(payload: Buffer): string[] {
  let bn = '';
  return JSON.parse(payload.toString()).map((e: { n?: string; bn?: string }) => {
    if (e.bn !== undefined) bn = e.bn;
    return bn + (e.n ?? '');
  });
}
const flush = () => new Promise<void>((r) => setImmediate(r));

describe('Read', () => {
  test('single values as text, Accept honoured, 4.06 when a format cannot carry the answer', async () => {
    const { req } = setup();
    let r = await req('GET', '/3303/0/5700');
    assert.equal(r.code, '2.05');
    assert.equal(r.contentFormat, 0);
    assert.equal(r.payload!.toString(), '21.5');
    r = await req('GET', '/3/0/0', { accept: 11542 });
    assert.equal(r.code, '2.05');
    // TLV resource with value, 8-bit id 0, 8-bit length field (Core 7.4.3): 0b11_0_01_000
    assert.deepEqual([...r.payload!.subarray(0, 3)], [0xc8, 0, 'FleetWire'.length]);
    assert.equal(r.payload!.subarray(3).toString(), 'FleetWire');
    r = await req('GET', '/3303/0', { accept: 0 });
    assert.equal(r.code, '4.06');
    r = await req('GET', '/3303/0', { accept: 110 });
    assert.equal(r.code, '2.05');
    assert.deepEqual(senmlNames(r.payload!).sort(), ['/3303/0/5700', '/3303/0/5701']);
    r = await req('GET', '/3303/0', { accept: 4242 });
    assert.equal(r.code, '4.06');
  });

  test('defaults: SenML CBOR for several values in 1.1, TLV in 1.0', async () => {
    assert.equal((await setup('1.1').req('GET', '/3/0')).contentFormat, 112);
    assert.equal((await setup('1.0').req('GET', '/3/0')).contentFormat, 11542);
  });

  test('access: 4.04 absent or hidden, 4.05 not readable or root', async () => {
    const { req } = setup();
    assert.equal((await req('GET', '/3303/7')).code, '4.04');
    assert.equal((await req('GET', '/3303/0/5601')).code, '4.04');
    assert.equal((await req('GET', '/0/0')).code, '4.04'); // Security is not visible to servers
    assert.equal((await req('GET', '/0')).code, '4.04');
    assert.equal((await req('GET', '/3/0/4')).code, '4.05'); // executable
    assert.equal((await req('GET', '/5/0/0')).code, '4.05'); // write-only Package
    assert.equal((await req('GET', '/')).code, '4.05');
    assert.equal((await req('GET', '/rd/x')).code, '4.04');
  });

  test('an instance read leaves out write-only and executable resources', async () => {
    const { req } = setup();
    const r = await req('GET', '/5/0', { accept: 110 });
    const names = senmlNames(r.payload!);
    assert.ok(names.includes('/5/0/3'), names.join());
    assert.ok(!names.includes('/5/0/0'));
    assert.ok(!names.includes('/5/0/2'));
  });

  test('read hooks answer live; a failing hook is a 5.00', async () => {
    const { client, req } = setup();
    let n = 0;
    client.onRead('/3303/0/5700', () => ++n * 10);
    assert.equal((await req('GET', '/3303/0/5700')).payload!.toString(), '10');
    assert.equal((await req('GET', '/3303/0/5700')).payload!.toString(), '20');
    assert.equal(client.get('/3303/0/5700'), 20);
    client.onRead('/3303/0/5701', () => { throw new Error('sensor unplugged'); });
    assert.equal((await req('GET', '/3303/0')).code, '5.00');
    // a hook on a resource that holds no value yet makes it readable
    client.onRead('/3303/0/5601', () => -4.5);
    assert.equal((await req('GET', '/3303/0/5601')).payload!.toString(), '-4.5');
  });
});

describe('Write', () => {
  test('replace a resource; partial update keeps the others; the write event tells what changed', async () => {
    const { client, req, events } = setup();
    let r = await req('PUT', '/1/0/1', { contentFormat: 0, payload: text('600') });
    assert.equal(r.code, '2.04');
    assert.equal(client.get('/1/0/1'), 600);
    // SenML JSON partial update of the instance (POST)
    r = await req('POST', '/3303/0', { contentFormat: 110, payload: text('[{"bn":"/3303/0/","n":"5750","vs":"kitchen"}]') });
    assert.equal(r.code, '2.04');
    assert.equal(client.get('/3303/0/5750'), 'kitchen');
    assert.equal(client.get('/3303/0/5700'), 21.5);
    assert.equal(events.write.length, 2);
    assert.deepEqual((events.write[1] as { values: unknown }).values, { '/3303/0/5750': 'kitchen' });
  });

  test('replace an instance removes optional writable resources not given', async () => {
    const { client, req } = setup();
    client.addObject(3311, { 0: { 5850: true, 5851: 50, 5706: 'red' } });
    const r = await req('PUT', '/3311/0', { contentFormat: 110, payload: text('[{"n":"/3311/0/5851","v":10}]') });
    assert.equal(r.code, '2.04');
    assert.equal(client.get('/3311/0/5706'), undefined); // optional, not given: removed
    assert.equal(client.get('/3311/0/5851'), 10);
    assert.equal(client.get('/3311/0/5850'), true); // mandatory: kept
  });

  test('TLV write of a multiple resource replaces its instances', async () => {
    const { client, req } = setup();
    // /1/0/... has no multiple writable resource; use Connectivity APN? read-only. Declare an object of our own.
    client.addObject(40000, { 0: { 1: [1, 2, 3] } });
    // Multiple resource 1 with instances 0 -> 'a' ... raw TLV (unknown object: opaque): 0x88 0x01 len [0x41 0x00 'a']
    const inner = Buffer.from([0x41, 0x07, 0x61]);
    const payload = Buffer.concat([Buffer.from([0x88, 0x01, inner.length]), inner]);
    const r = await req('PUT', '/40000/0/1', { contentFormat: 11542, payload });
    assert.equal(r.code, '2.04');
    const v = client.get('/40000/0/1') as Map<number, unknown>;
    assert.deepEqual([...v.keys()], [7]);
  });

  test('4.05 read-only, 4.04 absent, 4.00 bad payload, 4.15 unknown format; nothing changes on failure', async () => {
    const { client, req } = setup();
    assert.equal((await req('PUT', '/3/0/0', { contentFormat: 0, payload: text('x') })).code, '4.05');
    assert.equal((await req('PUT', '/3303/9/5700', { contentFormat: 0, payload: text('1') })).code, '4.04');
    assert.equal((await req('PUT', '/0/0/0', { contentFormat: 0, payload: text('coap://evil') })).code, '4.04');
    assert.equal((await req('PUT', '/1/0/1', { contentFormat: 0, payload: text('soon') })).code, '4.00');
    assert.equal((await req('PUT', '/1/0/1', { contentFormat: 60, payload: Buffer.from([0xff, 0xff]) })).code, '4.00');
    assert.equal((await req('PUT', '/1/0/1', { contentFormat: 1234, payload: text('1') })).code, '4.15');
    assert.equal((await req('PUT', '/3', { contentFormat: 0, payload: text('1') })).code, '4.05');
    // one read-only resource in an instance write: 4.05 and the writable one is untouched
    const r = await req('POST', '/3303/0', { contentFormat: 110, payload: text('[{"n":"/3303/0/5750","vs":"x"},{"n":"/3303/0/5700","v":1}]') });
    assert.equal(r.code, '4.05');
    assert.equal(client.get('/3303/0/5750'), undefined);
    assert.equal(client.get('/3303/0/5700'), 21.5);
  });

  test('single values without Content-Format are text; the pre-registration text number 1541 is text too', async () => {
    const { client, req } = setup();
    assert.equal((await req('PUT', '/1/0/1', { payload: text('77') })).code, '2.04');
    assert.equal(client.get('/1/0/1'), 77);
    assert.equal((await req('PUT', '/1/0/1', { contentFormat: 1541, payload: text('78') })).code, '2.04');
    assert.equal(client.get('/1/0/1'), 78);
    assert.equal((await req('POST', '/3303/0', { payload: text('1') })).code, '4.00');
  });

  test('Write-Composite writes all or nothing (iPATCH, 1.1)', async () => {
    const { client, req } = setup();
    let r = await req('iPATCH', '/', { contentFormat: 110, payload: text('[{"n":"/3303/0/5750","vs":"a"},{"n":"/1/0/1","v":120}]') });
    assert.equal(r.code, '2.04');
    assert.equal(client.get('/3303/0/5750'), 'a');
    assert.equal(client.get('/1/0/1'), 120);
    r = await req('iPATCH', '/', { contentFormat: 110, payload: text('[{"n":"/3303/0/5750","vs":"b"},{"n":"/3/0/0","vs":"no"}]') });
    assert.equal(r.code, '4.05');
    assert.equal(client.get('/3303/0/5750'), 'a');
    r = await req('iPATCH', '/', { contentFormat: 0, payload: text('1') });
    assert.equal(r.code, '4.15');
    assert.equal((await setup('1.0').req('iPATCH', '/', { contentFormat: 110, payload: text('[]') })).code, '4.05');
  });
});

describe('Execute, Create, Delete', () => {
  test('execute with arguments emits the event; reboot too', async () => {
    const { req, events } = setup();
    const r = await req('POST', '/3/0/4', { payload: text("0='now',3") });
    assert.equal(r.code, '2.04');
    assert.equal(events.reboot.length, 1);
    assert.deepEqual((events.execute[0] as { args: unknown }).args, [{ id: 0, value: 'now' }, { id: 3 }]);
    assert.equal((await req('POST', '/3/0/0')).code, '4.05');
    assert.equal((await req('POST', '/3/0/4', { payload: text('zz') })).code, '4.00');
    assert.equal((await req('POST', '/3/0/99')).code, '4.04');
  });

  test('create without instance id (TLV resources only) picks one; 2.01 with Location-Path', async () => {
    const { client, req, events } = setup();
    // resource 5700 (16-bit id) float32 25.0: type 0b11_1_00_100 = 0xE4, id 0x1644, 4 bytes
    const payload = Buffer.concat([Buffer.from([0xe4, 0x16, 0x44]), (() => { const b = Buffer.alloc(4); b.writeFloatBE(25); return b; })()]);
    const r = await req('POST', '/3303', { contentFormat: 11542, payload });
    assert.equal(r.code, '2.01');
    assert.deepEqual(r.locationPath, ['3303', '1']);
    assert.equal(client.get('/3303/1/5700'), 25);
    assert.equal(events.create.length, 1);
  });

  test('create with an instance id in the payload; existing id or unknown object refused', async () => {
    const { client, req } = setup();
    let r = await req('POST', '/3303', { contentFormat: 110, payload: text('[{"n":"/3303/5/5700","v":3}]') });
    assert.equal(r.code, '2.01');
    assert.deepEqual(r.locationPath, ['3303', '5']);
    r = await req('POST', '/3303', { contentFormat: 110, payload: text('[{"n":"/3303/5/5700","v":4}]') });
    assert.equal(r.code, '4.00');
    assert.equal(client.get('/3303/5/5700'), 3);
    assert.equal((await req('POST', '/3304', { contentFormat: 110, payload: text('[{"n":"/3304/0/5700","v":4}]') })).code, '4.04');
    assert.equal((await req('POST', '/3', { contentFormat: 110, payload: text('[{"n":"/3/1/0","vs":"x"}]') })).code, '4.00');
  });

  test('delete an instance; objects, the Device and absent instances refused', async () => {
    const { client, req, events } = setup();
    assert.equal((await req('DELETE', '/3303/0')).code, '2.02');
    assert.equal(client.tree.hasInstance(3303, 0), false);
    assert.equal(events.delete.length, 1);
    assert.equal((await req('DELETE', '/3303/0')).code, '4.04');
    assert.equal((await req('DELETE', '/3303')).code, '4.05');
    assert.equal((await req('DELETE', '/3/0')).code, '4.05');
    assert.equal((await req('DELETE', '/3/0/0')).code, '4.05');
  });
});

describe('Discover and Write-Attributes', () => {
  test('discover lists object (ver), instances, resources (dim) and attached attributes', async () => {
    const { req, client } = setup();
    client.set('/3/0/9', 80);
    assert.equal((await req('PUT', '/3', { query: ['pmin=10'] })).code, '2.04');
    assert.equal((await req('PUT', '/3/0/9', { query: ['pmax=60', 'gt=50'] })).code, '2.04');
    let r = await req('GET', '/3', { accept: 40 });
    assert.equal(r.code, '2.05');
    assert.equal(r.contentFormat, 40);
    const s = r.payload!.toString();
    assert.ok(s.startsWith('</3>;ver=1.1;pmin=10,</3/0>,</3/0/0>,'), s);
    assert.ok(s.includes('</3/0/11>;dim=1'), s);
    assert.ok(s.includes('</3/0/4>'), s);
    r = await req('GET', '/3/0/9', { accept: 40 });
    // the target resource shows what it inherits
    assert.equal(r.payload!.toString(), '</3/0/9>;pmin=10;pmax=60;gt=50');
    assert.equal((await req('GET', '/', { accept: 40 })).code, '4.05');
    assert.equal((await req('GET', '/0', { accept: 40 })).code, '4.04');
  });

  test('bad attributes are 4.00; the write changes nothing', async () => {
    const { req, server } = setup();
    assert.equal((await req('PUT', '/3/0/0', { query: ['gt=1'] })).code, '4.00');
    assert.equal((await req('PUT', '/3303/0/5700', { query: ['gt=10', 'lt=20'] })).code, '4.00');
    assert.equal((await req('PUT', '/3303/0/5700', { query: ['pmin=x'] })).code, '4.00');
    assert.equal((await req('PUT', '/3303/0/5700', { query: ['foo=1'] })).code, '4.00');
    assert.equal((await req('PUT', '/3/0/4', { query: ['pmin=1'] })).code, '4.00');
    assert.equal((await req('PUT', '/3303/9', { query: ['pmin=1'] })).code, '4.04');
    assert.equal(server.attributes.size, 0);
  });
});

describe('Observe', () => {
  test('observe, notify on change with increasing sequence numbers, cancel actively', async () => {
    const { client, req, sent } = setup();
    const r = await req('GET', '/3303/0/5700', { observe: 0 });
    assert.equal(r.code, '2.05');
    assert.equal(r.observe, 0);
    assert.equal(client.observations.size, 1);
    client.set('/3303/0/5700', 30);
    await flush(); await flush();
    client.set('/3303/0/5700', 31);
    await flush(); await flush();
    assert.deepEqual(sent.map((s) => [s.res.payload!.toString(), s.res.observe]), [['30', 1], ['31', 2]]);
    const c = await req('GET', '/3303/0/5700', { observe: 1 });
    assert.equal(c.code, '2.05');
    assert.equal(c.observe, undefined);
    assert.equal(client.observations.size, 0);
    client.set('/3303/0/5700', 32);
    await flush(); await flush();
    assert.equal(sent.length, 2);
  });

  test('observe-composite notifies when any path changes', async () => {
    const { client, req, sent } = setup();
    const r = await req('FETCH', '/', { observe: 0, contentFormat: 110, payload: text('[{"n":"/3303/0/5700"},{"n":"/3/0/9"}]') });
    assert.equal(r.code, '2.05');
    assert.equal(r.contentFormat, 110);
    client.set('/3/0/9', 77);
    await flush(); await flush();
    assert.equal(sent.length, 1);
    assert.deepEqual(senmlNames(sent[0].res.payload!).sort(), ['/3/0/9', '/3303/0/5700']);
  });

  test('read-composite leaves absent paths out', async () => {
    const { req } = setup();
    const r = await req('FETCH', '/', { accept: 110, contentFormat: 110, payload: text('[{"n":"/3/0/0"},{"n":"/3304/0/5700"},{"n":"/0/0/0"}]') });
    assert.equal(r.code, '2.05');
    assert.deepEqual(senmlNames(r.payload!), ['/3/0/0']);
    assert.equal((await req('FETCH', '/', { contentFormat: 0, payload: text('x') })).code, '4.00');
  });

  test('deleting an observed instance ends its observation with 4.04', async () => {
    const { client, req, sent } = setup();
    await req('GET', '/3303/0', { observe: 0 });
    await req('DELETE', '/3303/0');
    await flush(); await flush();
    assert.equal(sent.at(-1)!.res.code, '4.04');
    assert.equal(client.observations.size, 0);
  });
});

describe('Bootstrap interface', () => {
  function bsSetup() {
    const client = new Lwm2mClient({ endpoint: 'bs-unit', bootstrap: { uri: 'coap://127.0.0.1:5783' }, scheduler: new ManualScheduler(0) });
    let finished = 0;
    const bs: BootstrapContext = {
      version: '1.1',
      bootstrapSecurityInstance: () => 0,
      finish: () => { validateBootstrapConfig(client); finished++; },
    };
    const req = (method: Method, path: string, o: Partial<CoapRequest> = {}) =>
      dispatchBootstrapRequest(client, bs, {
        method, path: path === '/' ? [] : path.slice(1).split('/'), query: [], payload: Buffer.alloc(0),
        token: Buffer.from([9]), confirmable: true, peer: { address: '127.0.0.1', port: 5783 }, ...o,
      });
    return { client, req, finished: () => finished };
  }

  test('write a server account, discover it, finish', async () => {
    const { client, req, finished } = bsSetup();
    // Finish too early: no server account -> 4.06
    assert.equal((await req('POST', '/bs')).code, '4.06');
    let r = await req('PUT', '/0/1', { contentFormat: 110, payload: text(JSON.stringify([
      { bn: '/0/1/', n: '0', vs: 'coap://127.0.0.1:5690' }, { n: '1', vb: false }, { n: '2', v: 3 }, { n: '10', v: 7 },
    ])) });
    assert.equal(r.code, '2.04');
    r = await req('PUT', '/1/0', { contentFormat: 110, payload: text(JSON.stringify([
      { bn: '/1/0/', n: '0', v: 7 }, { n: '1', v: 60 }, { n: '6', vb: false }, { n: '7', vs: 'U' },
    ])) });
    assert.equal(r.code, '2.04');
    // a Bootstrap-Server may write read-only resources
    assert.equal(client.get('/1/0/0'), 7);
    r = await req('GET', '/', { accept: 40 });
    const links = r.payload!.toString();
    assert.ok(links.startsWith('</>;lwm2m=1.1,'), links);
    assert.ok(links.includes('</0/1>;ssid=7;uri="coap://127.0.0.1:5690"'), links);
    assert.ok(links.includes('</1/0>;ssid=7'), links);
    assert.ok(!/<\/0\/0>;ssid/.test(links), links);
    r = await req('GET', '/1/0', { accept: 110 });
    assert.equal(r.code, '2.05');
    assert.equal((await req('GET', '/3/0', { accept: 110 })).code, '4.01');
    assert.equal((await req('POST', '/bs')).code, '2.04');
    assert.equal(finished(), 1);
    assert.deepEqual(client.serverAccounts().map((a) => [a.ssid, a.uri]), [[7, 'coap://127.0.0.1:5690']]);
  });

  test('delete keeps the Bootstrap-Server account and the Device; finish refuses an unusable account', async () => {
    const { client, req } = bsSetup();
    await req('PUT', '/0/1', { contentFormat: 110, payload: text('[{"n":"/0/1/0","vs":"coaps://h:5684"},{"n":"/0/1/1","vb":false},{"n":"/0/1/2","v":0},{"n":"/0/1/10","v":2}]') });
    await req('PUT', '/1/3', { contentFormat: 110, payload: text('[{"n":"/1/3/0","v":2},{"n":"/1/3/1","v":60}]') });
    // PSK without identity and key: not acceptable
    assert.equal((await req('POST', '/bs')).code, '4.06');
    assert.equal((await req('DELETE', '/')).code, '2.02');
    assert.deepEqual(client.tree.instanceIds(0), [0]);
    assert.deepEqual(client.tree.instanceIds(1), []);
    assert.deepEqual(client.tree.instanceIds(3), [0]);
    assert.equal((await req('DELETE', '/0/0')).code, '4.00');
    assert.equal((await req('DELETE', '/3/0/1')).code, '4.00');
    assert.equal(client.get(new Lwm2mPath([0, 0, 0])), 'coap://127.0.0.1:5783');
  });
});
