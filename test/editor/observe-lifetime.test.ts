/**
 * Observations started from the sidebar end when no editor watches their device any more (a browser closed with an
 * observation running), after a grace period, unless the user pinned them. Through the admin routes, with our server and
 * our client as the device on loopback, and an injected clock for the service (so no test waits for the grace period).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { registerRoutes, ROUTE_BASE } from '../../nodes/lwm2m-sidebar/routes';
import { ServerHandle, SidebarService } from '../../nodes/lwm2m-sidebar/service';
import { Lwm2mServer } from '../../src/server';
import { Lwm2mClient } from '../../src/client';
import { ModelRegistry } from '../../src/model/registry';
import { call, fakeRed, Route } from './fake-red';
import { startClient, startServer, waitFor } from './helpers';

const GRACE = 30_000;

describe('sidebar observations outlive their editor by a grace period only', () => {
  let server: Lwm2mServer;
  let client: Lwm2mClient;
  let service: SidebarService;
  let routes: Route[];
  let clock = 1_000_000;
  let dev: string;
  const ep = 'sweep-sensor';

  const op = (body: Record<string, unknown>) => call(routes, 'POST', `${dev}/operations`, { body });
  const observed = (path: string) => server.observations(ep).filter((o) => o.paths.includes(path));
  /** Observations the device itself still serves (the client's side). */
  const atDevice = () => client.observations.size;

  before(async () => {
    server = await startServer();
    const handle: ServerHandle = { id: 'srv', server, registry: server.registry as ModelRegistry };
    // No timer (start() is not called): the test runs the service's one sweep by calling flush().
    service = new SidebarService({ servers: () => [handle], now: () => clock, observeGraceMs: GRACE, watchTtlMs: 60_000 });
    const fake = fakeRed();
    routes = fake.routes;
    registerRoutes(fake.RED, service);
    client = await startClient(server.address().port, { endpoint: ep });
    dev = `${ROUTE_BASE}/servers/srv/devices/${ep}`;
  });
  after(async () => {
    service.stop();
    await client?.stop();
    await server?.close();
  });

  test('an unpinned observation ends after the last watcher left and the grace period passed; the device is told', async () => {
    assert.equal((await call(routes, 'POST', `${dev}/watch`, { body: { after: 0 } })).status, 200);
    const r = await op({ op: 'observe', path: '/3303/0/5700' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.observation.pinned, false);
    await waitFor(() => atDevice() === 1, 5000, 'the device serves the observation');

    // Watched: the sweep leaves it alone however long it runs.
    clock += GRACE * 3;
    await call(routes, 'POST', `${dev}/watch`, { body: { after: 0 } });
    service.flush();
    clock += GRACE + 1;
    service.flush();
    assert.equal(observed('/3303/0/5700').length, 1, 'kept while an editor watches the device');

    // The editor closes the device: the sweep notes it, then ends the observation once the grace period is over.
    await call(routes, 'POST', `${dev}/unwatch`, { body: {} });
    service.flush();
    clock += GRACE - 1;
    service.flush();
    assert.equal(observed('/3303/0/5700').length, 1, 'kept within the grace period');
    clock += 2;
    service.flush();
    assert.equal(observed('/3303/0/5700').length, 0, 'gone from the server');
    // Observe deregistration (GET with Observe = 1) reached the device, which stops notifying.
    await waitFor(() => atDevice() === 0, 5000, 'the device dropped the observation');
    const log = service.log('srv', ep);
    assert.ok(log.some((e) => e.kind === 'observe-cancelled' && /no editor has watched/.test(e.text)), 'the log says why');
    // The server logs the exchange when the device's answer arrives (after the device has acted on it).
    await waitFor(() => service.log('srv', ep).some((e) => e.dir === 'out' && e.op === 'cancel-observe'), 5000, 'the cancel request in the log');
    const det = await call(routes, 'GET', dev);
    assert.equal(det.body.observations.length, 0);
  });

  test('a browser that just stops renewing its watch counts as gone once the watch has expired', async () => {
    await call(routes, 'POST', `${dev}/watch`, { body: { after: 0 } });
    await op({ op: 'observe', path: '/3303/0/5700' });
    await waitFor(() => atDevice() === 1, 5000, 'observed');
    clock += 60_000; // the watch's TTL: no renewal came
    service.flush();
    clock += GRACE;
    service.flush();
    assert.equal(observed('/3303/0/5700').length, 0);
    await waitFor(() => atDevice() === 0, 5000, 'the device dropped the observation');
  });

  test('a pinned observation stays; unpinned, it ends after the grace period', async () => {
    await call(routes, 'POST', `${dev}/watch`, { body: { after: 0 } });
    const pinned = await op({ op: 'observe', path: '/3311/0/5851', pinned: true });
    assert.equal(pinned.body.observation.pinned, true);
    const plain = await op({ op: 'observe', path: '/3303/0/5700' });
    assert.equal(plain.body.observation.pinned, false);
    await waitFor(() => atDevice() === 2, 5000, 'both observed');
    await call(routes, 'POST', `${dev}/unwatch`, { body: {} });
    service.flush();
    clock += GRACE * 10;
    service.flush();
    assert.equal(observed('/3303/0/5700').length, 0, 'the unpinned one ended');
    assert.equal(observed('/3311/0/5851').length, 1, 'the pinned one stays');
    await waitFor(() => atDevice() === 1, 5000, 'the device still serves the pinned one');
    const det = await call(routes, 'GET', dev);
    assert.deepEqual(det.body.observations.map((o: { paths: string[]; pinned: boolean }) => [o.paths[0], o.pinned]), [['/3311/0/5851', true]]);

    // Still notifying: the pinned observation keeps the sidebar's values (and charts) fresh with nobody watching.
    client.set('/3311/0/5851', 77);
    await waitFor(() => service.device('srv', ep).values['/3311/0/5851']?.v === 77, 5000, 'notification of the pinned one');

    const unpin = await op({ op: 'pin-observe', path: '/3311/0/5851', pinned: false });
    assert.equal(unpin.status, 200, JSON.stringify(unpin.body));
    assert.equal(unpin.body.observation.pinned, false);
    service.flush();
    clock += GRACE;
    service.flush();
    assert.equal(observed('/3311/0/5851').length, 0, 'unpinned: ended after the grace period');
    await waitFor(() => atDevice() === 0, 5000, 'the device dropped it');
  });

  test('pinning checks its input and leaves flows\' observations alone', async () => {
    const bad = await op({ op: 'pin-observe', path: '/3303/0/5700', pinned: 'yes' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /pinned must be true or false/);
    const none = await op({ op: 'pin-observe', path: '/3303/0/5700', pinned: true });
    assert.equal(none.status, 404);
    const flow = await server.observe(ep, '/3303/0/5700');
    const foreign = await op({ op: 'pin-observe', path: '/3303/0/5700', pinned: true });
    assert.equal(foreign.status, 400);
    assert.match(foreign.body.error, /observed by a flow/);
    // A flow's observation is never swept, watched or not.
    service.flush();
    clock += GRACE * 10;
    service.flush();
    assert.equal(observed('/3303/0/5700').length, 1);
    await server.cancelObservation(ep, flow.id);
  });
});
