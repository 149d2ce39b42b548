/**
 * The sidebar's admin routes as Node-RED sees them: every route is guarded by `RED.auth.needsPermission` (read routes
 * lwm2m.read, operations lwm2m.write) and answers JSON, errors with a status and a message.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { registerRoutes, ROUTE_BASE } from '../../nodes/lwm2m-sidebar/routes';
import { call, fakeRed, Route } from './fake-red';
import { SidebarService, ServerHandle } from '../../nodes/lwm2m-sidebar/service';
import { Lwm2mServer } from '../../src/server';
import { Lwm2mClient } from '../../src/client';
import { ModelRegistry } from '../../src/model/registry';
import { startClient, startServer } from './helpers';

describe('sidebar admin routes', () => {
  let server: Lwm2mServer;
  let client: Lwm2mClient;
  let service: SidebarService;
  let routes: Route[];

  before(async () => {
    server = await startServer();
    const handle: ServerHandle = { id: 'srv', server, registry: server.registry as ModelRegistry };
    service = new SidebarService({ servers: () => [handle] });
    const fake = fakeRed();
    routes = fake.routes;
    registerRoutes(fake.RED, service);
    client = await startClient(server.address().port, { endpoint: 'dev/with:odd chars' });
  });
  after(async () => {
    service.stop();
    await client?.stop();
    await server?.close();
  });

  test('every route is guarded: reads need lwm2m.read, acting on devices lwm2m.write', () => {
    assert.ok(routes.length >= 8);
    for (const r of routes) {
      assert.ok(r.path.startsWith(ROUTE_BASE + '/'), r.path);
      const acts = r.path.endsWith('/operations') || r.path.endsWith('/device-test') || r.path.startsWith(ROUTE_BASE + '/models/');
      assert.equal(r.permission, acts ? 'lwm2m.write' : 'lwm2m.read', `${r.method} ${r.path}`);
    }
  });

  test('lists servers and devices, and reads a device whose endpoint needs URL encoding', async () => {
    const servers = await call(routes, 'GET', `${ROUTE_BASE}/servers`);
    assert.equal(servers.status, 200);
    assert.equal(servers.body[0].id, 'srv');
    const page = await call(routes, 'GET', `${ROUTE_BASE}/servers/srv/devices`, { query: { q: 'odd', limit: '10' } });
    assert.equal(page.body.total, 1);
    const ep = encodeURIComponent('dev/with:odd chars');
    const det = await call(routes, 'GET', `${ROUTE_BASE}/servers/srv/devices/${ep}`);
    assert.equal(det.status, 200);
    assert.equal((det.body.device as { endpoint: string }).endpoint, 'dev/with:odd chars');
    const op = await call(routes, 'POST', `${ROUTE_BASE}/servers/srv/devices/${ep}/operations`, { body: { op: 'read', path: '/3/0/0' } });
    assert.equal(op.status, 200);
    assert.deepEqual(op.body.values, { '/3/0/0': 'Fleetwire' });
    const watch = await call(routes, 'POST', `${ROUTE_BASE}/servers/srv/devices/${ep}/watch`, { body: { after: 0 } });
    assert.equal(watch.body.ttlMs, 60000);
  });

  test('errors come back with a status and a readable message', async () => {
    const missing = await call(routes, 'GET', `${ROUTE_BASE}/servers/nope/devices`);
    assert.equal(missing.status, 404);
    assert.match(String(missing.body.error), /no deployed LwM2M server/);
    const bad = await call(routes, 'POST', `${ROUTE_BASE}/servers/srv/devices/${encodeURIComponent('dev/with:odd chars')}/operations`, { body: { op: 'write', path: '/3311/0/5851', value: 5, type: 'nonsense' } });
    assert.equal(bad.status, 200, 'a JSON number is accepted, and the model type wins over the type the editor guessed');
    assert.equal(client.get('/3311/0/5851'), 5);
    const wrong = await call(routes, 'POST', `${ROUTE_BASE}/servers/srv/devices/${encodeURIComponent('dev/with:odd chars')}/operations`, { body: { op: 'write', path: '/3311/0/5851', value: 'five' } });
    assert.equal(wrong.status, 400);
    assert.match(String(wrong.body.error), /"five" is not an integer/);
    const notFound = await call(routes, 'POST', `${ROUTE_BASE}/servers/srv/devices/${encodeURIComponent('dev/with:odd chars')}/operations`, { body: { op: 'read', path: '/3304/0' } });
    assert.equal(notFound.status, 502);
    assert.equal(notFound.body.code, 'COAP_4.04');
    assert.equal(notFound.body.coapCode, '4.04');
    const arr = await call(routes, 'POST', `${ROUTE_BASE}/servers/srv/devices/x/operations`, { body: [1] as never });
    assert.equal(arr.status, 400);
    const model = await call(routes, 'POST', `${ROUTE_BASE}/models/abc`);
    assert.equal(model.status, 400);
    const noModels = await call(routes, 'POST', `${ROUTE_BASE}/models/10241`);
    assert.equal(noModels.status, 404, 'no downloader configured');
  });
});
