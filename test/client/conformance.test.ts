/**
 * Client conformance with what real LwM2M servers (Leshan, Wakaama, Anjay-based) send: each test names the clause of
 * OMA TS Core 1.1 / 1.2 or the RFC it checks. Requests go straight to the dispatcher, as the CoAP endpoint gives them.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Lwm2mClient } from '../../src/client/client';
import { AttributeStore } from '../../src/client/attributes';
import { dispatchBootstrapRequest, dispatchServerRequest, ServerContext } from '../../src/client/handlers';
import { BootstrapContext } from '../../src/client/handlers/bootstrap';
import { ManualScheduler } from '../../src/client/scheduler';
import { CoapRequest, CoapResponse, Method } from '../../src/coap/types';
import { Observation } from '../../src/client/observe';

function setup(version: '1.0' | '1.1' | '1.2' = '1.1') {
  const scheduler = new ManualScheduler(0);
  const client = new Lwm2mClient({
    endpoint: 'conf', serverUri: 'coap://127.0.0.1:5683', version, scheduler,
    objects: { 3303: { 0: { 5700: 21.5, 5701: 'Cel' } } },
  });
  const sent: Array<{ res: CoapResponse; con: boolean }> = [];
  const server: ServerContext & { sendNotification(o: Observation, r: CoapResponse, c: boolean): Promise<void> } = {
    ssid: 1, version, uri: 'coap://test', attributes: new AttributeStore(), confirmableNotifications: false,
    attributeDefaults: () => ({}),
    sendNotification: async (_obs, res, con) => { sent.push({ res, con }); },
  };
  const base = (method: Method, path: string, o: Partial<CoapRequest>): CoapRequest => ({
    method, path: path === '/' ? [] : path.slice(1).split('/'), query: [], payload: Buffer.alloc(0),
    token: Buffer.from([1, 2, 3]), confirmable: true, peer: { address: '127.0.0.1', port: 5683 }, ...o,
  });
  const req = (method: Method, path: string, o: Partial<CoapRequest> = {}): Promise<CoapResponse> =>
    Promise.resolve(dispatchServerRequest(client, server, base(method, path, o)));
  const bsReq = (bs: BootstrapContext, method: Method, path: string, o: Partial<CoapRequest> = {}): Promise<CoapResponse> =>
    Promise.resolve(dispatchBootstrapRequest(client, bs, base(method, path, o)));
  return { client, server, sent, req, bsReq, scheduler };
}

const text = (s: string) => Buffer.from(s, 'utf8');
const flush = () => new Promise<void>((r) => setImmediate(r));

describe('client conformance: Observe', () => {
  test('re-registration with the same token keeps the Observe sequence increasing (RFC 7641 3.4, 4.4)', async () => {
    const { client, req, sent } = setup();
    const token = Buffer.from([9, 9]);
    const first = await req('GET', '/3303/0/5700', { observe: 0, token });
    assert.equal(first.code, '2.05');
    client.set('/3303/0/5700', 30);
    await flush(); await flush();
    client.set('/3303/0/5700', 31);
    await flush(); await flush();
    const last = sent[sent.length - 1].res.observe!;
    assert.ok(last >= 2);
    // The server re-registers (RFC 7641 4.1: same token, same path). Its answer is a notification of the same
    // observation: a sequence number below the last one would be discarded by the server as older (3.4).
    const again = await req('GET', '/3303/0/5700', { observe: 0, token });
    assert.equal(again.code, '2.05');
    assert.ok(again.observe! > last, `re-registration answer has Observe ${again.observe}, last notification had ${last}`);
    assert.equal(client.observations.size, 1);
    client.set('/3303/0/5700', 32);
    await flush(); await flush();
    assert.ok(sent[sent.length - 1].res.observe! > again.observe!);
  });
});

describe('client conformance: Create', () => {
  test('Create without a mandatory writable resource is 4.00 and creates nothing (Core 1.1 6.3.6 / 1.2 6.3.7)', async () => {
    const { client, req } = setup();
    // Server object: Lifetime (1), Notification Storing (6) and Binding (7) are mandatory and writable.
    const r = await req('POST', '/1', { contentFormat: 110, payload: text('[{"n":"/1/7/0","v":7}]') });
    assert.equal(r.code, '4.00');
    assert.equal(client.tree.hasInstance(1, 7), false);
    const ok = await req('POST', '/1', {
      contentFormat: 110,
      payload: text('[{"bn":"/1/7/","n":"0","v":7},{"n":"1","v":300},{"n":"6","vb":false},{"n":"7","vs":"U"}]'),
    });
    assert.equal(ok.code, '2.01');
    assert.equal(client.get('/1/7/1'), 300);
    // Read-only mandatory resources (Temperature's Sensor Value) are the client's to fill: not required.
    assert.equal((await req('POST', '/3303', { contentFormat: 110, payload: text('[{"n":"/3303/4/5701","vs":"K"}]') })).code, '2.01');
  });
});

describe('client conformance: Bootstrap interface', () => {
  function bsSetup(version: '1.0' | '1.1' = '1.0') {
    const client = new Lwm2mClient({ endpoint: 'bs-conf', version, bootstrap: { uri: 'coap://127.0.0.1:5783' }, scheduler: new ManualScheduler(0) });
    const bs: BootstrapContext = { version, bootstrapSecurityInstance: () => 0, finish: () => undefined };
    const req = (method: Method, path: string, o: Partial<CoapRequest> = {}) => Promise.resolve(dispatchBootstrapRequest(client, bs, {
      method, path: path === '/' ? [] : path.slice(1).split('/'), query: [], payload: Buffer.alloc(0),
      token: Buffer.from([9]), confirmable: true, peer: { address: '127.0.0.1', port: 5783 }, ...o,
    }));
    return { client, req };
  }
  /** TLV resource with an 8-bit id and a value shorter than 8 bytes (Core 1.0.2 6.4.3: 0b11_0_00_lll). */
  const tlvShort = (id: number, value: Buffer) => Buffer.concat([Buffer.from([0xc0 | value.length, id]), value]);
  /** TLV resource with an 8-bit id and an 8-bit length field (0b11_0_01_000). */
  const tlvLong = (id: number, value: Buffer) => Buffer.concat([Buffer.from([0xc8, id, value.length]), value]);
  /** TLV object instance with an 8-bit id and an 8-bit length field (0b00_0_01_000). */
  const tlvInstance = (id: number, body: Buffer) => Buffer.concat([Buffer.from([0x08, id, body.length]), body]);

  test('1.0 Bootstrap-Write of /0 and /1 with TLV object-instance entries creates the accounts (Core 1.0.2 5.2.7.4)', async () => {
    const { client, req } = bsSetup('1.0');
    const security = tlvInstance(1, Buffer.concat([
      tlvLong(0, Buffer.from('coap://127.0.0.1:5690')), tlvShort(1, Buffer.from([0])), tlvShort(2, Buffer.from([3])), tlvShort(10, Buffer.from([7])),
    ]));
    assert.equal((await req('PUT', '/0', { contentFormat: 11542, payload: security })).code, '2.04');
    // /1/0 written as resources only (no instance entry), the other form a 1.0 Bootstrap-Server uses.
    const server = Buffer.concat([tlvShort(0, Buffer.from([7])), tlvShort(1, Buffer.from([0x0e, 0x10])), tlvShort(6, Buffer.from([0])), tlvShort(7, Buffer.from('U'))]);
    assert.equal((await req('PUT', '/1/0', { contentFormat: 11542, payload: server })).code, '2.04');
    assert.deepEqual(client.tree.instanceIds(0), [0, 1]);
    assert.equal(client.get('/0/1/0'), 'coap://127.0.0.1:5690');
    assert.equal(client.get('/1/0/1'), 3600);
    assert.deepEqual(client.serverAccounts().map((a) => [a.ssid, a.uri]), [[7, 'coap://127.0.0.1:5690']]);
    // Bootstrap-Delete / keeps the Bootstrap-Server account (and the Device), removes the rest (Core 1.1 6.1.7.5).
    assert.equal((await req('DELETE', '/')).code, '2.02');
    assert.deepEqual(client.tree.instanceIds(0), [0]);
    assert.deepEqual(client.tree.instanceIds(1), []);
  });
});
