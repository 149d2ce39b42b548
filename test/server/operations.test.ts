import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { nextEvent, startServer, ServerEnv, sleep, until } from '../helpers/server-env';
import { hex, RawDevice, RawRequest } from '../helpers/raw-device';
import {
  CoapResponseError, TimeoutError,
} from '../../src/errors';
import {
  InvalidArgumentError, NotificationEvent, SendEvent, UnknownEndpointError, UnsupportedOperationError, UnknownObservationError,
  ObserveRejectedError, ObservationCancelledEvent,
} from '../../src/server';
import { DEVICE_3_0_TLV as DEVICE_TLV } from '../helpers/spec-examples';

/**
 * Device object /3/0 in TLV: the example of OMA TS LwM2M 1.0.2 section 6.4.3.1 (Single Object Instance Request),
 * written out byte by byte.
 */

const DEVICE_TREE = {
  0: 'Open Mobile Alliance',
  1: 'Lightweight M2M Client',
  2: '345000123',
  3: '1.0',
  6: { 0: 1, 1: 5 },
  7: { 0: 3800, 1: 5000 },
  8: { 0: 125, 1: 900 },
  9: 100,
  10: 15,
  11: { 0: 0 },
  13: new Date(1367491215 * 1000),
  14: '+02:00',
  16: 'U',
};

/** The same instance in SenML JSON (OMA TS Core 1.1 section 7.4.4 example). */
const DEVICE_SENML_JSON = JSON.stringify([
  { bn: '/3/0/', n: '0', vs: 'Open Mobile Alliance' },
  { n: '1', vs: 'Lightweight M2M Client' },
  { n: '2', vs: '345000123' },
  { n: '3', vs: '1.0' },
  { n: '6/0', v: 1 },
  { n: '6/1', v: 5 },
  { n: '7/0', v: 3800 },
  { n: '7/1', v: 5000 },
  { n: '8/0', v: 125 },
  { n: '8/1', v: 900 },
  { n: '9', v: 100 },
  { n: '10', v: 15 },
  { n: '11/0', v: 0 },
  { n: '13', v: 1367491215 },
  { n: '14', vs: '+02:00' },
  { n: '16', vs: 'U' },
]);

