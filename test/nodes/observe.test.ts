/**
 * lwm2m-observe in a flow: the current value then every notification (RFC 7641: the Observe answer is the first
 * notification), cancel by msg.cancel (an active cancel reaches the device), stop on redeploy (the server forgets the
 * observation and answers the next notification with RST, RFC 7641 3.6), pmin/pmax written first, auto-observe of
 * devices that register after the deploy, and errors reaching done(err). Devices: our client and the raw device.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Lwm2mClient } from '../../src/client';
import { RawDevice } from '../helpers/raw-device';
import type { NodeMessage } from '../../nodes/lib/red';
import {
  helper, load, deploy, serverConfig, serverNodeOf, startDevice, startRawDevice, nextMessage, messages, nextError,
  nextStatus, collect, waitFor, sleep, FlowNode, TestNode, closeAll, endpointName,
} from './helper';

const n = (id: string) => helper.getNode(id) as TestNode;
type Details = { endpoint: string; paths: string[]; observation: string; format: number; initial: boolean; records: Array<{ path: string }> };
const details = (m: NodeMessage) => m.lwm2m as Details;

describe('observe node, observations started by messages', () => {
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab', label: 'observe' },
    serverConfig('srv', { requestTimeout: 1.5 }),
    { id: 'obs', type: 'lwm2m-observe', z: 'tab', name: 'by message', server: 'srv', endpoint: '', path: '', onRegister: false, pmin: '', pmax: '', wires: [['out']] },
    { id: 'obsAttrs', type: 'lwm2m-observe', z: 'tab', server: 'srv', endpoint: '', path: '/3303/0/5700', onRegister: false, pmin: '1', pmax: '30', wires: [['out']] },
    { id: 'out', type: 'helper', z: 'tab' },
  ];
  let device: Lwm2mClient;
  let raw: RawDevice;
  let ep: string;

  before(async () => {
    await load(flow);
    const port = (await serverNodeOf('srv')).server.address().port;
    device = await startDevice(port);
    ep = device.endpointName;
    raw = await startRawDevice(port);
    raw.on('GET', '/3303/0/5700', (req) => (req.observe === 0
      ? { code: '2.05', format: 0, payload: '19.5', observe: true }
      : { code: '2.05', format: 0, payload: '19.5' }));
    raw.on('PUT', '/3303/0/5700', { code: '2.04' });
    raw.on('GET', '/3/0/0', { code: '2.05', format: 0, payload: 'no observe option' });
    raw.on('GET', '/3/0/1', null);
  });

  after(async () => {
    await closeAll(device, raw);
    await helper.unload();
  });

  test('the current value, then a message for every notification, and the status counts observations', async () => {
    const status = nextStatus(n('obs'), (s) => s.text === 'observing 1');
    const first = nextMessage(n('out'));
    n('obs').receive({ endpoint: ep, topic: '/3303/0/5700' });
    const m0 = await first;
    assert.equal(m0.payload, 21.5);
    assert.equal(m0.topic, '/3303/0/5700');
    assert.equal(m0.endpoint, ep);
    assert.equal(details(m0).initial, true);
    assert.deepEqual(details(m0).paths, ['/3303/0/5700']);
    await status;
    const next = messages(n('out'), 3);
    for (const v of [22.5, 23, -1.25]) {
      device.set('/3303/0/5700', v);
      await sleep(20); // separate changes, so that each makes its own notification
    }
    const got = await next;
    assert.deepEqual(got.map((m) => m.payload), [22.5, 23, -1.25]);
    for (const m of got) {
      assert.equal(details(m).initial, false);
      assert.equal(details(m).observation, details(m0).observation);
      assert.equal(m.endpoint, ep);
      assert.equal(details(m).records[0].path, '/3303/0/5700');
    }
  });

  test('msg.cancel ends the observation at the device (active cancel)', async () => {
    assert.equal(device.observations.size, 1);
    n('obs').receive({ endpoint: ep, topic: '/3303/0/5700', cancel: true });
    await waitFor(() => device.observations.size === 0, 5000, 'the device to drop the observation');
    const srv = await serverNodeOf('srv');
    assert.equal(srv.server.observations(ep).length, 0);
    const seen = collect(n('out'));
    device.set('/3303/0/5700', 30);
    await sleep(300);
    seen.stop();
    assert.equal(seen.list.length, 0, 'no message after cancel');
  });

  test('an instance observed: the value is the instance keyed by id', async () => {
    const first = nextMessage(n('out'));
    n('obs').receive({ endpoint: ep, topic: '/3311/0' });
    const m = await first;
    assert.deepEqual(m.payload, { 5850: device.get('/3311/0/5850'), 5851: device.get('/3311/0/5851') });
    const next = nextMessage(n('out'));
    device.set('/3311/0/5851', 99);
    assert.equal(((await next).payload as Record<string, unknown>)[5851], 99);
    n('obs').receive({ endpoint: ep, payload: 'cancel' }); // every observation of that endpoint, no path
    await waitFor(() => device.observations.size === 0, 5000, 'cancel of all');
  });

  test('the raw device: pmin/pmax are written before observing, notifications from an independent CoAP stack', async () => {
    const first = nextMessage(n('out'));
    n('obsAttrs').receive({ endpoint: raw.endpoint });
    assert.equal((await first).payload, 19.5);
    const put = await raw.waitForRequest((r) => r.method === 'PUT' && r.path === '/3303/0/5700');
    assert.deepEqual([...put.query].sort(), ['pmax=30', 'pmin=1']);
    const next = messages(n('out'), 2);
    assert.equal(await raw.notify('/3303/0/5700', '20.25', 0), 'ack');
    assert.equal(await raw.notify('/3303/0/5700', '20.5', 0, { confirmable: false }), 'sent');
    assert.deepEqual((await next).map((m) => m.payload), [20.25, 20.5]);
  });

  test('a redeploy of the node stops its observations: the server answers the next notification with RST', async () => {
    // Only the observe nodes change ("nodes" deploy): the server keeps running, the old nodes close.
    await deploy(flow.map((x) => (x.type === 'lwm2m-observe' ? { ...x, name: 'changed' } : x)), 'nodes');
    const srv = await serverNodeOf('srv');
    assert.equal(srv.server.observations(raw.endpoint).length, 0);
    const seen = collect(n('out'));
    assert.equal(await raw.notify('/3303/0/5700', '21', 0), 'rst');
    await sleep(100);
    seen.stop();
    assert.equal(seen.list.length, 0, 'no message from a closed node');
    await deploy(flow, 'nodes');
  });

  test('our client after a redeploy: its next notification is refused and it drops the observation', async () => {
    const first = nextMessage(n('out'));
    n('obs').receive({ endpoint: ep, topic: '/3303/0/5700' });
    await first;
    assert.equal(device.observations.size, 1);
    await deploy(flow.map((x) => (x.id === 'obs' ? { ...x, name: 'again' } : x)), 'nodes');
    const seen = collect(n('out'));
    device.set('/3303/0/5700', 40);
    await waitFor(() => device.observations.size === 0, 5000, 'the client to drop the refused observation');
    seen.stop();
    assert.equal(seen.list.length, 0);
    await deploy(flow, 'nodes');
  });

  describe('errors', () => {
    async function fails(node: string, msg: Record<string, unknown>) {
      const e = nextError(n(node));
      n(node).receive(msg);
      return (await e).error;
    }

    test('4.04 on a path the device does not have', async () => {
      const e = await fails('obs', { endpoint: ep, topic: '/3/0/99' });
      assert.match(e.message, new RegExp(`${ep} /3/0/99: .*4\\.04 Not Found`));
    });

    test('unknown endpoint', async () => {
      const e = await fails('obs', { endpoint: 'ghost', topic: '/3/0/0' });
      assert.match(e.message, /ghost/);
      assert.match(e.message, /no such registered device/);
    });

    test('bad path', async () => {
      const e = await fails('obs', { endpoint: ep, topic: '/3/x' });
      assert.match(e.message, /invalid LwM2M path "\/3\/x"/);
    });

    test('a device that answers without the Observe option', async () => {
      const e = await fails('obs', { endpoint: raw.endpoint, topic: '/3/0/0' });
      assert.match(e.message, new RegExp(raw.endpoint));
      assert.match(e.message, /without an Observe option/);
    });

    test('a device that does not answer', async () => {
      const e = await fails('obs', { endpoint: raw.endpoint, topic: '/3/0/1' });
      assert.match(e.message, /no answer within/);
    });
  });
});

describe('observe node, auto-observe on registration', () => {
  const wanted = endpointName('wanted');
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab', label: 'auto' },
    serverConfig('srv'),
    { id: 'auto', type: 'lwm2m-observe', z: 'tab', server: 'srv', endpoint: '', path: '/3303/0/5700', onRegister: true, wires: [['out']] },
    { id: 'one', type: 'lwm2m-observe', z: 'tab', server: 'srv', endpoint: wanted, path: '/3/0/9', onRegister: true, wires: [['outOne']] },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'outOne', type: 'helper', z: 'tab' },
  ];
  const devices: Lwm2mClient[] = [];

  before(() => load(flow));
  after(async () => {
    await closeAll(...devices);
    await helper.unload();
  });

  test('devices that register after the deploy are observed without a message', async () => {
    const port = (await serverNodeOf('srv')).server.address().port;
    const firsts = messages(n('out'), 2, (m) => details(m).initial);
    const a = await startDevice(port);
    const b = await startDevice(port);
    devices.push(a, b);
    const got = await firsts;
    assert.deepEqual(got.map((m) => m.endpoint).sort(), [a.endpointName, b.endpointName].sort());
    assert.ok(got.every((m) => m.payload === 21.5 && m.topic === '/3303/0/5700'));
    const fromB = nextMessage(n('out'), (m) => m.endpoint === b.endpointName);
    b.set('/3303/0/5700', 5);
    assert.equal((await fromB).payload, 5);
  });

  test('with an endpoint set, only that device is observed', async () => {
    const port = (await serverNodeOf('srv')).server.address().port;
    const seen = collect(n('outOne'));
    const first = nextMessage(n('outOne'));
    const c = await startDevice(port, { endpoint: wanted });
    devices.push(c);
    const m = await first;
    assert.equal(m.endpoint, wanted);
    assert.equal(m.payload, 87);
    const otherEp = endpointName('other');
    const seenByAll = nextMessage(n('out'), (x) => x.endpoint === otherEp);
    devices.push(await startDevice(port, { endpoint: otherEp }));
    await seenByAll; // the catch-all node observed it
    seen.stop();
    assert.deepEqual(seen.list.map((x) => x.endpoint), [wanted]);
  });

  test('a device that registers again is observed again (its observations ended, Core 6.2.1)', async () => {
    const port = (await serverNodeOf('srv')).server.address().port;
    const ep = endpointName('again');
    const firstTime = nextMessage(n('out'), (m) => m.endpoint === ep && details(m).initial);
    const d1 = await startDevice(port, { endpoint: ep });
    await firstTime;
    await d1.stop();
    const again = nextMessage(n('out'), (m) => m.endpoint === ep && details(m).initial);
    const d2 = await startDevice(port, { endpoint: ep });
    devices.push(d2);
    await again;
    d2.set('/3303/0/5700', 7);
    await nextMessage(n('out'), (m) => m.endpoint === ep && m.payload === 7);
  });

  test('an auto-observe that fails reaches a Catch node with the endpoint and path', async () => {
    const flow2: FlowNode[] = [
      ...flow,
      { id: 'bad', type: 'lwm2m-observe', z: 'tab', server: 'srv', endpoint: '', path: '/3/0/99', onRegister: true, wires: [[]] },
      { id: 'catch', type: 'catch', z: 'tab', scope: ['bad'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
    await deploy(flow2, 'nodes');
    const port = (await serverNodeOf('srv')).server.address().port;
    // Devices registered before the deploy are observed at once too; the one that registers now as well.
    const early = await nextMessage(n('caught'));
    assert.match((early as NodeMessage & { error: { message: string } }).error.message, /\/3\/0\/99: .*4\.04/);
    const late = endpointName('late');
    const c = nextMessage(n('caught'), (m) => m.endpoint === late);
    const d = await startDevice(port, { endpoint: late });
    devices.push(d);
    const m = await c as NodeMessage & { error: { message: string } };
    assert.match(m.error.message, new RegExp(`${d.endpointName} /3/0/99: .*4\\.04`));
    assert.equal(m.endpoint, d.endpointName);
  });
});
