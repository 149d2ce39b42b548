/**
 * Node-RED as an LwM2M device: the lwm2m-client config node registers with a server (our server library, outside the
 * flow; and over DTLS with PSK credentials), lwm2m-client-set changes what the server reads and notifies observers,
 * lwm2m-client-events reports the server's writes, executes, creates, deletes and state changes, and asks the flow for
 * live reads (answered through lwm2m-client-set, or the last value after the timeout). Redeploys deregister and
 * register again.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lwm2mServer, InMemorySecurityStore, Registration, NotificationEvent } from '../../src/server';
import { UdpCoapEndpoint } from '../../src/coap/endpoint';
import { createDtlsServer } from '../../src/dtls';
import type { NodeMessage } from '../../nodes/lib/red';
import {
  helper, load, deploy, nextMessage, nextError, collect, waitFor, sleep, spyNodes, FlowNode, TestNode, endpointName,
  clientNodeOf,
} from './helper';

const n = (id: string) => helper.getNode(id) as TestNode;

function registeredAt(server: Lwm2mServer, ep: string, timeoutMs = 10000): Promise<Registration> {
  const now = server.getRegistration(ep);
  if (now) return Promise.resolve(now);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { server.off('registered', on); reject(new Error(`${ep} did not register`)); }, timeoutMs);
    const on = (reg: Registration) => {
      if (reg.endpoint !== ep) return;
      clearTimeout(timer);
      server.off('registered', on);
      resolve(reg);
    };
    server.on('registered', on);
  });
}

describe('client nodes', () => {
  let server: Lwm2mServer;
  const ep = endpointName('nr-device');
  const flow = (extra: Record<string, unknown> = {}): FlowNode[] => [
    { id: 'tab', type: 'tab' },
    {
      id: 'cli', type: 'lwm2m-client', endpoint: ep, serverUri: `coap://127.0.0.1:${server.address().port}`, security: 'none',
      lifetime: 60, binding: 'U', version: '1.1', bootstrap: false, manufacturer: 'Flow Inc', model: 'NR-1', serial: 'S-9',
      objects: JSON.stringify({ 3303: { 0: { 5700: 20, 5701: 'Cel' } }, 3311: { 0: { 5850: false, 5851: 0 } } }), ...extra,
    },
    { id: 'set', type: 'lwm2m-client-set', z: 'tab', client: 'cli', path: '', wires: [] },
    { id: 'setTemp', type: 'lwm2m-client-set', z: 'tab', client: 'cli', path: '/3303/0/5700', wires: [] },
    { id: 'ev', type: 'lwm2m-client-events', z: 'tab', client: 'cli', liveReads: '/3303/0/5701', readTimeout: 1, wires: [['out']] },
    { id: 'out', type: 'helper', z: 'tab' },
  ];
  let sends: ReturnType<typeof spyNodes>;

  before(async () => {
    server = new Lwm2mServer({ address: '127.0.0.1', port: 0, requestTimeoutMs: 5000 });
    await server.start();
    sends = spyNodes('send');
    try {
      await load(flow());
    } finally {
      sends.restore();
    }
    await registeredAt(server, ep);
  });

  after(async () => {
    await helper.unload();
    await server.close();
  });

  test('the client registers with the device values of its settings; its users show "registered"', async () => {
    const reg = server.getRegistration(ep)!;
    assert.equal(reg.lifetime, 60);
    assert.equal(reg.version, '1.1');
    assert.equal((await server.read(ep, '/3/0/0')).value, 'Flow Inc');
    assert.equal((await server.read(ep, '/3/0/1')).value, 'NR-1');
    assert.equal((await server.read(ep, '/3/0/2')).value, 'S-9');
    assert.deepEqual((await server.read(ep, '/3303/0')).value, { 5700: 20, 5701: 'Cel' });
    await waitFor(() => clientNodeOf('cli').clientStatus().text === 'registered');
    assert.deepEqual(clientNodeOf('cli').clientStatus(), { fill: 'green', shape: 'dot', text: 'registered' });
    // client-events reported the state changes since the deploy (recorded from the first send on).
    const states = sends.calls.filter((c) => c.id === 'ev' && (c.arg as NodeMessage).topic === 'state').map((c) => (c.arg as NodeMessage).payload);
    assert.ok(states.includes('registered'), `states: ${states.join(', ')}`);
  });

  test('client-set with msg.topic, with the node\'s path, and with a {path: value} payload changes what the server reads', async () => {
    n('set').receive({ topic: '/3303/0/5700', payload: 25.5 });
    await waitFor(() => clientNodeOf('cli').client.get('/3303/0/5700') === 25.5);
    assert.equal((await server.read(ep, '/3303/0/5700')).value, 25.5);
    n('setTemp').receive({ topic: '/ignored/by/the/node/path', payload: 26 });
    await waitFor(() => clientNodeOf('cli').client.get('/3303/0/5700') === 26);
    assert.equal((await server.read(ep, '/3303/0/5700')).value, 26);
    n('set').receive({ payload: { '/3311/0/5850': true, '/3311/0/5851': 80 } });
    await waitFor(() => clientNodeOf('cli').client.get('/3311/0/5851') === 80);
    assert.deepEqual((await server.read(ep, '/3311/0')).value, { 5850: true, 5851: 80 });
  });

  test('client-set notifies the server\'s observers', async () => {
    const obs = await server.observe(ep, '/3303/0/5700');
    assert.equal(obs.value, 26);
    const notified = new Promise<NotificationEvent>((resolve) => server.once('notification', resolve));
    n('setTemp').receive({ payload: 30.25 });
    assert.equal((await notified).value, 30.25);
    await server.cancelObservation(ep, obs.id, { active: true });
  });

  test('client-events: a server write, execute, create and delete', async () => {
    const w = nextMessage(n('out'), (m) => m.topic === 'write');
    await server.write(ep, '/3311/0/5851', 42);
    const wm = await w;
    assert.equal(wm.path, '/3311/0/5851');
    assert.equal(wm.payload, 42);
    assert.match(String((wm.lwm2m as { server: string }).server), /^coap:\/\/127\.0\.0\.1:\d+$/);

    const wi = nextMessage(n('out'), (m) => m.topic === 'write');
    await server.write(ep, '/3311/0', { 5850: false, 5851: 7 }, { replace: false });
    const wim = await wi;
    assert.equal(wim.path, '/3311/0');
    assert.deepEqual(wim.payload, { '/3311/0/5850': false, '/3311/0/5851': 7 });

    const x = nextMessage(n('out'), (m) => m.topic === 'execute');
    await server.execute(ep, '/3/0/4', "1='soon'");
    const xm = await x;
    assert.equal(xm.path, '/3/0/4');
    assert.equal(xm.payload, "1='soon'");
    assert.deepEqual((xm.lwm2m as { args: unknown[] }).args, [{ id: 1, value: 'soon' }]);

    const c = nextMessage(n('out'), (m) => m.topic === 'create');
    const created = await server.create(ep, '/3303', { 5700: 1 }, 4);
    assert.equal(created.instanceId, 4);
    assert.equal((await c).path, '/3303/4');
    const d = nextMessage(n('out'), (m) => m.topic === 'delete');
    await server.delete(ep, '/3303/4');
    assert.equal((await d).path, '/3303/4');
  });

  test('a live read is answered by the flow through client-set', async () => {
    const asked = nextMessage(n('out'), (m) => m.topic === 'read');
    const reading = server.read(ep, '/3303/0/5701');
    const q = await asked;
    assert.equal(q.path, '/3303/0/5701');
    assert.equal(q.payload, 'Cel', 'the question carries the current value');
    assert.equal(typeof q.lwm2mRead, 'string');
    n('set').receive({ ...q, payload: 'Far' });
    assert.equal((await reading).value, 'Far');
    assert.equal(clientNodeOf('cli').client.get('/3303/0/5701'), 'Far');
  });

  test('a live read the flow does not answer in time gets the last known value', async () => {
    const asked = nextMessage(n('out'), (m) => m.topic === 'read');
    const reading = server.read(ep, '/3303/0/5701');
    await asked;
    assert.equal((await reading).value, 'Far');
  });

  test('a redeploy of client-events alone leaves no listener or read hook behind', async () => {
    for (const name of ['one', 'two']) await deploy(flow().map((x) => (x.id === 'ev' ? { ...x, name } : x)), 'nodes');
    const seen = collect(n('out'));
    const w = nextMessage(n('out'), (m) => m.topic === 'write');
    await server.write(ep, '/3311/0/5851', 9);
    await w;
    const asked = nextMessage(n('out'), (m) => m.topic === 'read');
    const reading = server.read(ep, '/3303/0/5701');
    n('set').receive({ ...(await asked), payload: 'Ra' });
    assert.equal((await reading).value, 'Ra');
    await sleep(50);
    seen.stop();
    assert.deepEqual(seen.list.map((m) => m.topic), ['write', 'read']);
  });

  describe('client-set errors', () => {
    async function fails(msg: Record<string, unknown>, node = 'set') {
      const e = nextError(n(node));
      n(node).receive(msg);
      return (await e).error;
    }
    test('neither a topic nor a {path: value} payload', async () => {
      assert.match((await fails({ payload: 5 })).message, /set needs msg\.topic as a resource path/);
      assert.match((await fails({ payload: { a: 1 } })).message, /set needs msg\.topic/);
    });
    test('no value', async () => {
      assert.match((await fails({ topic: '/3303/0/5700' })).message, /no value for \/3303\/0\/5700: msg\.payload is empty/);
    });
    test('a value of the wrong type, a bad path, an unknown object', async () => {
      const e = await fails({ topic: '/3311/0/5850', payload: 'maybe' });
      assert.match(e.message, /\/3311\/0\/5850/);
      assert.match(e.message, /boolean/i);
      assert.match((await fails({ topic: '/3303/x/5700', payload: 1 })).message, /invalid LwM2M path/);
      assert.match((await fails({ topic: '/3303', payload: 1 })).message, /resource path is needed/);
      assert.match((await fails({ topic: '/59999/0/1', payload: 1 })).message, /object 59999 is unknown/);
      assert.match((await fails({ payload: { '/3303/0/5700': 1, '/3311/0/5850': 'maybe' } })).message, /5850/);
      assert.equal(clientNodeOf('cli').client.get('/3303/0/5700'), 30.25, 'nothing of a bad batch is stored');
    });
  });

  test('a redeploy of the client deregisters it and registers it again; the old client is stopped', async () => {
    const old = clientNodeOf('cli').client;
    const gone = new Promise<Registration>((resolve) => server.once('deregistered', resolve));
    const back = new Promise<Registration>((resolve) => server.once('registered', resolve));
    await deploy(flow({ lifetime: 90 }), 'nodes');
    assert.equal((await gone).endpoint, ep);
    const reg = await back;
    assert.equal(reg.endpoint, ep);
    assert.equal(reg.lifetime, 90);
    assert.equal(old.state, 'stopped');
    assert.notEqual(clientNodeOf('cli').client, old);
    // The new client-events node is wired to the new client.
    const w = nextMessage(n('out'), (m) => m.topic === 'write');
    await server.write(ep, '/3311/0/5851', 3);
    assert.equal((await w).payload, 3);
  });
});

describe('client node with PSK over DTLS, and with bad settings', () => {
  let server: Lwm2mServer;
  const ep = endpointName('nr-psk');
  const key = 'a1a2a3a4a5a6a7a8a9aaabacadaeafb0';
  let coapsPort: number;

  before(async () => {
    const security = new InMemorySecurityStore();
    security.add({ endpoint: ep, identity: `${ep}-id`, key: Buffer.from(key, 'hex') });
    server = new Lwm2mServer({ address: '127.0.0.1', port: 0, securityStore: security });
    const dtls = createDtlsServer({ address: '127.0.0.1', port: 0, pskStore: security });
    await dtls.whenListening();
    server.addEndpoint(new UdpCoapEndpoint(dtls), { secure: true });
    await server.start();
    coapsPort = dtls.address().port;
  });
  after(async () => {
    await helper.unload();
    await server.close();
  });

  test('identity and key from the credentials', async () => {
    const registered = registeredAt(server, ep);
    await load([
      { id: 'tab', type: 'tab' },
      { id: 'cli', type: 'lwm2m-client', endpoint: ep, serverUri: `coaps://127.0.0.1:${coapsPort}`, security: 'psk', lifetime: 60 },
      { id: 'set', type: 'lwm2m-client-set', z: 'tab', client: 'cli', wires: [] },
    ], { cli: { identity: `${ep}-id`, key } });
    const reg = await registered;
    assert.equal(reg.security, 'psk');
    assert.equal(reg.identity, `${ep}-id`);
    n('set').receive({ topic: '/3/0/9', payload: 55 });
    await waitFor(() => clientNodeOf('cli').client.get('/3/0/9') === 55);
    assert.equal((await server.read(ep, '/3/0/9')).value, 55);
    await helper.unload();
  });

  test('bad objects JSON, a missing server URI, a node without a client: errors saying what is wrong', async () => {
    const errors = spyNodes('error');
    const statuses = spyNodes('status');
    const warnings = spyNodes('warn');
    try {
      await load([
        { id: 'tab', type: 'tab' },
        { id: 'badObjects', type: 'lwm2m-client', endpoint: endpointName('bad'), serverUri: 'coap://127.0.0.1:1', objects: '{"3303": ' },
        { id: 'noUri', type: 'lwm2m-client', endpoint: endpointName('nouri'), serverUri: '' },
        { id: 'orphan', type: 'lwm2m-client-set', z: 'tab', client: '', wires: [] },
        { id: 'user', type: 'lwm2m-client-set', z: 'tab', client: 'noUri', wires: [] },
        { id: 'badLive', type: 'lwm2m-client-events', z: 'tab', client: 'badObjects', liveReads: '/3303/0/5700, /3/x/1, /3303', wires: [[]] },
      ]);
      await sleep(50);
    } finally {
      errors.restore();
      statuses.restore();
      warnings.restore();
    }
    assert.ok(warnings.texts('badLive').some((t) => /^live read "\/3\/x\/1": invalid LwM2M path/.test(t)), warnings.texts().join('; '));
    assert.ok(warnings.texts('badLive').some((t) => /^live read "\/3303": .*resource paths/.test(t)), warnings.texts().join('; '));
    assert.equal(warnings.texts('badLive').length, 2, 'the good path is hooked');
    assert.ok(errors.texts('badObjects').some((t) => /^objects: /.test(t) && /JSON/.test(t)), errors.texts().join('; '));
    assert.ok(errors.texts('noUri').some((t) => /LwM2M client/.test(t) && /server/i.test(t)), errors.texts().join('; '));
    assert.ok(errors.texts('orphan').some((t) => /no LwM2M client configured: choose one in the node/.test(t)));
    assert.ok(statuses.texts('orphan').includes('no client'));
    assert.ok(statuses.calls.some((c) => c.id === 'user' && (c.arg as { fill?: string }).fill === 'red'), 'the user of a broken client shows red');
    assert.ok(errors.texts('user').some((t) => /the LwM2M client "noUri" is not running: invalid server URI ""/.test(t)), errors.texts('user').join('; '));
    await helper.unload();
  });
});
