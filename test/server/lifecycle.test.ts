/**
 * A server or bootstrap server closed while it is still binding releases its socket (a Node-RED redeploy can close a
 * node right after creating it), and the port is free again at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import { Lwm2mServer } from '../../src/server';
import { BootstrapServer } from '../../src/bootstrap';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

for (const [name, make] of [
  ['Lwm2mServer', (port: number) => new Lwm2mServer({ address: '127.0.0.1', port })],
  ['BootstrapServer', (port: number) => new BootstrapServer({ address: '127.0.0.1', port })],
] as const) {
  test(`${name} closed while binding leaves no socket bound`, async () => {
    const port = await freePort();
    const server = make(port);
    const started = server.start();
    await server.close();
    await started; // the start itself completed (it was not rejected by the close)
    assert.equal(await canBind(port), true, `port ${port} is free after close()`);
  });

  test(`${name} started twice at once binds once, and close frees the port`, async () => {
    const port = await freePort();
    const server = make(port);
    await Promise.all([server.start(), server.start()]);
    assert.equal(await canBind(port), false, 'the port is taken while running');
    await server.close();
    assert.equal(await canBind(port), true);
  });
}