describe('device management and information reporting (real UDP, raw devices)', () => {
  let env: ServerEnv;
  let d10: RawDevice; // LwM2M 1.0
  let d11: RawDevice; // LwM2M 1.1, announces SenML JSON
  let d11bare: RawDevice; // LwM2M 1.1 with no ct

  before(async () => {
    env = await startServer();
    d10 = await env.device('dev10', { links: '</1/0>,</3/0>,</3303/0>,</3303/1>' });
    d11 = await env.device('dev11', { links: '</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>,</3303/0>' });
    d11bare = await env.device('dev11bare', { links: '</1/0>,</3/0>' });
    assert.equal((await d10.register(['lt=300'])).code, '2.01');
    assert.equal((await d11.register(['lt=300', 'lwm2m=1.1'])).code, '2.01');
    assert.equal((await d11bare.register(['lt=300', 'lwm2m=1.1'])).code, '2.01');
  });
  after(async () => {
    await env.close();
  });

  test('Read /3/0 of a 1.0 device: Accept TLV, the spec bytes decode to the typed tree', async () => {
    d10.on('GET', '/3/0', (req) => (req.accept === 11542 ? { code: '2.05', format: 11542, payload: DEVICE_TLV } : { code: '4.06' }));
    const r = await env.server.read('dev10', '/3/0');
    assert.equal(r.code, '2.05');
    assert.equal(r.format, 11542);
    assert.deepEqual(r.value, DEVICE_TREE);
    assert.equal(r.records.length, 16);
    const req = d10.received.filter((x) => x.path === '/3/0').pop()!;
    assert.equal(req.method, 'GET');
    assert.equal(req.accept, 11542);
  });

  test('Read /3/0 of a device announcing ct=110: SenML JSON', async () => {
    d11.on('GET', '/3/0', (req) => (req.accept === 110 ? { code: '2.05', format: 110, payload: DEVICE_SENML_JSON } : { code: '4.06' }));
    const r = await env.server.read('dev11', '/3/0');
    assert.equal(r.format, 110);
    assert.deepEqual(r.value, DEVICE_TREE);
    assert.equal(d11.received.filter((x) => x.path === '/3/0').length, 1, 'no retry needed');
  });

  test('4.06 Not Acceptable is retried in the next format the device may support', async () => {
    d11bare.on('GET', '/3/0', (req) => (req.accept === 11542 ? { code: '2.05', format: 11542, payload: DEVICE_TLV } : { code: '4.06' }));
    const r = await env.server.read('dev11bare', '/3/0');
    assert.deepEqual(r.value, DEVICE_TREE);
    const accepts = d11bare.received.filter((x) => x.path === '/3/0').map((x) => x.accept);
    assert.deepEqual(accepts, [112, 110, 11542], 'SenML CBOR, SenML JSON, then TLV');
  });

  test('Read of a single resource: text/plain for 1.1, typed by the model', async () => {
    d11.on('GET', '/3/0/9', { code: '2.05', format: 0, payload: '87' });
    const r = await env.server.read('dev11', '/3/0/9');
    assert.equal(r.value, 87);
    assert.equal(r.format, 0);
    assert.equal(d11.received.filter((x) => x.path === '/3/0/9').pop()!.accept, 0);
  });

  test('Read errors: 4.04 and 4.05 become CoapResponseError naming endpoint and path', async () => {
    d10.on('GET', '/3/0/99', { code: '4.04' });
    await assert.rejects(env.server.read('dev10', '/3/0/99'), (err: unknown) => {
      assert.ok(err instanceof CoapResponseError);
      assert.equal(err.coapCode, '4.04');
      assert.equal(err.code, 'COAP_4.04');
      assert.equal(err.message, 'dev10 /3/0/99: 4.04 Not Found');
      return true;
    });
    d10.on('GET', '/3/0/4', { code: '4.05', payload: 'executable' });
    await assert.rejects(env.server.read('dev10', '/3/0/4'), /dev10 \/3\/0\/4: 4\.05 Method Not Allowed \(executable\)/);
  });

  test('a device that does not answer: TimeoutError naming endpoint and path', async () => {
    d10.on('GET', '/3/0/15', null);
    await assert.rejects(env.server.read('dev10', '/3/0/15', { timeoutMs: 300 }), (err: unknown) => {
      assert.ok(err instanceof TimeoutError);
      assert.match(err.message, /^dev10 \/3\/0\/15: no answer within 300 ms/);
      return true;
    });
    // nothing is left behind for the request that got no answer
    assert.equal(env.server.stats().transports.coap?.pendingRequests, 0);
  });

  test('unknown endpoint, bad path and not-started server are typed errors', async () => {
    await assert.rejects(env.server.read('nobody', '/3/0'), UnknownEndpointError);
    await assert.rejects(env.server.read('dev10', '/3/x'), { code: 'INVALID_PATH' });
    await assert.rejects(env.server.read('dev10', '3/0'), { code: 'INVALID_PATH' });
  });

  test('Write a single resource: PUT text/plain (1.1)', async () => {
    d11.on('PUT', '/3/0/14', { code: '2.04' });
    const r = await env.server.write('dev11', '/3/0/14', '+01:00');
    assert.equal(r.code, '2.04');
    const req = d11.received.filter((x) => x.path === '/3/0/14').pop()!;
    assert.equal(req.method, 'PUT');
    assert.equal(req.contentFormat, 0);
    assert.equal(req.payload.toString(), '+01:00');
  });

  test('Write an instance: POST partial update by default, PUT with replace; TLV for 1.0', async () => {
    d10.on('POST', '/1/0', { code: '2.04' });
    d10.on('PUT', '/1/0', { code: '2.04' });
    await env.server.write('dev10', '/1/0', { 1: 300 });
    let req = d10.received.filter((x) => x.path === '/1/0').pop()!;
    assert.equal(req.method, 'POST');
    assert.equal(req.contentFormat, 11542);
    // Lifetime (resource 1, Integer) = 300: resource TLV C2 01 01 2C (Core 1.0.2 6.4.3)
    assert.equal(req.payload.toString('hex'), 'c201012c');
    await env.server.write('dev10', '/1/0', { Lifetime: 60, 7: 'U' }, { replace: true });
    req = d10.received.filter((x) => x.path === '/1/0').pop()!;
    assert.equal(req.method, 'PUT');
    assert.equal(req.payload.toString('hex'), 'c1013c' + 'c10755');
  });

  test('Write errors: a value that does not fit the model is refused before sending', async () => {
    const before = d10.received.length;
    await assert.rejects(env.server.write('dev10', '/1/0/1', 'not a number'), { code: 'ENCODE' });
    await assert.rejects(env.server.write('dev10', '/1', { 0: { 1: 5 } }), InvalidArgumentError);
    await assert.rejects(env.server.write('dev10', '/1/0/7/0', 'U'), UnsupportedOperationError);
    assert.equal(d10.received.length, before);
    d10.on('PUT', '/3/0/0', { code: '4.05' });
    await assert.rejects(env.server.write('dev10', '/3/0/0', 'x'), /dev10 \/3\/0\/0: 4\.05/);
  });

  test('Execute with arguments (Core 5.4.5 syntax)', async () => {
    d10.on('POST', '/3/0/4', { code: '2.04' });
    await env.server.execute('dev10', '/3/0/4');
    let req = d10.received.filter((x) => x.path === '/3/0/4').pop()!;
    assert.equal(req.payload.length, 0);
    await env.server.execute('dev10', '/3/0/4', "0='abc',1");
    req = d10.received.filter((x) => x.path === '/3/0/4').pop()!;
    assert.equal(req.payload.toString(), "0='abc',1");
    await env.server.execute('dev10', '/3/0/4', { 2: 'x', 5: null });
    req = d10.received.filter((x) => x.path === '/3/0/4').pop()!;
    assert.equal(req.payload.toString(), "2='x',5");
    const n = d10.received.length;
    await assert.rejects(env.server.execute('dev10', '/3/0/4', "0='a b'"), InvalidArgumentError);
    await assert.rejects(env.server.execute('dev10', '/3/0/4', '10'), InvalidArgumentError);
    await assert.rejects(env.server.execute('dev10', '/3/0/4', { 1: "it's" }), InvalidArgumentError);
    await assert.rejects(env.server.execute('dev10', '/3/0', ''), InvalidArgumentError);
    assert.equal(d10.received.length, n, 'nothing sent for bad arguments');
  });

  test('Create on a 1.0 device without an instance id: resource TLVs, id from Location-Path', async () => {
    d10.on('POST', '/3303', { code: '2.01', locationPath: ['3303', '7'] });
    const r = await env.server.create('dev10', '/3303', { 5700: 21.5, 5701: 'Cel' });
    assert.equal(r.instanceId, 7);
    assert.equal(r.path, '/3303/7');
    const req = d10.received.filter((x) => x.path === '/3303').pop()!;
    assert.equal(req.method, 'POST');
    assert.equal(req.contentFormat, 11542);
    // 5700 Sensor Value Float 21.5 -> E4 16 44 41 AC 00 00 (16-bit id, 4-byte float); 5701 Units "Cel" -> E3 16 45 43 65 6C
    assert.equal(req.payload.toString('hex'), 'e4164441ac0000' + 'e31645' + Buffer.from('Cel').toString('hex'));
  });

  test('Create with an instance id on a 1.1 device: SenML JSON naming /O/I/R', async () => {
    d11.on('POST', '/3303', { code: '2.01', locationPath: ['3303', '4'] });
    const r = await env.server.create('dev11', '/3303', { 5700: 20 }, 4);
    assert.equal(r.instanceId, 4);
    const req = d11.received.filter((x) => x.path === '/3303').pop()!;
    assert.equal(req.contentFormat, 110);
    const senml = JSON.parse(req.payload.toString()) as Array<{ bn?: string; n?: string; v?: number }>;
    const names = senml.map((e) => (e.bn ?? '') + (e.n ?? ''));
    assert.deepEqual(names, ['/3303/4/5700']);
    assert.equal(senml[0].v, 20);
  });

  test('Delete -> 2.02; errors', async () => {
    d10.on('DELETE', '/3303/1', { code: '2.02' });
    assert.equal((await env.server.delete('dev10', '/3303/1')).code, '2.02');
    d10.on('DELETE', '/3/0', { code: '4.05' });
    await assert.rejects(env.server.delete('dev10', '/3/0'), { code: 'COAP_4.05' });
    await assert.rejects(env.server.delete('dev10', '/3'), InvalidArgumentError);
  });

  test('Discover: Accept 40, links with attributes', async () => {
    d10.on('GET', '/3/0', (req) => (req.accept === 40
      ? { code: '2.05', format: 40, payload: '</3/0>;pmin=10;pmax=60,</3/0/1>,</3/0/6>;dim=2,</3/0/7>;dim=2;gt=50.5' }
      : { code: '2.05', format: 11542, payload: DEVICE_TLV }));
    const r = await env.server.discover('dev10', '/3/0');
    assert.deepEqual(r.entries.map((e) => [e.path.toString(), e.attributes]), [
      ['/3/0', { pmin: 10, pmax: 60 }],
      ['/3/0/1', {}],
      ['/3/0/6', { dim: 2 }],
      ['/3/0/7', { dim: 2, gt: 50.5 }],
    ]);
  });

  test('Write-Attributes: PUT with the attributes as query, null removes', async () => {
    d10.on('PUT', '/3/0/9', { code: '2.04' });
    await env.server.writeAttributes('dev10', '/3/0/9', { pmin: 10, pmax: 60, gt: 80.5, lt: null, st: 2 });
    const req = d10.received.filter((x) => x.path === '/3/0/9' && x.method === 'PUT').pop()!;
    assert.deepEqual(req.query, ['pmin=10', 'pmax=60', 'gt=80.5', 'lt', 'st=2']);
    assert.equal(req.payload.length, 0);
    const n = d10.received.length;
    await assert.rejects(env.server.writeAttributes('dev10', '/3/0/9', { pmin: 60, pmax: 10 }), InvalidArgumentError);
    await assert.rejects(env.server.writeAttributes('dev10', '/3/0/9', { pmin: -1 }), InvalidArgumentError);
    await assert.rejects(env.server.writeAttributes('dev10', '/3/0/9', { foo: 1 } as never), InvalidArgumentError);
    await assert.rejects(env.server.writeAttributes('dev10', '/3/0/9', { edge: 1 }), /needs LwM2M 1\.2/);
    await assert.rejects(env.server.writeAttributes('dev10', '/3/0/9', { epmin: 1 }), /needs LwM2M 1\.1/);
    assert.equal(d10.received.length, n);
  });

  test('Read-Composite (1.1): FETCH / with the paths in SenML, values by path', async () => {
    d11.on('FETCH', '/', (req) => {
      if (req.contentFormat !== 110 || req.accept !== 110) return { code: '4.15' };
      return { code: '2.05', format: 110, payload: JSON.stringify([{ n: '/3/0/0', vs: 'Open Mobile Alliance' }, { n: '/1/0/1', v: 300 }]) };
    });
    const r = await env.server.readComposite('dev11', ['/3/0/0', '/1/0/1']);
    assert.deepEqual(r.value, { '/3/0/0': 'Open Mobile Alliance', '/1/0/1': 300 });
    const req = d11.received.filter((x) => x.method === 'FETCH').pop()!;
    const names = (JSON.parse(req.payload.toString()) as Array<{ n?: string; bn?: string }>).map((e) => (e.bn ?? '') + (e.n ?? ''));
    assert.deepEqual(names, ['/3/0/0', '/1/0/1']);
    await assert.rejects(env.server.readComposite('dev10', ['/3/0/0']), UnsupportedOperationError);
  });

  test('Write-Composite (1.1): iPATCH / with SenML records', async () => {
    d11.on('iPATCH', '/', { code: '2.04' });
    await env.server.writeComposite('dev11', { '/3/0/14': '+01:00', '/1/0/1': 120 });
    const req = d11.received.filter((x) => x.method === 'iPATCH').pop()!;
    assert.equal(req.contentFormat, 110);
    const recs = (JSON.parse(req.payload.toString()) as Array<{ n?: string; bn?: string; v?: number; vs?: string }>);
    const byName = Object.fromEntries(recs.map((e) => [(e.bn ?? '') + (e.n ?? ''), e.v ?? e.vs]));
    assert.deepEqual(byName, { '/3/0/14': '+01:00', '/1/0/1': 120 });
  });

  test('Observe, notifications, passive cancel (RST on the next notification), observe again, active cancel', async () => {
    d10.on('GET', '/3/0/9', (req) => ({ code: '2.05', format: 0, payload: '100', observe: req.observe === 0 }));
    const obs = await env.server.observe('dev10', '/3/0/9', { format: 0 });
    assert.equal(obs.value, 100);
    assert.deepEqual(obs.paths, ['/3/0/9']);
    assert.equal(obs.endpoint, 'dev10');
    assert.equal(obs.token.length, 16);
    assert.deepEqual(env.server.observations('dev10').map((o) => o.id), [obs.id]);

    const got: NotificationEvent[] = [];
    const onN = (n: NotificationEvent): void => {
      got.push(n);
    };
    env.server.on('notification', onN);
    try {
      assert.equal(await d10.notify('/3/0/9', '95', 0), 'ack');
      assert.equal(await d10.notify('/3/0/9', '90', 0, { confirmable: false }), 'sent');
      await until(() => got.length === 2, 3000, 'two notifications');
      assert.deepEqual(got.map((n) => n.value), [95, 90]);
      assert.equal(got[0].observation.id, obs.id);
      assert.equal(got[0].registration.endpoint, 'dev10');

      const cancelled = await env.server.cancelObservation('dev10', '/3/0/9');
      assert.deepEqual(cancelled.map((o) => o.id), [obs.id]);
      assert.equal(env.server.observations('dev10').length, 0);
      assert.equal(await d10.notify(obs.token, '85', 0), 'rst', 'passive cancel: RST');
      await sleep(50);
      assert.equal(got.length, 2);

      const obs2 = await env.server.observe('dev10', '/3/0/9', { format: 0 });
      assert.notEqual(obs2.token, obs.token);
      await env.server.cancelObservation('dev10', obs2.id, { active: true });
      const cancelReq = d10.received.filter((x) => x.path === '/3/0/9' && x.observe === 1).pop()!;
      assert.equal(cancelReq.token.toString('hex'), obs2.token);
      await assert.rejects(env.server.cancelObservation('dev10', obs2.id), UnknownObservationError);
      assert.equal(env.server.stats().transports.coap?.observations, 0, 'the transport forgot the cancelled tokens');
    } finally {
      env.server.off('notification', onN);
    }
  });

  test('Observe answered without Observe option -> ObserveRejectedError; error notification ends the observation', async () => {
    d10.on('GET', '/3/0/10', { code: '2.05', format: 0, payload: '15' });
    await assert.rejects(env.server.observe('dev10', '/3/0/10', { format: 0 }), ObserveRejectedError);
    d10.on('GET', '/3/0/20', (req) => ({ code: '2.05', format: 0, payload: '1', observe: req.observe === 0 }));
    const obs = await env.server.observe('dev10', '/3/0/20', { format: 0 });
    const ev = nextEvent<[ObservationCancelledEvent]>(env.server, 'observationCancelled');
    await d10.notify(obs.token, '', undefined, { code: '4.04' });
    const [c] = await ev;
    assert.equal(c.observation.id, obs.id);
    assert.match(c.reason, /4\.04/);
    assert.equal(env.server.observations('dev10').filter((o) => o.id === obs.id).length, 0);
  });

  test('Observe an instance (TLV notifications) and Observe-Composite (SenML)', async () => {
    d10.on('GET', '/3/0', (req) => ({ code: '2.05', format: 11542, payload: DEVICE_TLV, observe: req.observe === 0 }));
    const obs = await env.server.observe('dev10', '/3/0');
    assert.deepEqual(obs.value, DEVICE_TREE);
    const ev = nextEvent<[NotificationEvent]>(env.server, 'notification');
    await d10.notify(obs.token, hex('C1 09 32'), 11542); // Battery level 50
    const [n] = await ev;
    assert.deepEqual(n.value, { 9: 50 });

    d11.on('FETCH', '/', (req) => ({
      code: '2.05', format: 110, observe: req.observe === 0,
      payload: JSON.stringify([{ n: '/3/0/9', v: 80 }, { n: '/3303/0/5700', v: 21.5 }]),
    }));
    const comp = await env.server.observe('dev11', ['/3/0/9', '/3303/0/5700']);
    assert.equal(comp.composite, true);
    assert.deepEqual(comp.value, { '/3/0/9': 80, '/3303/0/5700': 21.5 });
    const fetch = d11.received.filter((x) => x.method === 'FETCH' && x.observe === 0).pop()!;
    assert.equal(fetch.path, '/');
    const ev2 = nextEvent<[NotificationEvent]>(env.server, 'notification');
    await d11.notify(comp.token, JSON.stringify([{ n: '/3/0/9', v: 79 }, { n: '/3303/0/5700', v: 22 }]), 110);
    const [n2] = await ev2;
    assert.deepEqual(n2.value, { '/3/0/9': 79, '/3303/0/5700': 22 });
    await env.server.cancelObservation('dev11', comp.id, { active: true });
    const cancel = d11.received.filter((x) => x.method === 'FETCH' && x.observe === 1).pop()!;
    assert.equal(cancel.token.toString('hex'), comp.token);
    assert.deepEqual(JSON.parse(cancel.payload.toString()), JSON.parse(fetch.payload.toString()));
  });

  test('Send (POST /dp) from a registered device -> 2.04 and a send event; unknown source -> 4.04', async () => {
    const ev = nextEvent<[SendEvent]>(env.server, 'send');
    // Core 1.1 section 6.4.? Send example-style SenML JSON with a base time.
    const payload = JSON.stringify([{ bn: '/3303/0/', bt: 1700000000, n: '5700', v: 21.5 }, { n: '5701', vs: 'Cel' }]);
    const res = await d11.send(payload, 110);
    assert.equal(res.code, '2.04');
    const [s] = await ev;
    assert.equal(s.registration.endpoint, 'dev11');
    assert.deepEqual(s.value, { '/3303/0/5700': 21.5, '/3303/0/5701': 'Cel' });
    assert.equal(s.records[0].time, 1700000000);
    assert.equal((await d11.send('not json', 110)).code, '4.00');
    assert.equal((await d11.send('21.5', 0)).code, '4.15');
    const stranger = await env.device('stranger');
    assert.equal((await stranger.send(payload, 110)).code, '4.04');
  });

  test('Send in SenML CBOR (RFC 8428 integer labels, built by hand)', async () => {
    // [{ -2 (bn): "/3303/0/", 0 (n): "5700", 2 (v): 21.5 (float32) }]
    const cbor = Buffer.concat([
      hex('81 A3 21 68'), Buffer.from('/3303/0/'), hex('00 64'), Buffer.from('5700'), hex('02 FA 41 AC 00 00'),
    ]);
    const ev = nextEvent<[SendEvent]>(env.server, 'send');
    assert.equal((await d11.send(cbor, 112)).code, '2.04');
    const [s] = await ev;
    assert.equal(s.format, 112);
    assert.deepEqual(s.value, { '/3303/0/5700': 21.5 });
    assert.equal((await d11.send(hex('81 A3 21'), 112)).code, '4.00', 'truncated CBOR');
  });

  test('an Opaque resource is read as application/octet-stream (1.1)', async () => {
    d11.on('GET', '/5/0/0', (req) => (req.accept === 42 ? { code: '2.05', format: 42, payload: hex('DE AD BE EF') } : { code: '4.06' }));
    const r = await env.server.read('dev11', '/5/0/0');
    assert.equal(r.format, 42);
    assert.deepEqual(r.value, hex('DE AD BE EF'));
    assert.deepEqual(d11.received.filter((x) => x.path === '/5/0/0').map((x) => x.accept), [42]);
  });

  test('alternate root path: requests go under it', async () => {
    const d = await env.device('altroot', { links: '</lwm2m>;rt="oma.lwm2m",</lwm2m/1/0>,</lwm2m/3/0>' });
    await d.register(['lt=60', 'lwm2m=1.1']);
    assert.equal(env.server.getRegistration('altroot')!.rootPath, '/lwm2m');
    d.on('GET', '/lwm2m/3/0/0', { code: '2.05', format: 0, payload: 'ACME' });
    const r = await env.server.read('altroot', '/3/0/0');
    assert.equal(r.value, 'ACME');
    d.on('GET', '/lwm2m/3/0', { code: '2.05', format: 40, payload: '</lwm2m/3/0>,</lwm2m/3/0/0>' });
    const disc = await env.server.discover('altroot', '/3/0');
    assert.deepEqual(disc.entries.map((e) => e.path.toString()), ['/3/0', '/3/0/0']);
  });

  test('a deregistered device: requests fail with UnknownEndpointError, observations are dropped', async () => {
    const d = await env.device('leaver');
    d.on('GET', '/3/0/9', (req: RawRequest) => ({ code: '2.05', format: 0, payload: '1', observe: req.observe === 0 }));
    await d.register(['lt=60']);
    const obs = await env.server.observe('leaver', '/3/0/9', { format: 0 });
    await d.deregister();
    await until(() => env.server.getRegistration('leaver') === undefined);
    assert.equal(env.server.observations('leaver').length, 0);
    assert.equal(await d.notify(obs.token, '2', 0), 'rst');
    await assert.rejects(env.server.read('leaver', '/3/0/9'), UnknownEndpointError);
  });
});
