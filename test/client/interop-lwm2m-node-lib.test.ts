/**
 * Our client against an independent LwM2M server: lwm2m-node-lib 1.4.0 (Telefonica, on node-coap 0.22). It registers,
 * is read and written through that server's API, and de-registers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import { Lwm2mClient } from '../../src/client';
import { waitFor } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const lib = require('lwm2m-node-lib') as { server: NodeLibServer };

interface NodeLibServer {
  start(config: Record<string, unknown>, cb: (err: Error | null, info: unknown) => void): void;
  stop(info: unknown, cb: (err: Error | null) => void): void;
  setHandler(info: unknown, type: string, handler: (...args: unknown[]) => void): void;
  read(id: number, obj: string | number, inst: string | number, res: string | number, cb: (err: Error | null, value?: string) => void): void;
  write(id: number, obj: string | number, inst: string | number, res: string | number, value: string, cb: (err: Error | null) => void): void;
  execute(id: number, obj: string | number, inst: string | number, res: string | number, args: string | null, cb: (err: Error | null) => void): void;
  getDevice(name: string, cb: (err: Error | null, dev?: { id: number; name: string; lifetime: string }) => void): void;
  getRegistry(): { stopLifetimeCheck(): void };
}

/** A free UDP port: lwm2m-node-lib reaches devices through a proxy on its own port, so it cannot listen on port 0. */
async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const call = <T>(fn: (cb: (err: Error | null, v?: T) => void) => void): Promise<T | undefined> =>
  new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));

test('lwm2m-node-lib server: our client registers, is read, written, executed, and de-registers', async () => {
  const port = await freePort();
  const server = lib.server;
  const info = await call<unknown>((cb) => server.start({ port, serverProtocol: 'udp4', defaultType: 'Device', logLevel: 'FATAL', lifetimeCheckInterval: 60_000 }, cb));
  const events: string[] = [];
  server.setHandler(info, 'registration', (ep, lt, version, binding, payload, cb) => {
    events.push(`register ${String(ep)} lt=${String(lt)} ${String(version)} ${String(binding)} ${String(payload)}`);
    (cb as () => void)();
  });
  server.setHandler(info, 'unregistration', (device, cb) => {
    events.push(`unregister ${(device as { name: string }).name}`);
    (cb as () => void)();
  });
  const client = new Lwm2mClient({
    endpoint: 'interop-node-lib', serverUri: `coap://127.0.0.1:${port}`, localAddress: '127.0.0.1', version: '1.0', lifetime: 120,
    objects: { 3303: { 0: { 5700: 21.5, 5701: 'Cel' } }, 3311: { 0: { 5850: false, 5851: 10 } } },
  });
  const execs: string[] = [];
  client.on('execute', (e) => execs.push(e.path));
  try {
    await client.start();
    await client.whenRegistered(5000);
    assert.match(events[0], /^register interop-node-lib lt=120 1\.0 U /);
    assert.match(events[0], /<\/3303\/0>/);
    assert.doesNotMatch(events[0], /<\/0\/0>/);
    const dev = await call<{ id: number; name: string; lifetime: string }>((cb) => server.getDevice('interop-node-lib', cb));
    assert.ok(dev);
    assert.equal(await call<string>((cb) => server.read(dev.id, 3303, 0, 5700, cb)), '21.5');
    assert.equal(await call<string>((cb) => server.read(dev.id, 3, 0, 0, cb)), 'FleetWire');
    await call((cb) => server.write(dev.id, 3311, 0, 5851, '80', cb));
    assert.equal(client.get('/3311/0/5851'), 80);
    await call((cb) => server.execute(dev.id, 3, 0, 4, null, cb));
    assert.deepEqual(execs, ['/3/0/4']);
    await assert.rejects(call((cb) => server.read(dev.id, 3303, 0, 9999, cb)));
    await client.stop();
    await waitFor(() => events.some((e) => e.startsWith('unregister')), 3000, 'unregistration');
  } finally {
    await client.stop();
    server.getRegistry().stopLifetimeCheck();
    await call((cb) => server.stop(info, cb));
  }
});
