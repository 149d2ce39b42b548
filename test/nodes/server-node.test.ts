/**
 * The lwm2m-server config node: ephemeral and fixed ports, status texts fanned out to its users, a redeploy that
 * releases the socket (no EADDRINUSE, the port can be bound right after), a port in use, a flow node without a server,
 * PSK credentials with DTLS (coaps), object models loaded from a DDF folder, the persisted registration store, and the
 * editor's path suggestions route.
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RawDevice } from '../helpers/raw-device';
import type { NodeMessage } from '../../nodes/lib/red';
import { Lwm2mClient } from '../../src/client';
import {
  helper, load, deploy, serverConfig, serverNodeOf, startDevice, nextMessage, nextError, nextStatus, FlowNode, TestNode,
  closeAll, endpointName, freeUdpPort, canBind, waitFor, spyNodes,
} from './helper';

const n = (id: string) => helper.getNode(id) as TestNode;

describe('server config node: ports, status, redeploy', () => {
  afterEach(() => helper.unload());

  test('port 0 binds an ephemeral port on the configured address; status goes from 0 devices to 1 device', async () => {
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab' },
      serverConfig('srv'),
      { id: 'ev', type: 'lwm2m-events', z: 'tab', server: 'srv', wires: [['out']] },
      { id: 'read', type: 'lwm2m-read', z: 'tab', server: 'srv', wires: [[]] },
      { id: 'out', type: 'helper', z: 'tab' },
    ];
    await load(flow);
    const srv = await serverNodeOf('srv');
    const a = srv.server.address();
    assert.equal(a.address, '127.0.0.1');
    assert.ok(a.port > 0);
    await waitFor(() => srv.serverStatus().text === '0 devices');
    assert.deepEqual(srv.serverStatus(), { fill: 'green', shape: 'ring', text: '0 devices' });
    const readStatus = nextStatus(n('read'), (s) => s.text === '1 device');
    const evStatus = nextStatus(n('ev'), (s) => s.text === '1 device');
    const device = await startDevice(a.port);
    try {
      assert.deepEqual(await readStatus, { fill: 'green', shape: 'dot', text: '1 device' });
      assert.equal((await evStatus).fill, 'green');
    } finally {
      await device.stop();
    }
    await waitFor(() => srv.serverStatus().text === '0 devices');
    await helper.unload();
  });

  test('a redeploy on a fixed port, twice: no EADDRINUSE, devices register each time, the port is free afterwards', async () => {
    const port = await freeUdpPort();
    const dtlsPort = await freeUdpPort();
    const flow = (label: string): FlowNode[] => [
      { id: 'tab', type: 'tab' },
      serverConfig('srv', { port, name: label, dtls: true, dtlsPort }),
      { id: 'ev', type: 'lwm2m-events', z: 'tab', server: 'srv', events: ['registered'], wires: [['out']] },
      { id: 'out', type: 'helper', z: 'tab' },
    ];
    await load(flow('first'));
    const errors: string[] = [];
    for (const round of ['second', 'third']) {
      const before1 = await serverNodeOf('srv');
      assert.equal(before1.server.address().port, port);
      // A full deploy restarts every node, the server config node included: its socket must be released first.
      await deploy(flow(round), 'full');
      const srv = await serverNodeOf('srv');
      assert.notEqual(srv, before1, 'a new server node');
      srv.on('call:error', (c: { args: unknown[] }) => errors.push(String(c.args[0])));
      assert.equal(srv.server.address().port, port);
      assert.deepEqual(srv.server.endpoints().map((e) => e.address.port).sort(), [port, dtlsPort].sort());
      const got = nextMessage(n('out'));
      const device = await startDevice(port);
      assert.equal((await got).endpoint, device.endpointName);
      await device.stop();
      assert.equal(srv.serverStatus().fill, 'green');
    }
    assert.deepEqual(errors, []);
    await helper.unload();
    assert.ok(await canBind(port), 'the CoAP port is free after unload');
    assert.ok(await canBind(dtlsPort), 'the DTLS port is free after unload');
  });

  test('a server closed while it is still binding releases its ports (deploy then stop at once)', async () => {
    const port = await freeUdpPort();
    const dtlsPort = await freeUdpPort();
    const bsPort = await freeUdpPort();
    await load([
      { id: 'tab', type: 'tab' },
      serverConfig('srv', { port, dtls: true, dtlsPort }),
      { id: 'bs', type: 'lwm2m-bootstrap', z: 'tab', address: '127.0.0.1', port: bsPort, server: 'srv', mode: 'table', table: [], wires: [[]] },
    ]);
    await helper.unload(); // no wait for the sockets to be bound
    assert.ok(await canBind(port), 'CoAP port released');
    assert.ok(await canBind(dtlsPort), 'DTLS port released');
    assert.ok(await canBind(bsPort), 'bootstrap port released');
  });

  test('a port in use: red status on the server\'s users, an error naming the port, operations fail clearly', async () => {
    const blocker = dgram.createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(0, '127.0.0.1', () => r()));
    const port = blocker.address().port;
    const statuses = spyNodes('status');
    const errors = spyNodes('error');
    try {
      const flow: FlowNode[] = [
        { id: 'tab', type: 'tab' },
        serverConfig('srv', { port }),
        { id: 'read', type: 'lwm2m-read', z: 'tab', server: 'srv', wires: [['out']] },
        { id: 'out', type: 'helper', z: 'tab' },
      ];
      await load(flow);
      const srv = n('srv') as unknown as { ready: Promise<void> };
      await assert.rejects(srv.ready);
      await waitFor(() => statuses.texts('read').includes(`port ${port} in use`), 5000, 'the red status');
      assert.ok(statuses.calls.some((c) => c.id === 'read' && (c.arg as { fill?: string }).fill === 'red'));
      assert.ok(errors.texts('srv').some((t) => t.includes(`cannot listen on port ${port}`)), errors.texts().join('; '));
      const e = nextError(n('read'));
      n('read').receive({ endpoint: 'x', topic: '/3/0/0' });
      const err = (await e).error;
      assert.match(err.message, /EADDRINUSE/);
      assert.match(err.message, /^x \/3\/0\/0: /);
      await helper.unload();
    } finally {
      statuses.restore();
      errors.restore();
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  test('a flow node without a server: red status "no server" and an error saying what to do', async () => {
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab' },
      { id: 'read', type: 'lwm2m-read', z: 'tab', server: '', wires: [[]] },
    ];
    // The error is reported while the node is constructed: spy before loading.
    const errors = spyNodes('error');
    const statuses = spyNodes('status');
    try {
      await load(flow);
    } finally {
      errors.restore();
      statuses.restore();
    }
    assert.ok(errors.texts('read').some((m) => /no LwM2M server configured: choose one in the node/.test(m)), errors.texts().join('; '));
    assert.ok(statuses.texts('read').includes('no server'));
    await helper.unload();
  });
});

describe('server config node: DTLS with PSK credentials', () => {
  const ep = endpointName('psk');
  const key = '000102030405060708090a0b0c0d0e0f';
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab' },
    serverConfig('srv', { dtls: true, dtlsPort: 0 }),
    { id: 'ev', type: 'lwm2m-events', z: 'tab', server: 'srv', events: ['registered'], wires: [['out']] },
    { id: 'read', type: 'lwm2m-read', z: 'tab', server: 'srv', wires: [['readOut']] },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'readOut', type: 'helper', z: 'tab' },
  ];
  before(() => load(flow, { srv: { psk: `${ep}=${key}\nother:ident-2=ffee` } }));
  after(() => helper.unload());

  test('a device with a PSK registers over coaps; operations go back over DTLS', async () => {
    const srv = await serverNodeOf('srv');
    const coaps = srv.server.endpoints().find((e) => e.secure);
    assert.ok(coaps, 'a secure endpoint');
    assert.equal(coaps.address.address, '127.0.0.1');
    const got = nextMessage(n('out'));
    const device = await startDevice(0, { endpoint: ep, serverUri: `coaps://127.0.0.1:${coaps.address.port}`, identity: ep, key });
    try {
      const m = await got;
      assert.equal((m.payload as { security: string }).security, 'psk');
      assert.equal((m.payload as { identity: string }).identity, ep);
      const read = nextMessage(n('readOut'));
      n('read').receive({ endpoint: ep, topic: '/3303/0/5700' });
      assert.equal((await read).payload, 21.5);
    } finally {
      await device.stop();
    }
  });

  test('the same endpoint over plain coap is refused (it has credentials)', async () => {
    const srv = await serverNodeOf('srv');
    const raw = await RawDevice.create({ endpoint: ep, serverPort: srv.server.address().port });
    try {
      const res = await raw.register(['lt=60']);
      assert.match(res.code, /^4\./);
      assert.equal(srv.server.getRegistration(ep), undefined);
    } finally {
      await raw.close();
    }
  });
});

describe('server config node: bad PSK credentials', () => {
  after(() => helper.unload());
  test('an error names the entry and the server still starts', async () => {
    const errors = spyNodes('error');
    try {
      await load([serverConfig('srv')], { srv: { psk: 'dev1=nothex' } });
    } finally {
      errors.restore();
    }
    assert.ok(errors.texts('srv').some((m) => /PSK credentials: the key of dev1 is not hex/.test(m)), errors.texts().join('; '));
    const srv = await serverNodeOf('srv');
    assert.ok(srv.server.address().port > 0);
  });
});

describe('server config node: object models from a DDF folder, persisted registrations, path suggestions', () => {
  let userDir: string;
  let raw: RawDevice | undefined;
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab' },
    serverConfig('srv', { modelsDir: 'models', persist: true }),
    { id: 'read', type: 'lwm2m-read', z: 'tab', server: 'srv', keys: 'name', wires: [['out']] },
    { id: 'out', type: 'helper', z: 'tab' },
  ];

  before(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-node-test-'));
    fs.mkdirSync(path.join(userDir, 'models'));
    fs.writeFileSync(path.join(userDir, 'models', '33000.xml'), `<?xml version="1.0" encoding="UTF-8"?>
<LWM2M><Object ObjectType="MODefinition"><Name>Test Gauge</Name><ObjectID>33000</ObjectID><ObjectURN>urn:oma:lwm2m:x:33000</ObjectURN>
<LWM2MVersion>1.1</LWM2MVersion><ObjectVersion>1.0</ObjectVersion><MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory>
<Resources>
<Item ID="0"><Name>Level</Name><Operations>R</Operations><MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory><Type>Float</Type><RangeEnumeration></RangeEnumeration><Units>%</Units><Description></Description></Item>
<Item ID="1"><Name>Armed</Name><Operations>RW</Operations><MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory><Type>Boolean</Type><RangeEnumeration></RangeEnumeration><Units></Units><Description></Description></Item>
</Resources></Object></LWM2M>`);
    fs.writeFileSync(path.join(userDir, 'models', 'broken.xml'), '<LWM2M><Object>');
    helper.settings({ userDir });
  });
  after(async () => {
    await closeAll(raw);
    await helper.unload();
    helper.settings({});
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  test('a resource of the loaded model is typed and named; the broken file is a warning', async () => {
    const warnings = spyNodes('warn');
    try {
      await load(flow);
    } finally {
      warnings.restore();
    }
    assert.ok(warnings.texts('srv').some((w) => /^object model \S*broken\.xml: malformed XML/.test(w)), warnings.texts().join('; '));
    const srv = await serverNodeOf('srv');
    raw = await RawDevice.create({ endpoint: endpointName('gauge'), serverPort: srv.server.address().port, links: '</1/0>,</3/0>,</33000/0>' });
    assert.equal((await raw.register(['lt=300', 'lwm2m=1.1'])).code, '2.01');
    // TLV by hand (Core 1.1 Transport / Core 7.4.3): resource 0 as an 8-byte float 12.5, resource 1 as a 1-byte boolean 1.
    raw.on('GET', '/33000/0', { code: '2.05', format: 11542, payload: Buffer.from([0xc8, 0x00, 0x08, 0x40, 0x29, 0, 0, 0, 0, 0, 0, 0xc1, 0x01, 0x01]) });
    const got = nextMessage(n('out'));
    n('read').receive({ endpoint: raw.endpoint, topic: '/33000/0' });
    assert.deepEqual((await got).payload, { Level: 12.5, Armed: true });
  });

  test('the editor route suggests paths of the server\'s models', async () => {
    const res = await helper.request().get('/lwm2m/paths').query({ server: 'srv' });
    assert.equal(res.status, 200);
    const list = res.body as Array<{ path: string; label: string }>;
    assert.ok(list.some((s) => s.path === '/33000/0/0' && /Test Gauge/.test(s.label)), 'the loaded object is suggested');
    assert.ok(list.some((s) => s.path === '/3/0/0'), 'built-in objects too');
    const plain = await helper.request().get('/lwm2m/paths');
    assert.ok(!(plain.body as Array<{ path: string }>).some((s) => s.path.startsWith('/33000')), 'without a server: built-ins only');
  });

  test('with persist, registrations survive a full redeploy (file store in the user dir)', async () => {
    await deploy(flow, 'full');
    const srv = await serverNodeOf('srv');
    assert.ok(raw);
    assert.ok(srv.server.getRegistration(raw.endpoint), 'the registration was restored');
    const files = fs.readdirSync(path.join(userDir, 'lwm2m'));
    assert.ok(files.some((f) => f.startsWith('server-') && f.endsWith('.json')), files.join(', '));
    // The device, unaware of the restart, is still reachable.
    const got = nextMessage(n('out'));
    n('read').receive({ endpoint: raw.endpoint, topic: '/33000/0' });
    assert.deepEqual((await got).payload as NodeMessage, { Level: 12.5, Armed: true });
  });
});

describe('request node: a device PSK from the flow at run time (set-psk / remove-psk)', () => {
  const ep = endpointName('flowpsk');
  const key = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf';
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab' },
    serverConfig('srv', { dtls: true, dtlsPort: 0 }),
    { id: 'psk', type: 'lwm2m-request', z: 'tab', server: 'srv', endpoint: '', path: '', operation: '', wires: [['pskOut']] },
    { id: 'pskOut', type: 'helper', z: 'tab' },
  ];
  before(() => load(flow));
  after(() => helper.unload());

  test('set-psk lets the device register over DTLS, the key is not passed on, remove-psk forgets it', async () => {
    const srv = await serverNodeOf('srv');
    const coaps = srv.server.endpoints().find((e) => e.secure)!;
    const uri = `coaps://127.0.0.1:${coaps.address.port}`;

    const out = nextMessage(n('pskOut'));
    n('psk').receive({ operation: 'set-psk', endpoint: ep, payload: { key } });
    const m = await out;
    assert.deepEqual(m.payload, { endpoint: ep, identity: ep });
    assert.doesNotMatch(JSON.stringify(m), new RegExp(key), 'the key is not in the output message');

    const device = await startDevice(0, { endpoint: ep, serverUri: uri, identity: ep, key });
    try {
      assert.equal(srv.server.getRegistration(ep)?.security, 'psk');
    } finally {
      await device.stop();
    }

    const removed = nextMessage(n('pskOut'));
    n('psk').receive({ operation: 'remove-psk', endpoint: ep });
    assert.equal((await removed).payload, true);
    const again = new Lwm2mClient({ endpoint: ep, serverUri: uri, identity: ep, key, localAddress: '127.0.0.1', retryInitialMs: 60000 });
    const failures: unknown[] = [];
    again.on('error', (e) => failures.push(e));
    try {
      await again.start();
      await assert.rejects(again.whenRegistered(3000), 'no registration with a forgotten key');
      assert.equal(srv.server.getRegistration(ep), undefined);
    } finally {
      await again.stop();
    }
  });

  test('set-psk without a usable key reaches a Catch node', async () => {
    const err = nextError(n('psk'));
    n('psk').receive({ operation: 'set-psk', endpoint: ep, payload: { key: 'not hex' } });
    assert.match((await err).error.message, /set-psk needs msg.payload.key as hex/);
  });
});
