/**
 * The sidebar's "Test device" admin routes: starting a run needs lwm2m.write (polling lwm2m.read), the run is a job
 * polled for progress and report (with the HTML page on request), and bad requests answer with a status and a message.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { registerRoutes, ROUTE_BASE } from '../../nodes/lwm2m-sidebar/routes';
import { SidebarService, ServerHandle } from '../../nodes/lwm2m-sidebar/service';
import { Lwm2mServer } from '../../src/server';
import { Lwm2mClient } from '../../src/client';
import { ModelRegistry } from '../../src/model/registry';
import { startClient, startServer, waitFor } from './helpers';
import { call, fakeRed, Route } from './fake-red';


describe('sidebar device test routes', () => {
  let server: Lwm2mServer;
  let client: Lwm2mClient;
  let service: SidebarService;
  let routes: Route[];
  const ep = encodeURIComponent('dev/qual 1');

  before(async () => {
    server = await startServer({ requestTimeoutMs: 3000 });
    const handle: ServerHandle = { id: 'srv', server, registry: server.registry as ModelRegistry };
    service = new SidebarService({ servers: () => [handle] });
    const fake = fakeRed();
    routes = fake.routes;
    registerRoutes(fake.RED, service);
    client = await startClient(server.address().port, { endpoint: 'dev/qual 1' });
  });
  after(async () => {
    service.stop();
    await client?.stop();
    await server?.close();
  });

  test('starting a test needs lwm2m.write, polling it lwm2m.read', () => {
    const start = routes.find((r) => r.path === `${ROUTE_BASE}/servers/:server/devices/:endpoint/device-test`);
    const poll = routes.find((r) => r.path === `${ROUTE_BASE}/device-tests/:job`);
    assert.equal(start?.method, 'POST');
    assert.equal(start?.permission, 'lwm2m.write');
    assert.equal(poll?.method, 'GET');
    assert.equal(poll?.permission, 'lwm2m.read');
  });

  test('a run is started, polled to its report, and exported as HTML; a second run of the same device is refused meanwhile', async () => {
    const started = await call(routes, 'POST', `${ROUTE_BASE}/servers/srv/devices/${ep}/device-test`, { body: { cases: ['LightweightM2M-1.1-int-101', 'FW-DM-002', 'FW-DM-007'] } });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    assert.equal(started.body.state, 'running');
    const again = await call(routes, 'POST', `${ROUTE_BASE}/servers/srv/devices/${ep}/device-test`, { body: {} });
    assert.equal(again.status, 400);
    assert.match(again.body.error, /already running/);
    let job: { state: string; report?: { summary: { pass: number; fail: number }; cases: Array<{ id: string }> } } = started.body;
    await waitFor(async () => {
      job = (await call(routes, 'GET', `${ROUTE_BASE}/device-tests/${started.body.id}`)).body;
      return job.state !== 'running';
    }, 60000, 'the run ends');
    assert.equal(job.state, 'done');
    assert.deepEqual(job.report!.summary, { pass: 3, fail: 0, na: 0 });
    const withHtml = await call(routes, 'GET', `${ROUTE_BASE}/device-tests/${started.body.id}?html=1`, { query: { html: '1' } });
    assert.match(withHtml.body.html, /^<!DOCTYPE html>/);
    assert.match(withHtml.body.html, /dev\/qual 1/);
  });

  test('unknown device or job: 404; bad options: 400', async () => {
    const nobody = await call(routes, 'POST', `${ROUTE_BASE}/servers/srv/devices/nobody/device-test`, { body: {} });
    assert.equal(nobody.status, 404);
    assert.match(nobody.body.error, /nobody: not registered/);
    const noServer = await call(routes, 'POST', `${ROUTE_BASE}/servers/nope/devices/${ep}/device-test`, { body: {} });
    assert.equal(noServer.status, 404);
    const bad = await call(routes, 'POST', `${ROUTE_BASE}/servers/srv/devices/${ep}/device-test`, { body: { destructive: 'yes' } });
    assert.equal(bad.status, 400);
    const badPmin = await call(routes, 'POST', `${ROUTE_BASE}/servers/srv/devices/${ep}/device-test`, { body: { pmin: -1 } });
    assert.equal(badPmin.status, 400);
    const job = await call(routes, 'GET', `${ROUTE_BASE}/device-tests/0123456789abcdef`);
    assert.equal(job.status, 404);
  });
});
