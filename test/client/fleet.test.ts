/**
 * A virtual fleet against our server: 200 clients, each with its own socket and endpoint name, one shared scheduler.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFleet } from '../../src/client';
import { startServer, waitFor } from './helpers';

test('a fleet of 200 clients registers, is read, and de-registers', async () => {
  const server = await startServer();
  const fleet = createFleet({
    count: 200, prefix: `fleet-${process.pid}-`, serverUri: `coap://127.0.0.1:${server.address().port}`,
    localAddress: '127.0.0.1', concurrency: 50, connectivity: false, firmware: false, location: false,
    perClient: (i) => ({ objects: { 3303: { 0: { 5700: 20 + i / 10 } } } }),
  });
  const errors: unknown[] = [];
  let deregistered = 0;
  server.on('deregistered', () => { deregistered++; });
  fleet.on('client-error', (_c, e) => errors.push(e));
  try {
    assert.equal(fleet.stats().stopped, 200);
    await fleet.start();
    await waitFor(() => fleet.stats().registered === 200, 10_000, '200 registrations');
    assert.equal(server.registrations().length, 200);
    assert.deepEqual(errors, []);
    // every client shares the fleet's scheduler and registry
    assert.ok(fleet.clients.every((c) => c.scheduler === fleet.scheduler && c.registry === fleet.registry));
    // one Update task per client on the shared scheduler, nothing else
    assert.equal(fleet.scheduler.size >= 200, true);
    const r = await server.read(`fleet-${process.pid}-123`, '/3303/0/5700');
    assert.equal(r.value, 32.3);
    fleet.get(`fleet-${process.pid}-7`)!.set('/3303/0/5700', 99);
    assert.equal((await server.read(`fleet-${process.pid}-7`, '/3303/0/5700')).value, 99);
    await fleet.stop();
    assert.equal(fleet.stats().stopped, 200);
    await waitFor(() => deregistered === 200, 5000, '200 de-registrations');
    assert.equal(server.registrations().length, 0);
  } finally {
    await fleet.stop();
    await server.close();
  }
});
