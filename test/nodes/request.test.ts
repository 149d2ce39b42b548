/**
 * lwm2m-request: every operation chosen in the node or by msg.operation, against our client and the raw device (answers
 * written by hand: link-format, SenML JSON), and its input errors.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Lwm2mClient } from '../../src/client';
import { RawDevice } from '../helpers/raw-device';
import type { NodeMessage } from '../../nodes/lib/red';
import {
  helper, load, serverConfig, serverNodeOf, startDevice, startRawDevice, answer, nextError, FlowNode, TestNode, closeAll,
} from './helper';

const n = (id: string) => helper.getNode(id) as TestNode;

describe('request node', () => {
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab', label: 'request' },
    serverConfig('srv'),
    { id: 'req', type: 'lwm2m-request', z: 'tab', server: 'srv', endpoint: '', path: '', operation: '', wires: [['out']] },
    { id: 'discover', type: 'lwm2m-request', z: 'tab', server: 'srv', endpoint: '', path: '', operation: 'discover', wires: [['out']] },
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
    raw.on('GET', '/3303', { code: '2.05', format: 40, payload: '</3303>;ver=1.1,</3303/0>,</3303/0/5700>;pmin=5;gt=30,</3303/0/5701>' });
    raw.on('POST', '/3303', { code: '2.01', locationPath: ['3303', '7'] });
    raw.on('FETCH', '/', (req) => (req.contentFormat === 110
      ? { code: '2.05', format: 110, payload: '[{"bn":"/3303/0/","n":"5700","v":19.5},{"n":"5701","vs":"Cel"}]' }
      : { code: '4.15' }));
  });

  after(async () => {
    await closeAll(device, raw);
    await helper.unload();
  });

  const run = (node: string, msg: Record<string, unknown>): Promise<NodeMessage> => answer(n(node), n('out'), msg);
  const op = (m: NodeMessage) => (m.lwm2m as { operation: string }).operation;

  test('read and write through msg.operation', async () => {
    const r = await run('req', { operation: 'read', endpoint: ep, topic: '/3/0/1' });
    assert.equal(r.payload, 'FW-1');
    assert.equal(op(r), 'read');
    await run('req', { operation: 'write', endpoint: ep, topic: '/3311/0/5851', payload: 12 });
    assert.equal(device.get('/3311/0/5851'), 12);
  });

  test('create an instance (id chosen by the device, then by the flow), delete it', async () => {
    const created = new Promise<{ path: string }>((resolve) => device.once('create', resolve));
    const c = await run('req', { operation: 'create', endpoint: ep, topic: '/3303', payload: { 5700: 3.5, 5701: 'K' } });
    const p = c.payload as { instanceId: number; path: string };
    assert.equal(typeof p.instanceId, 'number');
    assert.equal(p.path, `/3303/${p.instanceId}`);
    assert.equal(c.topic, p.path);
    assert.equal((await created).path, p.path);
    assert.equal(device.get(`${p.path}/5700`), 3.5);

    const c2 = await run('req', { operation: 'create', endpoint: ep, topic: '/3303/9', payload: { 5700: -1 } });
    assert.deepEqual(c2.payload, { instanceId: 9, path: '/3303/9' });
    assert.equal(device.get('/3303/9/5700'), -1);

    const deleted = new Promise<{ path: string }>((resolve) => device.once('delete', resolve));
    const d = await run('req', { operation: 'delete', endpoint: ep, topic: '/3303/9' });
    assert.equal(d.payload, true);
    assert.equal((d.lwm2m as { code: string }).code, '2.02');
    assert.equal((await deleted).path, '/3303/9');
    assert.equal(device.get('/3303/9/5700'), undefined);
    await run('req', { operation: 'delete', endpoint: ep, topic: p.path });
  });

  test('write-attributes, then discover shows them', async () => {
    const written = new Promise<{ path: string; attributes: Record<string, unknown> }>((resolve) => device.once('attributes', resolve));
    const w = await run('req', { operation: 'write-attributes', endpoint: ep, topic: '/3303/0/5700', payload: { pmin: 10, pmax: 60, st: 0.5 } });
    assert.deepEqual(w.payload, { pmin: 10, pmax: 60, st: 0.5 });
    const ev = await written;
    assert.equal(ev.path, '/3303/0/5700');
    assert.equal(ev.attributes.pmin, 10);
    assert.equal(ev.attributes.pmax, 60);

    const d = await run('discover', { endpoint: ep, topic: '/3303/0' });
    assert.equal(op(d), 'discover');
    const links = d.payload as Array<{ path: string; attributes: Record<string, unknown> }>;
    assert.ok(Array.isArray(links));
    const res = links.find((l) => l.path === '/3303/0/5700');
    assert.ok(res, `5700 listed in ${JSON.stringify(links)}`);
    assert.equal(res.attributes.pmin, 10);
    assert.equal(res.attributes.pmax, 60);
    assert.equal(res.attributes.st, 0.5);
    assert.ok(links.some((l) => l.path === '/3303/0/5701'));
    // JSON-friendly: survives a JSON round trip unchanged (the debug sidebar, MQTT out...)
    assert.deepEqual(JSON.parse(JSON.stringify(links)), links);

    await run('req', { operation: 'write-attributes', endpoint: ep, topic: '/3303/0/5700', payload: { pmin: null, pmax: null, st: null } });
  });

  test('read-composite (paths from msg.paths or a comma-separated topic) and write-composite', async () => {
    const r = await run('req', { operation: 'read-composite', endpoint: ep, paths: ['/3/0/0', '/3303/0/5700', '/3311/1/5850'] });
    assert.deepEqual(r.payload, { '/3/0/0': 'Fleetwire', '/3303/0/5700': 21.5, '/3311/1/5850': device.get('/3311/1/5850') });
    assert.equal(r.topic, '/3/0/0,/3303/0/5700,/3311/1/5850');
    const r2 = await run('req', { operation: 'read-composite', endpoint: ep, topic: '/3/0/1, /3303/0/5701' });
    assert.deepEqual(r2.payload, { '/3/0/1': 'FW-1', '/3303/0/5701': 'Cel' });

    const w = await run('req', { operation: 'write-composite', endpoint: ep, payload: { '/3311/0/5850': false, '/3311/1/5851': 33 } });
    assert.equal(w.topic, '/3311/0/5850,/3311/1/5851');
    assert.equal(device.get('/3311/0/5850'), false);
    assert.equal(device.get('/3311/1/5851'), 33);
  });

  test('execute through msg.operation', async () => {
    const executed = new Promise<{ path: string; raw: string }>((resolve) => device.once('execute', resolve));
    await run('req', { operation: 'execute', endpoint: ep, topic: '/3/0/4', payload: "5='x'" });
    const ev = await executed;
    assert.equal(ev.path, '/3/0/4');
    assert.equal(ev.raw, "5='x'");
  });

  test('the raw device: discover (link-format by hand), create with Location-Path, read-composite (SenML JSON by hand)', async () => {
    const d = await run('discover', { endpoint: raw.endpoint, topic: '/3303' });
    assert.deepEqual(d.payload, [
      { path: '/3303', attributes: { ver: '1.1' } },
      { path: '/3303/0', attributes: {} },
      { path: '/3303/0/5700', attributes: { pmin: 5, gt: 30 } },
      { path: '/3303/0/5701', attributes: {} },
    ]);
    const get = await raw.waitForRequest((r) => r.method === 'GET' && r.path === '/3303');
    assert.equal(get.accept, 40);

    const c = await run('req', { operation: 'create', endpoint: raw.endpoint, topic: '/3303', payload: { 5700: 1 } });
    assert.deepEqual(c.payload, { instanceId: 7, path: '/3303/7' });

    const rc = await run('req', { operation: 'read-composite', endpoint: raw.endpoint, topic: '/3303/0/5700,/3303/0/5701', lwm2m: {} });
    assert.deepEqual(rc.payload, { '/3303/0/5700': 19.5, '/3303/0/5701': 'Cel' });
  });

  test('the raw device announcing SenML JSON (ct=110): write, write-attributes, execute, write-composite, delete, checked byte by byte', async () => {
    const port = (await serverNodeOf('srv')).server.address().port;
    const dev = await RawDevice.create({ endpoint: `${raw.endpoint}-json`, serverPort: port, links: '</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>,</3303/0>,</3311/0>' });
    try {
      assert.equal((await dev.register(['lt=300', 'lwm2m=1.1'])).code, '2.01');
      dev.on('PUT', '/3311/0/5851', { code: '2.04' });
      dev.on('PUT', '/3311/0', { code: '2.04' });
      dev.on('POST', '/3/0/4', { code: '2.04' });
      dev.on('iPATCH', '/', { code: '2.04' });
      dev.on('DELETE', '/3303/0', { code: '2.02' });
      const senml = (r: { payload: Buffer }) => JSON.parse(r.payload.toString()) as Array<Record<string, unknown>>;
      const json = (m: Record<string, unknown>) => run('req', { endpoint: dev.endpoint, ...m });

      await json({ operation: 'write', topic: '/3311/0/5851', payload: 64 });
      const plain = await dev.waitForRequest((r) => r.method === 'PUT' && r.path === '/3311/0/5851');
      assert.equal(plain.contentFormat, 0, 'a single resource goes as text/plain');
      assert.equal(plain.payload.toString(), '64');
      await json({ operation: 'write', topic: '/3311/0/5851', payload: 65, lwm2m: { format: 110 } });
      const put = await dev.waitForRequest((r) => r.method === 'PUT' && r.path === '/3311/0/5851' && r !== plain);
      assert.equal(put.contentFormat, 110);
      const rec = senml(put);
      assert.equal(rec.length, 1);
      assert.equal(`${rec[0].bn ?? ''}${rec[0].n ?? ''}`, '/3311/0/5851');
      assert.equal(rec[0].v, 65);

      await json({ operation: 'write-attributes', topic: '/3311/0', payload: { pmin: 2, gt: 10.5 } });
      const attrs = await dev.waitForRequest((r) => r.method === 'PUT' && r.path === '/3311/0');
      assert.deepEqual([...attrs.query].sort(), ['gt=10.5', 'pmin=2']);
      assert.equal(attrs.payload.length, 0);

      await json({ operation: 'execute', topic: '/3/0/4', payload: "0='ab',7" });
      const post = await dev.waitForRequest((r) => r.method === 'POST' && r.path === '/3/0/4');
      assert.equal(post.payload.toString('latin1'), "0='ab',7");

      await json({ operation: 'write-composite', payload: { '/3311/0/5850': true, '/3303/0/5701': 'Cel' } });
      const patch = await dev.waitForRequest((r) => r.method === 'iPATCH');
      assert.equal(patch.contentFormat, 110);
      const byPath = new Map<string, unknown>();
      let bn = '';
      for (const r of senml(patch)) {
        if (typeof r.bn === 'string') bn = r.bn;
        byPath.set(`${bn}${r.n ?? ''}`, r.vb ?? r.vs ?? r.v);
      }
      assert.deepEqual(Object.fromEntries(byPath), { '/3311/0/5850': true, '/3303/0/5701': 'Cel' });

      const del = await json({ operation: 'delete', topic: '/3303/0' });
      assert.equal(del.payload, true);
      assert.ok(await dev.waitForRequest((r) => r.method === 'DELETE' && r.path === '/3303/0'));
    } finally {
      await dev.close();
    }
  });

  describe('errors', () => {
    async function fails(node: string, msg: Record<string, unknown>) {
      const e = nextError(n(node));
      n(node).receive(msg);
      return (await e).error;
    }

    test('no operation, or an unknown one', async () => {
      assert.match((await fails('req', { endpoint: ep, topic: '/3/0/0' })).message, /unknown operation "": set it in the node or send msg\.operation as one of read, write/);
      assert.match((await fails('req', { endpoint: ep, topic: '/3/0/0', operation: 'observe' })).message, /unknown operation "observe"/);
    });

    test('discover without a path', async () => {
      assert.match((await fails('discover', { endpoint: ep })).message, /no path/);
    });

    test('create on a resource path, or with a payload that is not an object', async () => {
      assert.match((await fails('req', { operation: 'create', endpoint: ep, topic: '/3303/0/5700', payload: {} })).message, /create needs an object path \/O/);
      assert.match((await fails('req', { operation: 'create', endpoint: ep, topic: '/3303', payload: 5 })).message, /create needs msg\.payload as an object/);
    });

    test('delete of an instance the device does not have: 4.04', async () => {
      const e = await fails('req', { operation: 'delete', endpoint: ep, topic: '/3303/42' });
      assert.match(e.message, new RegExp(`${ep} /3303/42: .*4\\.04 Not Found`));
    });

    test('write-attributes without an object payload, or with an unknown attribute', async () => {
      assert.match((await fails('req', { operation: 'write-attributes', endpoint: ep, topic: '/3303/0/5700', payload: 'pmin=3' })).message, /write-attributes needs msg\.payload as an object/);
      const e = await fails('req', { operation: 'write-attributes', endpoint: ep, topic: '/3303/0/5700', payload: { speed: 3 } });
      assert.match(e.message, new RegExp(ep));
      assert.match(e.message, /speed/);
    });

    test('composite operations without paths or with a bad path', async () => {
      assert.match((await fails('req', { operation: 'read-composite', endpoint: ep })).message, /no paths/);
      assert.match((await fails('req', { operation: 'read-composite', endpoint: ep, paths: ['/3/0/0', '/3/zz'] })).message, /\/3\/zz/);
      assert.match((await fails('req', { operation: 'write-composite', endpoint: ep, payload: [1, 2] })).message, /write-composite needs msg\.payload as an object of path: value/);
      assert.match((await fails('req', { operation: 'write-composite', endpoint: ep, payload: { 'not a path': 1 } })).message, /not a path/);
    });

    test('a content format that is not a number', async () => {
      const e = await fails('req', { operation: 'read', endpoint: ep, topic: '/3/0/0', lwm2m: { format: 'tlv' } });
      assert.match(e.message, /content format "tlv" is not a number/);
    });
  });
});
