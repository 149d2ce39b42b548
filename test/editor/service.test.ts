/**
 * The sidebar's runtime service against our server, with our client playing the device on loopback: listing (paged and
 * filtered, at fleet scale), the device's object tree from the model, every operation the sidebar offers, the traffic
 * log, and coalesced live updates.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'events';
import { Lwm2mServer, MemoryRegistrationStore, Registration } from '../../src/server';
import { Lwm2mClient } from '../../src/client';
import { ModelRegistry } from '../../src/model/registry';
import { Lwm2mError } from '../../src/errors';
import { ServerHandle, SidebarService, statusOf, TOPIC, DevicePage } from '../../nodes/lwm2m-sidebar/service';
import { SidebarInputError, SidebarNotFoundError } from '../../nodes/lwm2m-sidebar/errors';
import { startClient, startServer, waitFor } from './helpers';

interface Published { topic: string; data: Record<string, unknown> }

function harness(handles: ServerHandle[], opts: Partial<ConstructorParameters<typeof SidebarService>[0]> = {}) {
  const published: Published[] = [];
  const service = new SidebarService({
    servers: () => handles,
    publish: (topic, data) => published.push({ topic, data: data as Record<string, unknown> }),
    ...opts,
  });
  service.reconcile();
  return { service, published };
}

describe('sidebar service with a real server and client', () => {
  let server: Lwm2mServer;
  let client: Lwm2mClient;
  let handle: ServerHandle;
  let service: SidebarService;
  let published: Published[];
  let ep: string;

  before(async () => {
    server = await startServer();
    handle = { id: 'srv1', name: 'test server', server, registry: server.registry as ModelRegistry };
    ({ service, published } = harness([handle], { logSize: 50 }));
    client = await startClient(server.address().port);
    ep = client.endpointName;
    await waitFor(() => service.log('srv1', ep).length > 0, 5000, 'register logged');
  });
  after(async () => {
    service.stop();
    await client?.stop();
    await server?.close();
  });

  test('lists the server and its device with registration details and no credentials', () => {
    const servers = service.listServers();
    assert.equal(servers.length, 1);
    assert.equal(servers[0].id, 'srv1');
    assert.equal(servers[0].devices, 1);
    assert.equal(servers[0].port, server.address().port);
    const page = service.listDevices('srv1');
    assert.equal(page.total, 1);
    const d = page.items[0];
    assert.equal(d.endpoint, ep);
    assert.equal(d.address, '127.0.0.1');
    assert.equal(d.version, '1.1');
    assert.equal(d.binding, 'U');
    assert.equal(d.security, 'nosec');
    assert.equal(d.awake, true);
    assert.ok(d.lastSeen >= d.registeredAt);
    assert.ok(!('identity' in d) && !('sms' in d));
    assert.throws(() => service.listDevices('nope'), SidebarNotFoundError);
  });

  test('describes the object tree with names, units and instances from the model', () => {
    const det = service.device('srv1', ep);
    const temp = det.objects.find((o) => o.id === 3303)!;
    assert.equal(temp.name, 'Temperature');
    assert.deepEqual(temp.instances, [0]);
    const sv = temp.resources.find((r) => r.id === 5700)!;
    assert.equal(sv.name, 'Sensor Value');
    assert.equal(sv.type, 'float');
    assert.equal(sv.operations, 'R');
    const dev = det.objects.find((o) => o.id === 3)!;
    assert.equal(dev.name, 'Device');
    assert.equal(dev.resources.find((r) => r.id === 4)!.operations, 'E');
    const registers = det.log.filter((e) => e.kind === 'register');
    assert.equal(registers.length, 1, 'one line for the Register');
    assert.equal(registers[0].dir, 'in');
    assert.equal(registers[0].code, '2.01', 'completed by the traffic event');
    assert.match(registers[0].text, /lwm2m=1\.1 .*<\/3303\/0>/);
    assert.match(registers[0].info!, /^\d+ B link$/);
    assert.equal(det.device.registrationId, server.getRegistration(ep)!.id);
    assert.throws(() => service.device('srv1', 'no-such-device'), SidebarNotFoundError);
  });

  test('read: the value comes back typed and is remembered', async () => {
    const r = await service.operate('srv1', ep, { op: 'read', path: '/3303/0/5700' });
    assert.equal(r.code, '2.05');
    assert.deepEqual(r.values, { '/3303/0/5700': 21.5 });
    const inst = await service.operate('srv1', ep, { op: 'read', path: '/3/0' });
    assert.equal(inst.values!['/3/0/0'], 'Fleetwire');
    assert.equal(inst.values!['/3/0/9'], 87);
    const det = service.device('srv1', ep);
    assert.equal(det.values['/3303/0/5700'].v, 21.5);
    assert.equal(det.values['/3/0/1'].v, 'FW-1');
    const log = det.log.filter((e) => e.path === '/3303/0/5700');
    assert.deepEqual(log.map((e) => `${e.dir} ${e.kind} ${e.op} ${e.code}`), ['out request read 2.05'], 'one line per exchange');
    assert.equal(log[0].text, '21.5', 'the value read');
    assert.match(log[0].info!, /got \d+ B \S+ · [\d.]+ ms · by sidebar$/);
  });

  test('operations by a flow (the server called directly) are in the log too', async () => {
    const before = service.log('srv1', ep).at(-1)?.seq ?? 0;
    const r = await server.read(ep, '/3/0/9');
    assert.equal(r.value, 87);
    await server.write(ep, '/3311/0/5851', 42);
    await assert.rejects(server.read(ep, '/3/0/77'), /4\.04/);
    const log = service.log('srv1', ep, before);
    assert.deepEqual(log.map((e) => `${e.dir} ${e.kind} ${e.op} ${e.path} ${e.code}`), [
      'out request read /3/0/9 2.05',
      'out request write /3311/0/5851 2.04',
      'out error read /3/0/77 4.04',
    ]);
    assert.ok(log.every((e) => !/by sidebar/.test(e.info ?? '')), 'not marked as the sidebar\'s');
    assert.match(log[0].info!, /^got \d+ B \S+ · [\d.]+ ms$/);
    assert.match(log[1].info!, /^sent \d+ B \S+ · got 0 B · [\d.]+ ms$/);
    assert.equal(log[0].text, '', 'the sidebar does not decode what flows read');
  });

  test('write: the form text is typed from the model and reaches the device', async () => {
    const r = await service.operate('srv1', ep, { op: 'write', path: '/3311/0/5851', value: '75' });
    assert.equal(r.code, '2.04');
    assert.equal(client.get('/3311/0/5851'), 75);
    await service.operate('srv1', ep, { op: 'write', path: '/3311/0/5850', value: 'false' });
    assert.equal(client.get('/3311/0/5850'), false);
    assert.equal(service.device('srv1', ep).values['/3311/0/5851'].v, 75);
    const line = service.log('srv1', ep).filter((e) => e.path === '/3311/0/5851').at(-1)!;
    assert.equal(`${line.dir} ${line.op} ${line.code} ${line.text}`, 'out write 2.04 75', 'the value written, on the exchange\'s line');
    assert.match(line.info!, /^sent \d+ B \S+ · got 0 B · [\d.]+ ms · by sidebar$/);
  });

  test('bad requests are refused before anything is sent or logged', async () => {
    const before = service.log('srv1', ep).length;
    const received = client.listenerCount('write');
    await assert.rejects(service.operate('srv1', ep, { op: 'write', path: '/3311/0/5851', value: '7x' }), SidebarInputError);
    await assert.rejects(service.operate('srv1', ep, { op: 'write', path: '/3303/0/5700', value: '1' }), /not writable/);
    await assert.rejects(service.operate('srv1', ep, { op: 'explode', path: '/3/0' }), /unknown operation/);
    await assert.rejects(service.operate('srv1', ep, { op: 'read', path: '/3/x' }), SidebarInputError);
    await assert.rejects(service.operate('srv1', ep, { op: 'execute', path: '/3/0' }), /Execute targets a resource/);
    await assert.rejects(service.operate('srv1', ep, { op: 'delete', path: '/3303' }), /Delete targets an object instance/);
    await assert.rejects(service.operate('srv1', ep, { op: 'write-attributes', path: '/3303/0/5700', attributes: { pmin: 'soon' } }), /must be a number/);
    await assert.rejects(service.operate('srv1', ep, null), /JSON object/);
    assert.equal(service.log('srv1', ep).length, before);
    assert.equal(client.listenerCount('write'), received);
  });

  test('device errors are logged and keep their code', async () => {
    const err = await service.operate('srv1', ep, { op: 'read', path: '/3304/0' }).then(() => undefined, (e: Lwm2mError) => e);
    assert.ok(err instanceof Lwm2mError);
    assert.equal(err.code, 'COAP_4.04');
    assert.equal(statusOf(err), 502);
    const log = service.log('srv1', ep).filter((e) => e.path === '/3304/0');
    assert.equal(log.length, 1, 'one line: the exchange, marked as failed');
    assert.equal(log[0].kind, 'error');
    assert.equal(log[0].dir, 'out');
    assert.equal(log[0].code, '4.04');
    assert.match(log[0].text, /4\.04 Not Found/);
    assert.match(log[0].info!, /by sidebar$/);
  });

  test('execute with arguments', async () => {
    const got = new Promise<{ path: string; raw: string }>((resolve) => client.once('execute', resolve));
    const r = await service.operate('srv1', ep, { op: 'execute', path: '/3/0/4', args: "0='now',1" });
    assert.equal(r.code, '2.04');
    const ev = await got;
    assert.equal(ev.path, '/3/0/4');
    assert.equal(ev.raw, "0='now',1");
  });

  test('observe: notifications update the values and are pushed to a watching editor; cancel stops it', async () => {
    const det = service.device('srv1', ep);
    service.watch('srv1', ep, det.seq);
    const r = await service.operate('srv1', ep, { op: 'observe', path: '/3303/0/5700' });
    assert.equal(r.code, '2.05');
    assert.equal(r.observation!.sidebar, true);
    const again = await service.operate('srv1', ep, { op: 'observe', path: '/3303/0/5700' });
    assert.equal(again.already, true, 'a second observe of the same path is not sent again');
    published.length = 0;
    client.set('/3303/0/5700', 23.25);
    await waitFor(() => service.device('srv1', ep).values['/3303/0/5700'].v === 23.25, 5000, 'notification');
    const notes = service.log('srv1', ep).filter((e) => e.kind === 'notify' && e.path === '/3303/0/5700');
    assert.equal(notes.length, 1, 'one line per notification');
    assert.equal(notes[0].text, '23.25');
    assert.match(notes[0].info!, /^\d+ B \S+$/, 'completed by the traffic event');
    const obsLine = service.log('srv1', ep).filter((e) => e.op === 'observe' && e.dir === 'out');
    assert.equal(obsLine.length, 1);
    assert.equal(obsLine[0].code, '2.05');
    service.flush();
    const msgs = published.filter((m) => m.topic === TOPIC.device);
    assert.equal(msgs.length, 1, 'one coalesced device message');
    const values = msgs[0].data.values as Record<string, { v: unknown }>;
    assert.equal(values['/3303/0/5700'].v, 23.25);
    assert.ok((msgs[0].data.log as Array<{ kind: string }>).some((e) => e.kind === 'notify'));
    service.flush();
    assert.equal(published.filter((m) => m.topic === TOPIC.device).length, 1, 'nothing new, nothing sent');

    const c = await service.operate('srv1', ep, { op: 'cancel-observe', path: '/3303/0/5700' });
    assert.equal(c.cancelled, 1);
    assert.equal(server.observations(ep).length, 0);
    await assert.rejects(service.operate('srv1', ep, { op: 'cancel-observe', path: '/3303/0/5700' }), SidebarNotFoundError);
    service.unwatch('srv1', ep);
  });

  test('an observation made by a flow is shown but not cancelled from the sidebar', async () => {
    const obs = await server.observe(ep, '/3311/0/5851');
    const det = service.device('srv1', ep);
    const v = det.observations.find((o) => o.id === obs.id)!;
    assert.equal(v.sidebar, false);
    await assert.rejects(service.operate('srv1', ep, { op: 'cancel-observe', path: '/3311/0/5851' }), /observed by a flow/);
    const r = await service.operate('srv1', ep, { op: 'observe', path: '/3311/0/5851' });
    assert.equal(r.already, true);
    await server.cancelObservation(ep, obs.id);
  });

  test('discover, write-attributes, create and delete', async () => {
    const d = await service.operate('srv1', ep, { op: 'discover', path: '/3303/0' });
    assert.ok(d.links!.some((l) => l.path === '/3303/0/5700'), JSON.stringify(d.links));
    const wa = await service.operate('srv1', ep, { op: 'write-attributes', path: '/3303/0/5700', attributes: { pmin: '5', pmax: '60', gt: '' } });
    assert.equal(wa.code, '2.04');
    const d2 = await service.operate('srv1', ep, { op: 'discover', path: '/3303/0/5700' });
    const attrs = d2.links!.find((l) => l.path === '/3303/0/5700')!.attributes;
    assert.equal(attrs.pmin, 5);
    assert.equal(attrs.pmax, 60);
    const c = await service.operate('srv1', ep, { op: 'create', path: '/3303', instanceId: '4', values: { 5700: '-3.5' } });
    assert.equal(c.instanceId, 4);
    assert.equal(client.get('/3303/4/5700'), -3.5);
    assert.equal(service.device('srv1', ep).values['/3303/4/5700'].v, -3.5);
    const del = await service.operate('srv1', ep, { op: 'delete', path: '/3303/4' });
    assert.equal(del.code, '2.02');
    assert.equal(service.device('srv1', ep).values['/3303/4/5700'], undefined);
  });

  test('the log keeps the last entries only, and log(after) gives what is new', async () => {
    const all = service.log('srv1', ep);
    assert.ok(all.length <= 50);
    for (let i = 0; i < 30; i++) await service.operate('srv1', ep, { op: 'read', path: '/3/0/9' });
    const now = service.log('srv1', ep);
    assert.equal(now.length, 50, 'bounded by logSize');
    assert.ok(now[0].seq < now[49].seq);
    const newer = service.log('srv1', ep, now[47].seq);
    assert.deepEqual(newer.map((e) => e.seq), [now[48].seq, now[49].seq]);
  });

  test('registration changes reach the editor in one coalesced message', async () => {
    service.flush();
    published.length = 0;
    const other = await startClient(server.address().port);
    try {
      await waitFor(() => service.listDevices('srv1').total === 2, 5000, 'second device');
      await new Promise((r) => setTimeout(r, 50));
      service.flush();
      const msgs = published.filter((m) => m.topic === TOPIC.devices);
      assert.equal(msgs.length, 1);
      assert.equal(msgs[0].data.total, 2);
      assert.deepEqual((msgs[0].data.changed as Array<{ endpoint: string }>).map((d) => d.endpoint), [other.endpointName]);
      published.length = 0;
      await other.stop();
      await waitFor(() => service.listDevices('srv1').total === 1, 5000, 'deregistration');
      await new Promise((r) => setTimeout(r, 50));
      service.flush();
      const gone = published.filter((m) => m.topic === TOPIC.devices);
      assert.equal(gone.length, 1);
      assert.deepEqual(gone[0].data.removed, [other.endpointName]);
      const otherLog = service.log('srv1', other.endpointName);
      assert.deepEqual(otherLog.map((e) => `${e.kind} ${e.code}`), ['register 2.01', 'deregister 2.02'], 'one line each');
    } finally {
      await other.stop();
    }
  });
});

describe('sidebar service at fleet scale', () => {
  const N = 20000;
  let server: Lwm2mServer;
  let service: SidebarService;
  let published: Published[];
  let now = 1_000_000;

  before(() => {
    const store = new MemoryRegistrationStore();
    for (let i = 0; i < N; i++) {
      const reg: Registration = {
        id: `r${i}`, endpoint: `meter-${String(i).padStart(5, '0')}`, version: '1.1', lifetime: 300, binding: 'U', queueMode: false,
        address: `10.0.${(i >> 8) & 255}.${i & 255}`, port: 5683, family: 'IPv4', transport: 'coap', secure: false, security: 'nosec',
        rootPath: '/', objectLinks: '1:0 3:0 3303:0', registeredAt: 0, lastUpdateAt: 0, expiresAt: 300000,
      };
      store.add(reg);
    }
    server = new Lwm2mServer({ store, listen: false });
    const handle: ServerHandle = { id: 'big', server, registry: ModelRegistry.withBuiltins() };
    ({ service, published } = harness([handle], { now: () => now, watchTtlMs: 1000, maxChangedPerMessage: 10 }));
  });
  after(() => service.stop());

  test('pages through the fleet without sending it', () => {
    const p: DevicePage = service.listDevices('big', { offset: '19990', limit: '50' });
    assert.equal(p.total, N);
    assert.equal(p.items.length, 10);
    assert.equal(p.items[0].endpoint, 'meter-19990');
    const capped = service.listDevices('big', { limit: '100000' });
    assert.equal(capped.items.length, 500, 'limit is capped');
    const dflt = service.listDevices('big', { offset: '-5', limit: 'x' });
    assert.equal(dflt.offset, 0);
    assert.equal(dflt.items.length, 100);
  });

  test('filters on the server side by endpoint or address', () => {
    const p = service.listDevices('big', { q: 'METER-1999', limit: '5', offset: '2' });
    assert.equal(p.total, 10, 'meter-19990..19999, case-insensitive');
    assert.deepEqual(p.items.map((d) => d.endpoint), ['meter-19992', 'meter-19993', 'meter-19994', 'meter-19995', 'meter-19996']);
    const byAddr = service.listDevices('big', { q: '10.0.3.7' });
    assert.ok(byAddr.items.some((d) => d.endpoint === 'meter-00775'));
    assert.equal(service.listDevices('big', { q: 'x'.repeat(10000) }).total, 0);
  });

  test('a storm of changes becomes one resync message', () => {
    service.flush();
    published.length = 0;
    for (let i = 0; i < 500; i++) server.emit('updated', server.getRegistration(`meter-${String(i).padStart(5, '0')}`)!, { lifetime: 300 }, {});
    service.flush();
    const msgs = published.filter((m) => m.topic === TOPIC.devices);
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0].data.resync, true);
    assert.equal(msgs[0].data.changed, undefined);
  });

  test('a watch ends when the editor stops renewing it', () => {
    service.watch('big', 'meter-00001');
    server.emit('updated', server.getRegistration('meter-00001')!, { lifetime: 300 }, {});
    published.length = 0;
    service.flush();
    assert.equal(published.filter((m) => m.topic === TOPIC.device).length, 1);
    now += 2000;
    server.emit('updated', server.getRegistration('meter-00001')!, { lifetime: 300 }, {});
    published.length = 0;
    service.flush();
    assert.equal(published.filter((m) => m.topic === TOPIC.device).length, 0, 'expired watch: nothing pushed');
  });

  test('a refused request of a registered device gets a line; an unknown one nothing', () => {
    const before = service.log('big', 'meter-00003').length;
    const refused = {
      kind: 'request', direction: 'in', endpoint: 'meter-00003', operation: 'update', method: 'POST', path: '/rd/r3', size: 0,
      code: '4.03', answerSize: 20, address: '10.0.0.99', port: 5683, time: now,
    } as const;
    server.emit('traffic', refused);
    const log = service.log('big', 'meter-00003');
    assert.equal(log.length, before + 1);
    assert.equal(log.at(-1)!.kind, 'error');
    assert.equal(log.at(-1)!.text, 'Update refused');
    assert.equal(log.at(-1)!.code, '4.03');
    server.emit('traffic', { ...refused, endpoint: 'not-registered', operation: 'register', path: '/rd' });
    assert.equal(service.log('big', 'not-registered').length, 0);
  });

  test('a request without an answer: an error line without a code', () => {
    server.emit('traffic', {
      kind: 'request', direction: 'out', endpoint: 'meter-00004', operation: 'read', method: 'GET', path: '/3/0/9', size: 0,
      durationMs: 10000.4, error: 'timeout after 10000 ms', time: now,
    });
    const line = service.log('big', 'meter-00004').at(-1)!;
    assert.equal(`${line.dir} ${line.kind} ${line.op} ${line.path}`, 'out error read /3/0/9');
    assert.equal(line.code, undefined);
    assert.equal(line.text, 'timeout after 10000 ms');
    assert.equal(line.info, '10000 ms');
  });

  test('remembered devices are bounded', () => {
    const small = harness([{ id: 'big', server, registry: ModelRegistry.withBuiltins() }], { maxDevices: 100 });
    for (let i = 0; i < 1000; i++) server.emit('updated', server.getRegistration(`meter-${String(i).padStart(5, '0')}`)!, {}, {});
    assert.equal(small.service.log('big', 'meter-00000').length, 0, 'the oldest were forgotten');
    assert.equal(small.service.log('big', 'meter-00999').length, 1);
    small.service.stop();
  });
});

describe('following deploys', () => {
  test('a redeployed server (same config node id, new server) is followed and the old one let go', async () => {
    const s1 = await startServer();
    const s2 = await startServer();
    let handles: ServerHandle[] = [{ id: 'n1', server: s1, registry: s1.registry as ModelRegistry }];
    const published: Published[] = [];
    const service = new SidebarService({ servers: () => handles, publish: (topic, data) => published.push({ topic, data: data as Record<string, unknown> }) });
    try {
      service.flush();
      assert.deepEqual((published.find((m) => m.topic === TOPIC.servers)!.data.servers as Array<{ id: string }>).map((s) => s.id), ['n1']);
      assert.equal(s1.listenerCount('registered'), 1);
      handles = [{ id: 'n1', server: s2, registry: s2.registry as ModelRegistry }];
      service.reconcile();
      assert.equal(s1.listenerCount('registered'), 0, 'old server released');
      assert.equal(s2.listenerCount('registered'), 1);
      handles = [];
      published.length = 0;
      service.flush();
      assert.deepEqual(published.find((m) => m.topic === TOPIC.servers)!.data.servers, []);
      assert.equal(s2.listenerCount('registered'), 0);
    } finally {
      service.stop();
      await s1.close();
      await s2.close();
    }
  });

  test('with change notifications, a new server is followed at once and a removed one let go (no polling)', async () => {
    const s1 = await startServer();
    const live = new Map<string, ServerHandle>();
    const changes = new EventEmitter();
    const service = new SidebarService({ servers: () => live.values(), serverChanges: changes, flushMs: 60_000 });
    service.start();
    let client: Lwm2mClient | undefined;
    try {
      live.set('n1', { id: 'n1', server: s1, registry: s1.registry as ModelRegistry });
      assert.equal(s1.listenerCount('traffic'), 0);
      changes.emit('added');
      assert.equal(s1.listenerCount('traffic'), 1, 'subscribed when told, not at the next poll');
      client = await startClient(s1.address().port);
      const cep = client.endpointName;
      await waitFor(() => service.log('n1', cep).some((e) => e.kind === 'register' && e.code === '2.01'), 5000, 'first Register logged');

      // A redeploy: the config node goes, then comes back with the same id and a new server.
      live.delete('n1');
      changes.emit('removed');
      assert.equal(s1.listenerCount('traffic'), 0, 'let go when told');
      live.set('n1', { id: 'n1', server: s1, registry: s1.registry as ModelRegistry });
      changes.emit('added');
      assert.ok(service.log('n1', cep).some((e) => e.kind === 'register'), 'what was remembered survives a redeploy');

      // Polling is off: a change nobody announced is not picked up by flush().
      const s2 = new Lwm2mServer({ listen: false });
      live.set('n2', { id: 'n2', server: s2, registry: s2.registry as ModelRegistry });
      service.flush();
      assert.equal(s2.listenerCount('traffic'), 0);
      live.clear();
      changes.emit('removed');
    } finally {
      service.stop();
      assert.equal(changes.listenerCount('added'), 0, 'stop() unsubscribes');
      await client?.stop();
      await s1.close();
    }
  });

  test('statusOf maps errors to HTTP statuses', () => {
    assert.equal(statusOf(new SidebarInputError('x')), 400);
    assert.equal(statusOf(new SidebarNotFoundError('x')), 404);
    assert.equal(statusOf(new Lwm2mError('TIMEOUT', 'x')), 504);
    assert.equal(statusOf(new Lwm2mError('UNKNOWN_ENDPOINT', 'x')), 404);
    assert.equal(statusOf(new Error('boom')), 500);
  });
});
