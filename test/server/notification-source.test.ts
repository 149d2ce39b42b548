/**
 * Notifications are accepted only from the address of the device's registration (RFC 7252 5.3.2: a response matches
 * by token and by its source being the request's destination; RFC 7641 3.2). A NoSec device's observation token sent
 * from another port is ignored; after the device's Update from a new address (NAT rebinding) its observations follow.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lwm2mServer, MemoryRegistrationStore } from '../../src';
import { NotificationEvent } from '../../src/server/server';
import { startServer, ServerEnv, sleep, until } from '../helpers/server-env';
import { RawDevice } from '../helpers/raw-device';
import { createRawPeer, RawPeer } from '../helpers/raw-coap';

const closing: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const c of closing.reverse()) await c.close();
});

async function spoofer(): Promise<RawPeer> {
  const r = await createRawPeer();
  closing.push(r);
  return r;
}

/** A notification for `token` with sequence `seq` and a text payload, as bytes from coap-packet (not our encoder). */
function notification(r: RawPeer, port: number, token: Buffer, seq: number, text: string, confirmable: boolean, messageId: number): void {
  r.send({
    confirmable, messageId, token, code: '2.05', payload: Buffer.from(text),
    options: [{ name: 'Observe', value: Buffer.from([seq]) }, { name: 'Content-Format', value: Buffer.alloc(0) }],
  }, port);
}

async function observed(env: ServerEnv, name: string): Promise<{ d: RawDevice; token: Buffer; values: unknown[] }> {
  const d = await env.device(name);
  assert.equal((await d.register()).code, '2.01');
  d.on('GET', '/3/0/9', (req) => ({ code: '2.05', format: 0, payload: '100', observe: req.observe === 0 }));
  const values: unknown[] = [];
  env.server.on('notification', (ev: NotificationEvent) => {
    if (ev.registration.endpoint === name) values.push(ev.value);
  });
  const obs = await env.server.observe(name, '/3/0/9', { format: 0 });
  return { d, token: Buffer.from(obs.token, 'hex'), values };
}

describe('notifications only from the registration address (RFC 7252 5.3.2, RFC 7641 3.2)', () => {
  test('a valid token from another port is ignored (no delivery, no RST); from the device it is delivered', async () => {
    const env = await startServer();
    closing.push(env);
    const { d, token, values } = await observed(env, 'src-1');
    const x = await spoofer();
    notification(x, env.port, token, 50, '1', false, 100);
    notification(x, env.port, token, 51, '2', true, 101);
    await x.quiet(150);
    assert.deepEqual(values, [], 'nothing from the other port is delivered');
    assert.equal(x.received.length, 0, 'the other port gets neither ACK nor RST');
    assert.equal(await d.notify(token.toString('hex'), '42', 0), 'ack');
    await until(() => values.length === 1);
    assert.deepEqual(values, [42]);
  });

  test('the device updates from a new port (NAT rebinding): notifications follow it, the old port is ignored', async () => {
    const env = await startServer();
    closing.push(env);
    const { d, token, values } = await observed(env, 'src-2');
    // The same device behind a new NAT binding: another socket, same registration and observation.
    const moved = await env.device('src-2');
    moved.location = d.location;
    for (const [k, v] of d.observations) moved.observations.set(k, { ...v });
    // Before its Update, a notification from the new port is not the registration's: ignored, and not reset (which
    // would cancel the observation on the device, RFC 7641 3.6).
    assert.equal(await moved.notify(token.toString('hex'), '7', 0, { timeoutMs: 300 }), 'timeout');
    assert.deepEqual(values, []);
    assert.equal((await moved.update()).code, '2.04');
    assert.equal(env.server.store.getByEndpoint('src-2')!.port, moved.port);
    assert.equal(await moved.notify(token.toString('hex'), '8', 0), 'ack');
    await until(() => values.length === 1);
    assert.deepEqual(values, [8]);
    // The old binding is not the device's any more.
    const seq = d.observations.get(token.toString('hex'))!;
    seq.seq = 200;
    assert.equal(await d.notify(token.toString('hex'), '9', 0, { timeoutMs: 300 }), 'timeout');
    await sleep(50);
    assert.deepEqual(values, [8]);
  });

  test('a restored observation (server restarted on the same store): same rule', async () => {
    const store = new MemoryRegistrationStore();
    const env = await startServer({ store });
    closing.push(env);
    const { d, token } = await observed(env, 'src-3');
    await env.server.close();
    // The device holds the observation; a new server process serves the same store.
    const server = new Lwm2mServer({ address: '127.0.0.1', port: 0, store, coap: { ackTimeoutMs: 200, maxRetransmit: 1 } });
    await server.start();
    closing.push(server);
    const values: unknown[] = [];
    server.on('notification', (ev: NotificationEvent) => values.push(ev.value));
    d.serverPort = server.address().port;
    const x = await spoofer();
    notification(x, d.serverPort, token, 60, '5', true, 300);
    await x.quiet(150);
    assert.deepEqual(values, []);
    assert.equal(x.received.length, 0);
    assert.equal(await d.notify(token.toString('hex'), '6', 0), 'ack');
    await until(() => values.length === 1);
    assert.deepEqual(values, [6]);
  });
});
