/**
 * The sidebar's device list as pictures and files: each device's state (awake / asleep / expiring), the list sorted on
 * the server side, exported as CSV or JSON through the admin route; and the charts of observed numeric resources, fed by
 * notifications from our client and pushed to a watching editor point by point.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lwm2mServer, MemoryRegistrationStore, Registration } from '../../src/server';
import { Lwm2mClient } from '../../src/client';
import { ModelRegistry } from '../../src/model/registry';
import { registerRoutes, ROUTE_BASE } from '../../nodes/lwm2m-sidebar/routes';
import { EXPORT_COLUMNS, expiringWithinMs, ServerHandle, SidebarService, TOPIC } from '../../nodes/lwm2m-sidebar/service';
import { SidebarInputError } from '../../nodes/lwm2m-sidebar/errors';
import { call, fakeRed, Route } from './fake-red';
import { startClient, startServer, waitFor } from './helpers';

const NOW = 1_700_000_000_000;

function reg(i: number, over: Partial<Registration> = {}): Registration {
  return {
    id: `r${i}`, endpoint: `dev-${String(i).padStart(3, '0')}`, version: '1.1', lifetime: 300, binding: 'U', queueMode: false,
    address: `10.0.0.${i}`, port: 5683, family: 'IPv4', transport: 'coap', secure: false, security: 'nosec',
    rootPath: '/', objectLinks: '</1/0>,</3/0>', registeredAt: NOW - 1000 * i, lastUpdateAt: NOW - 1000 * i, expiresAt: NOW + 300_000, ...over,
  };
}

describe('device list: state, order and export', () => {
  let server: Lwm2mServer;
  let service: SidebarService;
  let routes: Route[];
  const now = NOW;

  before(() => {
    const store = new MemoryRegistrationStore();
    for (let i = 0; i < 30; i++) store.add(reg(i));
    // Queue mode, no message since it registered: asleep.
    store.add(reg(30, { endpoint: 'sleepy', queueMode: true, binding: 'UQ' }));
    // Half a second of lifetime left: expiring.
    store.add(reg(31, { endpoint: 'late', expiresAt: NOW + 500 }));
    // A name a spreadsheet would take for a formula, with a comma and a quote.
    store.add(reg(32, { endpoint: '=cmd|"x",y' }));
    server = new Lwm2mServer({ store, listen: false });
    const handle: ServerHandle = { id: 'fleet', server, registry: ModelRegistry.withBuiltins() };
    service = new SidebarService({ servers: () => [handle], now: () => now });
    const fake = fakeRed();
    routes = fake.routes;
    registerRoutes(fake.RED, service);
  });
  after(() => service.stop());

  test('each device says whether it is awake, asleep or expiring', () => {
    const items = service.listDevices('fleet', { limit: 500 }).items;
    const state = (ep: string) => items.find((d) => d.endpoint === ep)!.state;
    assert.equal(state('dev-000'), 'awake');
    assert.equal(state('sleepy'), 'asleep');
    assert.equal(state('late'), 'expiring');
    assert.equal(expiringWithinMs(300), 15_000, '5% of the lifetime');
    assert.equal(expiringWithinMs(10), 2_000, 'at least 2 s');
    assert.equal(expiringWithinMs(86400), 60_000, 'at most a minute');
  });

  test('sorted on the server side, paged, and filtered', () => {
    const byState = service.listDevices('fleet', { sort: 'state', limit: '3' });
    assert.equal(byState.total, 33);
    assert.deepEqual(byState.items.map((d) => d.endpoint), ['late', 'sleepy', '=cmd|"x",y'], 'expiring, asleep, then awake by endpoint');
    const recent = service.listDevices('fleet', { sort: 'lastSeen', dir: 'desc', limit: '2', offset: '1' });
    assert.deepEqual(recent.items.map((d) => d.endpoint), ['dev-001', 'dev-002']);
    assert.equal(recent.desc, true);
    const names = service.listDevices('fleet', { sort: 'endpoint', dir: 'desc', q: 'dev-00', limit: '100' });
    assert.deepEqual(names.items.map((d) => d.endpoint), ['dev-009', 'dev-008', 'dev-007', 'dev-006', 'dev-005', 'dev-004', 'dev-003', 'dev-002', 'dev-001', 'dev-000']);
    assert.equal(names.total, 10);
    const plain = service.listDevices('fleet', { sort: 'nonsense', limit: '2' });
    assert.equal(plain.sort, undefined, 'an unknown order keeps registration order');
    assert.deepEqual(plain.items.map((d) => d.endpoint), ['dev-000', 'dev-001']);
  });

  test('exported as CSV (RFC 4180, formulas defused) through the admin route', async () => {
    const r = await call(routes, 'GET', `${ROUTE_BASE}/servers/fleet/export`, { query: { format: 'csv', sort: 'state' } });
    assert.equal(r.status, 200);
    assert.match(r.headers!['content-type'], /^text\/csv/);
    assert.match(r.headers!['content-disposition'], /^attachment; filename="lwm2m-devices-[\dT-]+\.csv"$/);
    const lines = (r.body as string).split('\r\n');
    assert.equal(lines[0], EXPORT_COLUMNS.join(','));
    assert.equal(lines.length, 1 + 33 + 1, 'header, one line per device, final line break');
    assert.equal(lines[1].split(',')[0], 'late');
    assert.equal(lines[1].split(',')[1], 'expiring');
    assert.match(lines[1], new RegExp(`,${new Date(NOW + 500).toISOString()}$`), 'times as ISO 8601');
    assert.equal(lines[3].split(',').slice(0, 1)[0], `"'=cmd|""x""`, 'quoted, quotes doubled, and not a formula');
    assert.ok(lines[3].startsWith(`"'=cmd|""x"",y",awake,10.0.0.32,5683,`), lines[3]);
  });

  test('exported as JSON, filtered like the list', async () => {
    const r = await call(routes, 'GET', `${ROUTE_BASE}/servers/fleet/export`, { query: { format: 'json', q: 'sleepy' } });
    assert.equal(r.status, 200);
    assert.match(r.headers!['content-type'], /^application\/json/);
    const rows = JSON.parse(r.body as string) as Array<Record<string, unknown>>;
    assert.equal(rows.length, 1);
    assert.deepEqual(Object.keys(rows[0]), [...EXPORT_COLUMNS]);
    assert.equal(rows[0].endpoint, 'sleepy');
    assert.equal(rows[0].state, 'asleep');
    assert.equal(rows[0].queueMode, true);
    assert.equal(rows[0].registeredAt, new Date(NOW - 30_000).toISOString());
    const bad = await call(routes, 'GET', `${ROUTE_BASE}/servers/fleet/export`, { query: { format: 'xml' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /not csv or json/);
    assert.throws(() => service.exportDevices('fleet', { format: 'pdf' }), SidebarInputError);
    const missing = await call(routes, 'GET', `${ROUTE_BASE}/servers/nope/export`);
    assert.equal(missing.status, 404);
  });
});

describe('charts of observed numeric resources', () => {
  let server: Lwm2mServer;
  let client: Lwm2mClient;
  let service: SidebarService;
  const published: Array<{ topic: string; data: Record<string, unknown> }> = [];
  let ep: string;

  before(async () => {
    server = await startServer();
    const handle: ServerHandle = { id: 'srv', server, registry: server.registry as ModelRegistry };
    service = new SidebarService({ servers: () => [handle], seriesSize: 5, publish: (topic, data) => published.push({ topic, data: data as Record<string, unknown> }) });
    service.reconcile();
    client = await startClient(server.address().port);
    ep = client.endpointName;
  });
  after(async () => {
    service.stop();
    await client?.stop();
    await server?.close();
  });

  test('every notification of a number is a point; the editor gets the chart, then only new points', async () => {
    service.watch('srv', ep, 0);
    await service.operate('srv', ep, { op: 'observe', path: '/3303/0/5700' });
    await service.operate('srv', ep, { op: 'observe', path: '/3303/0/5701' });
    const seen: number[] = [];
    for (const v of [20, 20.5, 21, 21.5]) {
      client.set('/3303/0/5700', v);
      await waitFor(() => service.device('srv', ep).values['/3303/0/5700']?.v === v, 5000, `notification of ${v}`);
      seen.push(v);
    }
    const det = service.device('srv', ep);
    assert.deepEqual(det.series['/3303/0/5700'].map((p) => p[1]), [21.5, ...seen], 'the value the Observe answer carried, then the notified ones, oldest first');
    assert.ok(det.series['/3303/0/5700'].every((p, i, a) => i === 0 || p[0] >= a[i - 1][0]), 'times increase');
    assert.equal(det.series['/3303/0/5701'], undefined, 'a string (the unit) has no chart');
    assert.equal(det.values['/3303/0/5701']?.v, 'Cel');

    published.length = 0;
    service.flush();
    const first = published.find((m) => m.topic === TOPIC.device)!;
    const pts = (first.data.points as Record<string, Array<[number, number]>>)['/3303/0/5700'];
    assert.deepEqual(pts.map((p) => p[1]), [21.5, ...seen], 'the first push after the watch started has the whole chart');

    published.length = 0;
    for (const v of [22, 22.5]) {
      client.set('/3303/0/5700', v);
      await waitFor(() => service.device('srv', ep).values['/3303/0/5700']?.v === v, 5000, `notification of ${v}`);
    }
    service.flush();
    const next = published.find((m) => m.topic === TOPIC.device)!;
    assert.deepEqual((next.data.points as Record<string, Array<[number, number]>>)['/3303/0/5700'].map((p) => p[1]), [22, 22.5], 'only the new points');
    assert.deepEqual(service.device('srv', ep).series['/3303/0/5700'].map((p) => p[1]), [20.5, 21, 21.5, 22, 22.5], 'bounded to seriesSize');
    published.length = 0;
    service.flush();
    assert.equal(published.filter((m) => m.topic === TOPIC.device).length, 0, 'nothing new, nothing sent');
    service.unwatch('srv', ep);
  });
});
