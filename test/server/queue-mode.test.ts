import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { nextEvent, startServer, sleep, until } from '../helpers/server-env';
import { CancelledError } from '../../src/errors';
import { QueueFullError, QueueTimeoutError, Registration } from '../../src/server';

describe('queue mode (binding UQ / Q parameter)', () => {
  test('awake after Register, sleeping after queueAwakeMs; requests to a sleeping device wait for its next Update', async () => {
    const env = await startServer({ queueAwakeMs: 300 });
    try {
      const d = await env.device('q-1');
      d.on('GET', '/3/0/9', { code: '2.05', format: 0, payload: '42' });
      const awake = nextEvent<[Registration]>(env.server, 'awake');
      const sleeping = nextEvent<[Registration]>(env.server, 'sleeping', 3000);
      assert.equal((await d.register(['lt=60', 'lwm2m=1.1', 'Q'])).code, '2.01');
      assert.equal((await awake)[0].endpoint, 'q-1');
      assert.equal(env.server.isAwake('q-1'), true);

      // awake: sent at once
      assert.equal((await env.server.read('q-1', '/3/0/9')).value, 42);

      assert.equal((await sleeping)[0].endpoint, 'q-1');
      assert.equal(env.server.isAwake('q-1'), false);
      const before = d.received.length;
      const pending = env.server.read('q-1', '/3/0/9');
      const pending2 = env.server.write('q-1', '/3/0/14', '+01:00');
      d.on('PUT', '/3/0/14', { code: '2.04' });
      await sleep(100);
      assert.equal(d.received.length, before, 'nothing sent to a sleeping device');
      assert.equal(env.server.queuedRequests('q-1'), 2);

      const awake2 = nextEvent<[Registration]>(env.server, 'awake');
      assert.equal((await d.update()).code, '2.04');
      await awake2;
      assert.equal((await pending).value, 42);
      assert.equal((await pending2).code, '2.04');
      assert.equal(env.server.queuedRequests('q-1'), 0);
      // sent in order, one after the other
      const sent = d.received.slice(before).map((r) => `${r.method} ${r.path}`);
      assert.deepEqual(sent, ['GET /3/0/9', 'PUT /3/0/14']);
    } finally {
      await env.close();
    }
  });

  test('bounded queue (QueueFullError), per-request deadline (QueueTimeoutError), cancel on de-register (CancelledError)', async () => {
    const env = await startServer({ queueAwakeMs: 100, maxQueuedPerDevice: 2, queueTimeoutMs: 400 });
    try {
      const d = await env.device('q-2');
      await d.register(['lt=60', 'b=UQ']);
      await until(() => !env.server.isAwake('q-2'), 2000, 'asleep');
      const a = env.server.read('q-2', '/3/0/1').catch((e: unknown) => e);
      const b = env.server.read('q-2', '/3/0/2').catch((e: unknown) => e);
      await assert.rejects(env.server.read('q-2', '/3/0/3'), (err: unknown) => {
        assert.ok(err instanceof QueueFullError);
        assert.match(err.message, /q-2 \/3\/0\/3: device is sleeping \(queue mode\) and already has 2 queued requests/);
        return true;
      });
      const errA = await a;
      assert.ok(errA instanceof QueueTimeoutError);
      assert.match(errA.message, /^q-2 \/3\/0\/1: device is sleeping \(queue mode\) and did not wake up within 400 ms/);
      assert.ok((await b) instanceof QueueTimeoutError);
      assert.equal(env.server.queuedRequests('q-2'), 0);

      const c = env.server.read('q-2', '/3/0/1').catch((e: unknown) => e);
      await sleep(20);
      await d.deregister();
      const errC = await c;
      assert.ok(errC instanceof CancelledError);
      assert.match(errC.message, /q-2 \/3\/0\/1 \(device deregistered\): cancelled/);
    } finally {
      await env.close();
    }
  });

  test('a request the device does not answer goes back to the queue and is sent on its next Update', async () => {
    const env = await startServer({ queueAwakeMs: 2000, requestTimeoutMs: 300 });
    try {
      const d = await env.device('q-3');
      // The first exchange (and its retransmissions: same message id) gets no answer.
      let firstMid: number | undefined;
      const mids = new Set<number>();
      d.on('GET', '/3/0/9', (req) => {
        firstMid ??= req.messageId;
        mids.add(req.messageId);
        return req.messageId === firstMid ? null : { code: '2.05', format: 0, payload: '7' };
      });
      await d.register(['lt=60', 'lwm2m=1.1', 'Q']);
      const sleeping = nextEvent<[Registration]>(env.server, 'sleeping', 3000);
      const pending = env.server.read('q-3', '/3/0/9');
      await sleeping; // the unanswered request put the device to sleep
      assert.equal(env.server.queuedRequests('q-3'), 1);
      await d.update();
      assert.equal((await pending).value, 7);
      assert.equal(mids.size, 2);
    } finally {
      await env.close();
    }
  });

  test('queued requests of an expiring device are cancelled; close() rejects what is queued', async () => {
    const env = await startServer({ queueAwakeMs: 50, expiryGraceMs: 0 });
    const d = await env.device('q-4');
    await d.register(['lt=1', 'b=UQ']);
    await until(() => !env.server.isAwake('q-4'), 2000, 'asleep');
    const p = env.server.read('q-4', '/3/0/1').catch((e: unknown) => e);
    const errP = await p;
    assert.ok(errP instanceof CancelledError && /expired/.test(errP.message));
    const e = await env.device('q-5');
    await e.register(['lt=60', 'b=UQ']);
    await until(() => !env.server.isAwake('q-5'), 2000, 'asleep');
    const q = env.server.read('q-5', '/3/0/1').catch((e: unknown) => e);
    await env.close();
    assert.ok((await q) instanceof CancelledError);
    assert.deepEqual(env.server.stats().queue, { devices: 0, queued: 0, timers: 0 });
  });
});
