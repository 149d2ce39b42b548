/**
 * What a user reads on the operation nodes: status texts in words ("read ok", "not found", "device asleep") with the
 * CoAP code in msg.lwm2m.code (also on the message a Catch node gets); IPv4 peers of a dual-stack socket shown as
 * IPv4; and the request node's "list" operation over a fleet of our own clients (src/client).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Lwm2mClient } from '../../src/client';
import { QueueTimeoutError, QueueFullError } from '../../src/server/errors';
import { CoapResponseError, TimeoutError } from '../../src/errors';
import { RawDevice } from '../helpers/raw-device';
import type { NodeMessage } from '../../nodes/lib/red';
import type { DeviceSummary } from '../../nodes/lib/operations';
import { endpointGlob } from '../../nodes/lib/operations';
import { displayAddress, shortError } from '../../nodes/lib/util';
import {
  helper, load, serverConfig, serverNodeOf, startDevice, nextMessage, messages, caught, nextStatus, FlowNode, TestNode,
  closeAll, waitFor, endpointName, sleep,
} from './helper';

const n = (id: string) => helper.getNode(id) as TestNode;
type Lwm2mDetails = { code?: string; error?: string; operation?: string; count?: number; index?: number };
const details = (m: NodeMessage) => m.lwm2m as Lwm2mDetails;

describe('status texts a user understands, the code in msg.lwm2m', () => {
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab', label: 'status' },
    serverConfig('srv', { requestTimeout: 1, queueAwakeTime: 0.3 }),
    { id: 'read', type: 'lwm2m-read', z: 'tab', server: 'srv', endpoint: '', path: '', wires: [['out']] },
    { id: 'write', type: 'lwm2m-write', z: 'tab', server: 'srv', endpoint: '', path: '', mode: 'replace', wires: [['out']] },
    { id: 'exec', type: 'lwm2m-execute', z: 'tab', server: 'srv', endpoint: '', path: '', args: '', wires: [['out']] },
    { id: 'req', type: 'lwm2m-request', z: 'tab', server: 'srv', endpoint: '', path: '', operation: '', wires: [['out']] },
    { id: 'catch', type: 'catch', z: 'tab', scope: ['read', 'write', 'exec', 'req'], uncaught: false, wires: [['caughtOut']] },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'caughtOut', type: 'helper', z: 'tab' },
  ];
  let device: Lwm2mClient;
  let raw: RawDevice | undefined;
  let ep: string;

  before(async () => {
    await load(flow);
    device = await startDevice((await serverNodeOf('srv')).server.address().port);
    ep = device.endpointName;
  });
  after(async () => {
    await closeAll(device, raw);
    await helper.unload();
  });

  /** Sends msg into node; resolves with the status that follows (not the blue "busy" one) and the output message. */
  async function outcome(node: string, msg: Record<string, unknown>, out = 'out') {
    // Not the blue "busy" status, nor the server's device count fanned out when a device registers.
    const status = nextStatus(n(node), (s) => (s.fill === 'green' || s.fill === 'red') && !/^\d+ devices?$/.test(s.text ?? ''));
    const got = nextMessage(n(out));
    n(node).receive(msg);
    return { status: await status, msg: await got };
  }

  test('successes: read ok, write ok, execute ok, created, deleted; msg.lwm2m.code is the device\'s answer', async () => {
    const r = await outcome('read', { endpoint: ep, topic: '/3/0/1' });
    assert.deepEqual([r.status.text, r.status.fill], ['read ok', 'green']);
    assert.equal(details(r.msg).code, '2.05');
    assert.equal(r.msg.payload, 'FW-1');

    const w = await outcome('write', { endpoint: ep, topic: '/3311/0/5851', payload: 33 });
    assert.equal(w.status.text, 'write ok');
    assert.equal(details(w.msg).code, '2.04');

    const x = await outcome('exec', { endpoint: ep, topic: '/3/0/4' });
    assert.equal(x.status.text, 'execute ok');
    assert.equal(details(x.msg).code, '2.04');

    const a = await outcome('req', { operation: 'write-attributes', endpoint: ep, topic: '/3303/0/5700', payload: { pmin: 1 } });
    assert.equal(a.status.text, 'write-attributes ok');
    assert.equal(details(a.msg).code, '2.04');

    const c = await outcome('req', { operation: 'create', endpoint: ep, topic: '/3303/5', payload: { 5700: 1 } });
    assert.equal(c.status.text, 'created /3303/5');
    assert.equal(details(c.msg).code, '2.01');
    const d = await outcome('req', { operation: 'delete', endpoint: ep, topic: '/3303/5' });
    assert.equal(d.status.text, 'deleted');
    assert.equal(details(d.msg).code, '2.02');
  });

  test('4.04: status "not found", the Catch node\'s msg carries code 4.04', async () => {
    const r = await outcome('read', { endpoint: ep, topic: '/3/0/99' }, 'caughtOut');
    assert.deepEqual([r.status.text, r.status.fill], ['not found', 'red']);
    assert.equal(details(r.msg).code, '4.04');
    assert.equal(details(r.msg).error, 'COAP_4.04');
    assert.match((r.msg as { error: { message: string } }).error.message, /4\.04 Not Found/, 'the error message keeps the code');
  });

  test('4.05 on a read-only resource: status "not allowed", code 4.05', async () => {
    const r = await outcome('write', { endpoint: ep, topic: '/3303/0/5700', payload: 30 }, 'caughtOut');
    assert.equal(r.status.text, 'not allowed');
    assert.equal(details(r.msg).code, '4.05');
  });

  test('a device that does not answer: status "timeout", msg.lwm2m.error TIMEOUT and no CoAP code', async () => {
    raw = await RawDevice.create({ endpoint: endpointName('mute'), serverPort: (await serverNodeOf('srv')).server.address().port, links: '</3/0>' });
    raw.on('GET', '/3/0/0', null);
    assert.equal((await raw.register(['lt=300', 'lwm2m=1.1', 'b=U'])).code, '2.01');
    const r = await outcome('read', { endpoint: raw.endpoint, topic: '/3/0/0' }, 'caughtOut');
    assert.equal(r.status.text, 'timeout');
    assert.equal(details(r.msg).error, 'TIMEOUT');
    assert.equal(details(r.msg).code, undefined);
    await raw.deregister();
    await raw.close();
    raw = undefined;
  });

  test('a sleeping queue-mode device whose queue is full: status "device asleep, queue full"', async () => {
    const srv = await serverNodeOf('srv');
    raw = await RawDevice.create({ endpoint: endpointName('sleepy'), serverPort: srv.server.address().port, links: '</3/0>' });
    assert.equal((await raw.register(['lt=300', 'lwm2m=1.1', 'b=U', 'Q'])).code, '2.01');
    await waitFor(() => !srv.server.isAwake(raw!.endpoint), 5000, 'the device to fall asleep');
    // The server queues 20 requests per sleeping device (its default); the next one is refused at once.
    const queued = Array.from({ length: 20 }, () => srv.server.read(raw!.endpoint, '/3/0/0').catch((e: Error) => e));
    const r = await outcome('read', { endpoint: raw.endpoint, topic: '/3/0/0' }, 'caughtOut');
    assert.deepEqual([r.status.text, r.status.fill], ['device asleep, queue full', 'red']);
    assert.equal(details(r.msg).error, 'QUEUE_FULL');
    await raw.deregister(); // the queued reads end as cancelled
    for (const e of await Promise.all(queued)) assert.equal((e as { code?: string }).code, 'CANCELLED');
    await raw.close();
    raw = undefined;
  });

  test('every error class the library throws reads as words', () => {
    assert.equal(shortError(new QueueTimeoutError('read /3/0/0', 1000)), 'device asleep');
    assert.equal(shortError(new QueueFullError('read /3/0/0', 20)), 'device asleep, queue full');
    assert.equal(shortError(new TimeoutError('read /3/0/0', 1000)), 'timeout');
    assert.equal(shortError(new CoapResponseError('4.04', 'read /3/0/9')), 'not found');
    assert.equal(shortError(new CoapResponseError('4.01', 'read /3/0/9')), 'unauthorized');
    assert.equal(shortError(new CoapResponseError('4.15', 'write /3/0/9')), 'format not supported');
    assert.equal(shortError(new CoapResponseError('5.00', 'read /3/0/9')), 'device error');
    assert.equal(shortError(new CoapResponseError('4.99', 'read /3/0/9')), 'error 4.99', 'an unnamed code still shows');
    for (const s of [shortError(new CoapResponseError('4.00', 'x')), shortError(new CoapResponseError('5.03', 'x'))]) {
      assert.doesNotMatch(s, /\d\.\d\d/, `no CoAP code in "${s}"`);
    }
  });
});

