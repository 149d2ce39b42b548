/**
 * lwm2m-events: one message per registration event (registered, updated, deregistered, expired, sleeping, awake) with
 * the registration as payload, and the values devices push with Send (Core 1.1 6.4.1.2, POST /dp). Devices: our client
 * and the raw device (Register / Update / Send written by hand).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Lwm2mClient } from '../../src/client';
import { RawDevice } from '../helpers/raw-device';
import type { NodeMessage } from '../../nodes/lib/red';
import {
  helper, load, deploy, serverConfig, serverNodeOf, startDevice, nextMessage, collect, sleep, FlowNode, TestNode, closeAll,
  endpointName, nextStatus,
} from './helper';

const n = (id: string) => helper.getNode(id) as TestNode;
type RegPayload = Record<string, unknown> & { objects: Record<string, { instances: number[]; version?: string }> };

describe('events node', () => {
  const only = endpointName('only');
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab', label: 'events' },
    // Queue mode devices count as sleeping 0.3 s after their last message.
    serverConfig('srv', { queueAwakeTime: 0.3 }),
    { id: 'all', type: 'lwm2m-events', z: 'tab', server: 'srv', endpoint: '', wires: [['out']] },
    { id: 'filtered', type: 'lwm2m-events', z: 'tab', server: 'srv', endpoint: only, events: ['registered'], wires: [['outFiltered']] },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'outFiltered', type: 'helper', z: 'tab' },
  ];
  let port: number;
  const opened: Array<Lwm2mClient | RawDevice> = [];

  before(async () => {
    await load(flow);
    port = (await serverNodeOf('srv')).server.address().port;
  });
  after(async () => {
    await closeAll(...opened);
    await helper.unload();
  });

  const of = (ep: string, topic: string) => (m: NodeMessage) => m.endpoint === ep && m.topic === topic;

  test('registered, with the registration as payload; the status counts devices', async () => {
    const ep = endpointName('reg');
    const got = nextMessage(n('out'), of(ep, 'registered'));
    const status = nextStatus(n('all'), (s) => /^\d+ devices?$/.test(s.text ?? '') && s.fill === 'green');
    const device = await startDevice(port, { endpoint: ep, lifetime: 120 });
    opened.push(device);
    const m = await got;
    const p = m.payload as RegPayload;
    assert.equal(p.endpoint, ep);
    assert.equal(p.lifetime, 120);
    assert.equal(p.binding, 'U');
    assert.equal(p.version, '1.1');
    assert.equal(p.queueMode, false);
    assert.equal(p.address, '127.0.0.1');
    assert.equal(typeof p.port, 'number');
    assert.equal(p.security, 'nosec');
    assert.ok(p.registeredAt instanceof Date);
    assert.ok(p.expiresAt instanceof Date);
    assert.ok((p.expiresAt as Date).getTime() > (p.registeredAt as Date).getTime());
    assert.deepEqual(p.objects[3303].instances, [0]);
    assert.deepEqual(p.objects[3311].instances, [0, 1]);
    assert.ok(typeof p.id === 'string' && p.id.length > 0);
    assert.ok(await status);
  });

  test('updated (with what changed) and deregistered, from the raw device', async () => {
    const raw = await RawDevice.create({ endpoint: endpointName('raw'), serverPort: port, links: '</1/0>,</3/0>' });
    opened.push(raw);
    const registered = nextMessage(n('out'), of(raw.endpoint, 'registered'));
    assert.equal((await raw.register(['lt=300', 'lwm2m=1.0'])).code, '2.01');
    assert.equal(((await registered).payload as RegPayload).version, '1.0');

    const updated = nextMessage(n('out'), of(raw.endpoint, 'updated'));
    assert.equal((await raw.update(['lt=600'], '</1/0>,</3/0>,</3303/0>,</3303/1>')).code, '2.04');
    const u = await updated;
    assert.equal((u.payload as RegPayload).lifetime, 600);
    assert.deepEqual((u.payload as RegPayload).objects[3303].instances, [0, 1]);
    const changes = (u.lwm2m as { changes: Record<string, unknown> }).changes;
    assert.equal(changes.lifetime, 600);
    assert.ok('objectLinks' in changes);

    const gone = nextMessage(n('out'), of(raw.endpoint, 'deregistered'));
    assert.equal((await raw.deregister()).code, '2.02');
    assert.equal(((await gone).payload as RegPayload).endpoint, raw.endpoint);
  });

  test('deregistered when our client stops', async () => {
    const device = await startDevice(port);
    const gone = nextMessage(n('out'), of(device.endpointName, 'deregistered'));
    await device.stop();
    assert.equal((await gone).endpoint, device.endpointName);
  });

  test('expired: a device that does not update within its lifetime', async () => {
    const raw = await RawDevice.create({ endpoint: endpointName('short'), serverPort: port });
    opened.push(raw);
    const expired = nextMessage(n('out'), of(raw.endpoint, 'expired'), 15000);
    assert.equal((await raw.register(['lt=1'])).code, '2.01');
    assert.equal((await expired).topic, 'expired');
  });

  test('sleeping and awake for a queue mode device', async () => {
    const raw = await RawDevice.create({ endpoint: endpointName('queue'), serverPort: port });
    opened.push(raw);
    const sleeping = nextMessage(n('out'), of(raw.endpoint, 'sleeping'));
    assert.equal((await raw.register(['lt=300', 'lwm2m=1.1', 'b=U', 'Q'])).code, '2.01');
    assert.equal(((await sleeping).payload as RegPayload).queueMode, true);
    const awake = nextMessage(n('out'), of(raw.endpoint, 'awake'));
    await raw.update();
    assert.equal((await awake).endpoint, raw.endpoint);
  });

  test('send: the values our client pushes', async () => {
    const device = await startDevice(port);
    opened.push(device);
    const sent = nextMessage(n('out'), of(device.endpointName, 'send'));
    await device.send(['/3303/0/5700', '/3311/0/5850']);
    const m = await sent;
    assert.deepEqual(m.payload, { '/3303/0/5700': 21.5, '/3311/0/5850': device.get('/3311/0/5850') });
    const records = (m.lwm2m as { records: Array<{ path: string }> }).records;
    assert.deepEqual(records.map((r) => r.path).sort(), ['/3303/0/5700', '/3311/0/5850']);
  });

  test('send from the raw device: SenML JSON with a timestamp, written by hand', async () => {
    const raw = await RawDevice.create({ endpoint: endpointName('rawsend'), serverPort: port, links: '</1/0>,</3/0>,</3303/0>' });
    opened.push(raw);
    assert.equal((await raw.register(['lt=300', 'lwm2m=1.1'])).code, '2.01');
    const sent = nextMessage(n('out'), of(raw.endpoint, 'send'));
    const res = await raw.send('[{"bn":"/3303/0/","bt":1700000000,"n":"5700","v":-3.5}]', 110);
    assert.equal(res.code, '2.04');
    const m = await sent;
    assert.deepEqual(m.payload, { '/3303/0/5700': -3.5 });
    const records = (m.lwm2m as { records: Array<{ path: string; time?: number }> }).records;
    assert.equal(records[0].time, 1700000000);
  });

  test('a redeploy of the events node leaves no listener behind: one message per event', async () => {
    for (const name of ['once', 'twice']) await deploy(flow.map((x) => (x.id === 'all' ? { ...x, name } : x)), 'nodes');
    const ep = endpointName('dedup');
    const seen = collect(n('out'));
    const got = nextMessage(n('out'), of(ep, 'registered'));
    const device = await startDevice(port, { endpoint: ep });
    opened.push(device);
    await got;
    await sleep(100);
    seen.stop();
    assert.equal(seen.list.filter(of(ep, 'registered')).length, 1);
  });

  test('an endpoint filter and an event selection', async () => {
    const seen = collect(n('outFiltered'));
    const got = nextMessage(n('outFiltered'));
    const other = await startDevice(port);
    const mine = await startDevice(port, { endpoint: only });
    opened.push(other, mine);
    const m = await got;
    assert.equal(m.endpoint, only);
    assert.equal(m.topic, 'registered');
    await mine.stop();
    await sleep(100);
    seen.stop();
    assert.deepEqual(seen.list.map((x) => `${x.topic} ${x.endpoint}`), [`registered ${only}`]);
  });
});
