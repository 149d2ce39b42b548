/**
 * lwm2m-read, lwm2m-write and lwm2m-execute in a flow, against our embedded client over real UDP and against the raw
 * device (dgram + coap-packet): typed values out, instance reads keyed by id and by name, write replace / update,
 * execute arguments reaching the device, and every error reaching done(err) (a Catch node gets it) with a message that
 * names the endpoint, the path and the CoAP code.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Lwm2mClient, ExecuteEvent } from '../../src/client';
import { RawDevice } from '../helpers/raw-device';
import {
  helper, load, deploy, serverConfig, serverNodeOf, startDevice, startRawDevice, nextMessage, nextError, caught, nextStatus,
  FlowNode, TestNode, closeAll, waitFor, endpointName,
} from './helper';

const flow: FlowNode[] = [
  { id: 'tab', type: 'tab', label: 'rwx' },
  serverConfig('srv', { requestTimeout: 1.5 }),
  { id: 'read', type: 'lwm2m-read', z: 'tab', server: 'srv', endpoint: '', path: '', format: '', keys: 'id', wires: [['readOut']] },
  { id: 'readNames', type: 'lwm2m-read', z: 'tab', server: 'srv', endpoint: '', path: '', keys: 'name', wires: [['readOut']] },
  { id: 'write', type: 'lwm2m-write', z: 'tab', server: 'srv', endpoint: '', path: '', mode: 'replace', wires: [['writeOut']] },
  { id: 'exec', type: 'lwm2m-execute', z: 'tab', server: 'srv', endpoint: '', path: '/3/0/4', args: '', wires: [['execOut']] },
  { id: 'execAny', type: 'lwm2m-execute', z: 'tab', server: 'srv', endpoint: '', path: '', args: '', wires: [['execOut']] },
  { id: 'catch', type: 'catch', z: 'tab', scope: ['read', 'write', 'exec', 'execAny'], uncaught: false, wires: [['caughtOut']] },
  { id: 'readOut', type: 'helper', z: 'tab' },
  { id: 'writeOut', type: 'helper', z: 'tab' },
  { id: 'execOut', type: 'helper', z: 'tab' },
  { id: 'caughtOut', type: 'helper', z: 'tab' },
];

const n = (id: string) => helper.getNode(id) as TestNode;

describe('read, write, execute nodes', () => {
  let device: Lwm2mClient;
  let raw: RawDevice;
  let ep: string;

  before(async () => {
    await load(flow);
    const srv = await serverNodeOf('srv');
    const port = srv.server.address().port;
    device = await startDevice(port);
    ep = device.endpointName;
    raw = await startRawDevice(port, '</1/0>,</3/0>,</6/0>,</3303/0>');
    // The raw device answers by hand: text/plain (0) and opaque (42) bodies, a 4.05, and one request it never answers.
    raw.on('GET', '/3303/0/5700', { code: '2.05', format: 0, payload: '-4.25' });
    raw.on('GET', '/6/0/4', { code: '2.05', format: 42, payload: Buffer.from([0x01, 0x02, 0xfe, 0xff]) });
    raw.on('GET', '/3/0/1', null);
    raw.on('PUT', '/3303/0/5700', { code: '4.05' });
  });

  after(async () => {
    await closeAll(device, raw);
    await helper.unload();
  });

  async function run(node: string, msg: Record<string, unknown>, out = 'readOut') {
    const got = nextMessage(n(out));
    n(node).receive(msg);
    return got;
  }

  test('read gives a number, a string, a boolean and a Date, with topic, endpoint and lwm2m details', async () => {
    const num = await run('read', { endpoint: ep, topic: '/3303/0/5700' });
    assert.equal(num.payload, 21.5);
    assert.equal(num.topic, '/3303/0/5700');
    assert.equal(num.endpoint, ep);
    const details = num.lwm2m as { endpoint: string; operation: string; path: string; code: string; format: number };
    assert.equal(details.endpoint, ep);
    assert.equal(details.operation, 'read');
    assert.equal(details.code, '2.05');
    assert.equal(typeof details.format, 'number');

    assert.equal((await run('read', { endpoint: ep, topic: '/3/0/0' })).payload, 'Fleetwire');
    assert.equal((await run('read', { endpoint: ep, topic: '/3311/0/5850' })).payload, true);
    assert.equal((await run('read', { endpoint: ep, topic: '/3311/1/5850' })).payload, false);
    assert.equal((await run('read', { endpoint: ep, topic: '/3/0/9' })).payload, 87);
    const time = (await run('read', { endpoint: ep, topic: '/3/0/13' })).payload;
    assert.ok(time instanceof Date, `current time is a Date, got ${typeof time}`);
    assert.ok(Math.abs((time as Date).getTime() - Date.now()) < 3600_000);
  });

  test('read from the raw device: text/plain number and opaque Buffer (an independent CoAP stack)', async () => {
    const num = await run('read', { endpoint: raw.endpoint, topic: '/3303/0/5700' });
    assert.equal(num.payload, -4.25);
    const bin = await run('read', { endpoint: raw.endpoint, topic: '/6/0/4' });
    assert.ok(Buffer.isBuffer(bin.payload));
    assert.deepEqual(bin.payload, Buffer.from([0x01, 0x02, 0xfe, 0xff]));
    assert.equal((bin.lwm2m as { format: number }).format, 42);
  });

  test('the node setting wins over msg.endpoint and msg.topic; a format can be asked for', async () => {
    const flow2: FlowNode[] = flow.map((x) => (x.id === 'read' ? { ...x, endpoint: ep, path: '/3303/0/5701', format: '11542' } : x));
    // Replace just the read node (the server keeps running: a "nodes" deploy).
    await deploy(flow2, 'nodes');
    const got = await run('read', { endpoint: 'someone-else', topic: '/3/0/0' });
    assert.equal(got.payload, 'Cel');
    assert.equal(got.endpoint, ep);
    assert.equal(got.topic, '/3303/0/5701');
    assert.equal((got.lwm2m as { format: number }).format, 11542, 'TLV asked for, TLV answered');
    await deploy(flow, 'nodes');
  });

  test('an instance read is keyed by resource id, or by resource name with keys: name', async () => {
    const byId = await run('read', { endpoint: ep, topic: '/3303/0' });
    assert.deepEqual(byId.payload, { 5700: 21.5, 5701: 'Cel' });
    const byName = await run('readNames', { endpoint: ep, topic: '/3303/0' });
    assert.deepEqual(byName.payload, { 'Sensor Value': 21.5, 'Sensor Units': 'Cel' });
    const objectByName = await run('readNames', { endpoint: ep, topic: '/3311' });
    assert.deepEqual(objectByName.payload, {
      0: { 'On/Off': true, Dimmer: 50 },
      1: { 'On/Off': false, Dimmer: 10 },
    });
  });

  test('write replace of a resource changes the device; msg.payload and topic come back', async () => {
    const got = await run('write', { endpoint: ep, topic: '/3311/0/5851', payload: 42 }, 'writeOut');
    assert.equal(got.payload, 42);
    assert.equal(got.topic, '/3311/0/5851');
    assert.equal((got.lwm2m as { mode: string }).mode, 'replace');
    assert.equal(device.get('/3311/0/5851'), 42);
    await run('write', { endpoint: ep, topic: '/3311/0/5850', payload: false }, 'writeOut');
    assert.equal(device.get('/3311/0/5850'), false);
  });

  test('write update (msg.mode) changes only the given resources of an instance', async () => {
    device.set('/3311/1/5850', true);
    const got = await run('write', { endpoint: ep, topic: '/3311/1', payload: { 5851: 77 }, mode: 'update' }, 'writeOut');
    assert.equal((got.lwm2m as { mode: string }).mode, 'update');
    assert.equal(device.get('/3311/1/5851'), 77);
    assert.equal(device.get('/3311/1/5850'), true, 'the resource not written is kept');
  });

  test('write replace of an instance by resource names', async () => {
    await run('write', { endpoint: ep, topic: '/3311/1', payload: { 'On/Off': false, Dimmer: 5 } }, 'writeOut');
    assert.equal(device.get('/3311/1/5850'), false);
    assert.equal(device.get('/3311/1/5851'), 5);
  });

  test('execute with the node\'s path and the arguments of msg.payload reaching the device', async () => {
    const executed = new Promise<ExecuteEvent>((resolve) => device.once('execute', resolve));
    const got = await run('exec', { endpoint: ep, payload: "0='now',1" }, 'execOut');
    const ev = await executed;
    assert.equal(ev.path, '/3/0/4');
    assert.equal(ev.raw, "0='now',1");
    assert.deepEqual(ev.args.map((a) => [a.id, a.value]), [[0, 'now'], [1, undefined]]);
    assert.equal(got.topic, '/3/0/4');
    assert.equal((got.lwm2m as { args: string }).args, "0='now',1");
  });

  test('execute without arguments', async () => {
    const executed = new Promise<ExecuteEvent>((resolve) => device.once('execute', resolve));
    await run('exec', { endpoint: ep }, 'execOut');
    const ev = await executed;
    assert.equal(ev.raw, '');
  });

  test('execute from an inject node\'s default timestamp payload sends no arguments', async () => {
    const executed = new Promise<ExecuteEvent>((resolve) => device.once('execute', resolve));
    await run('exec', { endpoint: ep, payload: Date.now() }, 'execOut');
    const ev = await executed;
    assert.equal(ev.raw, '');
  });

  describe('errors reach done(err) and a Catch node, with a message a person understands', () => {
    async function fails(node: string, msg: Record<string, unknown>) {
      const err = nextError(n(node));
      const c = caught(n('caughtOut'));
      n(node).receive(msg);
      const [e, m] = await Promise.all([err, c]);
      assert.ok(m.error.message.endsWith(e.error.message), `the catch node sees the same error: ${m.error.message}`);
      assert.equal(m.error.source.id, node);
      return e.error;
    }

    test('unknown endpoint', async () => {
      const e = await fails('read', { endpoint: 'nobody-here', topic: '/3/0/0' });
      assert.match(e.message, /nobody-here/);
      assert.match(e.message, /\/3\/0\/0/);
      assert.match(e.message, /no such registered device/);
    });

    test('no endpoint at all', async () => {
      const e = await fails('read', { topic: '/3/0/0' });
      assert.match(e.message, /no endpoint: set one in the node or send msg\.endpoint/);
    });

    test('a bad path', async () => {
      const e = await fails('read', { endpoint: ep, topic: '/3/x' });
      assert.match(e.message, /\/3\/x/);
      assert.match(e.message, /invalid LwM2M path/);
      assert.match(e.message, new RegExp(ep));
    });

    test('no path', async () => {
      const e = await fails('read', { endpoint: ep });
      assert.match(e.message, /no path/);
    });

    test('4.04 Not Found on /3/0/99', async () => {
      const e = await fails('read', { endpoint: ep, topic: '/3/0/99' });
      assert.match(e.message, new RegExp(ep));
      assert.match(e.message, /\/3\/0\/99/);
      assert.match(e.message, /4\.04 Not Found/);
      assert.equal((e as Error & { code?: string }).code, 'COAP_4.04');
    });

    test('4.05 from the raw device on a write', async () => {
      const e = await fails('write', { endpoint: raw.endpoint, topic: '/3303/0/5700', payload: 1.5 });
      assert.match(e.message, new RegExp(raw.endpoint));
      assert.match(e.message, /4\.05 Method Not Allowed/);
    });

    test('a device that does not answer: timeout, and the status says so', async () => {
      const status = nextStatus(n('read'), (s) => s.text === 'timeout');
      const e = await fails('read', { endpoint: raw.endpoint, topic: '/3/0/1' });
      assert.match(e.message, new RegExp(raw.endpoint));
      assert.match(e.message, /\/3\/0\/1/);
      assert.match(e.message, /no answer within/);
      assert.equal((await status).fill, 'red');
    });

    test('write of a wrong type', async () => {
      const e = await fails('write', { endpoint: ep, topic: '/3311/0/5851', payload: 'very bright' });
      assert.match(e.message, new RegExp(ep));
      assert.match(e.message, /\/3311\/0\/5851/);
      assert.match(e.message, /integer|number/i);
      assert.equal(device.get('/3311/0/5851'), 42, 'nothing was written');
    });

    test('write of a read-only resource: 4.05 from our client', async () => {
      const e = await fails('write', { endpoint: ep, topic: '/3303/0/5700', payload: 30 });
      assert.match(e.message, /4\.05/);
    });

    test('write without a payload', async () => {
      const e = await fails('write', { endpoint: ep, topic: '/3311/0/5851' });
      assert.match(e.message, /nothing to write to \/3311\/0\/5851: msg\.payload is empty/);
    });

    test('write with a bad mode', async () => {
      const e = await fails('write', { endpoint: ep, topic: '/3311/0/5851', payload: 1, mode: 'merge' });
      assert.match(e.message, /write mode "merge" must be "replace" or "update"/);
    });

    test('execute on a resource that does not exist, and on an instance path', async () => {
      const e = await fails('execAny', { endpoint: ep, topic: '/3/0/99' });
      assert.match(e.message, /\/3\/0\/99/);
      assert.match(e.message, /4\.04 Not Found/);
      const e2 = await fails('execAny', { endpoint: ep, topic: '/3/0' });
      assert.match(e2.message, /execute needs a resource path \/O\/I\/R, not \/3\/0/);
    });

    test('an error status flashes, then the server status comes back', async () => {
      const red = nextStatus(n('read'), (s) => s.fill === 'red');
      void fails('read', { endpoint: 'nobody-here', topic: '/3/0/0' });
      assert.match((await red).text ?? '', /^nobody-here: no such/);
      await nextStatus(n('read'), (s) => s.fill === 'green', 6000);
    });
  });
});

describe('read node and a sleeping queue-mode device', () => {
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab' },
    serverConfig('srv', { queueAwakeTime: 0.3 }),
    { id: 'rd', type: 'lwm2m-read', z: 'tab', server: 'srv', endpoint: '', path: '/3/0/0', wires: [['rdOut']] },
    { id: 'rdOut', type: 'helper', z: 'tab' },
  ];
  let raw: RawDevice | undefined;
  before(() => load(flow));
  after(async () => {
    await raw?.close();
    await helper.unload();
  });

  test('the status says the read is queued; it completes when the device next updates', async () => {
    const srv = await serverNodeOf('srv');
    raw = await RawDevice.create({ endpoint: endpointName('sleepy'), serverPort: srv.server.address().port, links: '</1/0>,</3/0>' });
    raw.on('GET', '/3/0/0', { code: '2.05', format: 0, payload: 'Sleepy Inc' });
    assert.equal((await raw.register(['lt=300', 'lwm2m=1.1', 'b=U', 'Q'])).code, '2.01');
    await waitFor(() => !srv.server.isAwake(raw!.endpoint), 5000, 'the device to fall asleep');
    const queued = nextStatus(n('rd'), (s) => /queued/.test(s.text ?? ''));
    const out = nextMessage(n('rdOut'), undefined, 10000);
    n('rd').receive({ endpoint: raw.endpoint });
    assert.match((await queued).text!, new RegExp(`read queued: ${raw.endpoint} sleeping`));
    await raw.update();
    assert.equal((await out).payload, 'Sleepy Inc');
  });
});