describe('IPv4-mapped peers are shown as IPv4', () => {
  // An IPv6 socket bound to the IPv4-mapped loopback address: IPv4 peers arrive as ::ffff:127.0.0.1, as they do on a
  // server listening on '::' (the default), but without listening beyond loopback.
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab', label: 'mapped' },
    serverConfig('srv6', { address: '::ffff:127.0.0.1' }),
    { id: 'ev', type: 'lwm2m-events', z: 'tab', server: 'srv6', endpoint: '', events: ['registered'], wires: [['evOut']] },
    { id: 'list', type: 'lwm2m-request', z: 'tab', server: 'srv6', endpoint: '', path: '', operation: 'list', wires: [['listOut']] },
    { id: 'evOut', type: 'helper', z: 'tab' },
    { id: 'listOut', type: 'helper', z: 'tab' },
  ];
  let device: Lwm2mClient | undefined;
  before(() => load(flow));
  after(async () => {
    await closeAll(device);
    await helper.unload();
  });

  test('registration event payload and list payload: 127.0.0.1, while the library keeps the raw address', async () => {
    const srv = await serverNodeOf('srv6');
    const registered = nextMessage(n('evOut'));
    device = await startDevice(srv.server.address().port);
    const ev = await registered;
    assert.equal(srv.server.getRegistration(device.endpointName)!.address, '::ffff:127.0.0.1', 'the peer really is IPv4-mapped');
    assert.equal((ev.payload as { address: string }).address, '127.0.0.1');
    const listed = nextMessage(n('listOut'));
    n('list').receive({});
    const devices = (await listed).payload as DeviceSummary[];
    assert.equal(devices.length, 1);
    assert.equal(devices[0].address, '127.0.0.1');
  });

  test('displayAddress: only IPv4-mapped addresses change', () => {
    assert.equal(displayAddress('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(displayAddress('::FFFF:192.168.0.1'), '192.168.0.1');
    assert.equal(displayAddress('::1'), '::1');
    assert.equal(displayAddress('2001:db8::ffff:1.2.3.4'), '2001:db8::ffff:1.2.3.4');
    assert.equal(displayAddress('127.0.0.1'), '127.0.0.1');
  });
});

describe('request node: list the registered devices', () => {
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab', label: 'list' },
    serverConfig('srvL'),
    { id: 'list', type: 'lwm2m-request', z: 'tab', server: 'srvL', endpoint: '', path: '', operation: 'list', wires: [['listOut']] },
    { id: 'any', type: 'lwm2m-request', z: 'tab', server: 'srvL', endpoint: '', path: '', operation: '', wires: [['listOut']] },
    // The fleet pattern: list with one message per device, each into a read node with no endpoint of its own.
    { id: 'split', type: 'lwm2m-request', z: 'tab', server: 'srvL', endpoint: '', path: '/3', operation: 'list', split: true, wires: [['battery', 'splitOut']] },
    { id: 'battery', type: 'lwm2m-read', z: 'tab', server: 'srvL', endpoint: '', path: '/3/0/9', wires: [['batteryOut']] },
    { id: 'listOut', type: 'helper', z: 'tab' },
    { id: 'splitOut', type: 'helper', z: 'tab' },
    { id: 'batteryOut', type: 'helper', z: 'tab' },
  ];
  let a: Lwm2mClient;
  let b: Lwm2mClient;

  before(async () => {
    await load(flow);
    const port = (await serverNodeOf('srvL')).server.address().port;
    a = await startDevice(port, { endpoint: endpointName('fleet-a'), device: { manufacturer: 'Fleetwire', batteryLevel: 87 } });
    b = await startDevice(port, {
      endpoint: endpointName('fleet-b'),
      objects: { 3303: { 0: { 5700: 19, 5701: 'Cel' } } },
      device: { manufacturer: 'Fleetwire', batteryLevel: 41 },
      queueMode: true,
      version: '1.0',
    });
  });
  after(async () => {
    await closeAll(a, b);
    await helper.unload();
  });

  async function list(node: string, msg: Record<string, unknown> = {}): Promise<NodeMessage> {
    const got = nextMessage(n('listOut'));
    n(node).receive(msg);
    return got;
  }

  test('one message: both devices, sorted, with version, binding, objects, lastSeen, queueMode, address', async () => {
    const status = nextStatus(n('list'), (s) => /listed$/.test(s.text ?? ''));
    const m = await list('list', { payload: Date.now() });
    const devices = m.payload as DeviceSummary[];
    assert.deepEqual(devices.map((d) => d.endpoint), [a.endpointName, b.endpointName]);
    const [da, db] = devices;
    assert.equal(da.version, '1.1');
    assert.equal(db.version, '1.0');
    assert.equal(da.queueMode, false);
    assert.equal(db.queueMode, true);
    assert.match(db.binding, /U/);
    for (const o of ['/1/0', '/3/0', '/3303/0', '/3311/0', '/3311/1']) assert.ok(da.objects.includes(o), `${o} in ${da.objects.join(' ')}`);
    assert.ok(db.objects.includes('/3303/0'));
    assert.ok(!db.objects.some((o) => o.startsWith('/3311')), db.objects.join(' '));
    assert.equal(da.address, '127.0.0.1');
    assert.equal(da.port, a.address()?.port ?? da.port);
    assert.ok(da.lastSeen instanceof Date && Math.abs(da.lastSeen.getTime() - Date.now()) < 600_000);
    assert.equal(details(m).count, 2);
    assert.equal(details(m).operation, 'list');
    assert.equal(m.topic, 'list');
    assert.equal((await status).text, '2 devices listed');
  });

  test('filters: endpoint glob and an object the devices must have', async () => {
    const byGlob = (await list('any', { operation: 'list', endpoint: '*fleet-b-*' })).payload as DeviceSummary[];
    assert.deepEqual(byGlob.map((d) => d.endpoint), [b.endpointName]);
    const byObject = (await list('any', { operation: 'list', topic: '/3311' })).payload as DeviceSummary[];
    assert.deepEqual(byObject.map((d) => d.endpoint), [a.endpointName]);
    const byInstance = (await list('any', { operation: 'list', topic: '/3311/1' })).payload as DeviceSummary[];
    assert.deepEqual(byInstance.map((d) => d.endpoint), [a.endpointName]);
    const none = await list('any', { operation: 'list', endpoint: 'nobody-*' });
    assert.deepEqual(none.payload, []);
    assert.equal(details(none).count, 0);
  });

  test('a resource path as filter is refused clearly', async () => {
    const err = new Promise<Error>((resolve) => n('any').once('call:error', (c: { args: unknown[] }) => resolve(c.args[0] as Error)));
    n('any').receive({ operation: 'list', topic: '/3/0/9' });
    assert.match(String((await err).message ?? await err), /list filters by an object \/O or an instance \/O\/I, not \/3\/0\/9/);
  });

  test('one message per device: msg.endpoint set, so a read node downstream reads every battery', async () => {
    const split = messages(n('splitOut'), 2);
    const batteries = messages(n('batteryOut'), 2);
    n('split').receive({ payload: 'hourly' });
    const got = await split;
    assert.deepEqual(got.map((m) => m.endpoint).sort(), [a.endpointName, b.endpointName].sort());
    assert.deepEqual(got.map((m) => (m.payload as DeviceSummary).endpoint), got.map((m) => m.endpoint));
    assert.deepEqual(got.map((m) => details(m).index), [0, 1]);
    assert.notEqual(got[0], got[1], 'separate message objects');
    // b is in queue mode: its read goes out while it is awake after registering, or waits for its next update.
    const levels = new Map((await batteries).map((m) => [m.endpoint as string, m.payload]));
    assert.equal(levels.get(a.endpointName), 87);
    assert.equal(levels.get(b.endpointName), 41);
  });

  test('endpointGlob: * and ? only, everything else literal', () => {
    assert.ok(endpointGlob('sensor-*')('sensor-12'));
    assert.ok(!endpointGlob('sensor-*')('xsensor-12'));
    assert.ok(endpointGlob('dev-?')('dev-7'));
    assert.ok(!endpointGlob('dev-?')('dev-17'));
    assert.ok(endpointGlob('a.b*')('a.bc'));
    assert.ok(!endpointGlob('a.b*')('axbc'), 'a dot is a dot');
    assert.ok(endpointGlob('exact')('exact'));
    assert.ok(!endpointGlob('exact')('exactly'));
  });

  test('a device leaving is gone from the next list', async () => {
    await b.stop();
    await waitFor(async () => ((await list('list')).payload as DeviceSummary[]).length === 1, 5000, 'b to leave the list');
    await sleep(0);
  });
});
