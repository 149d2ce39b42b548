/**
 * Queue mode: a sleeping device may wake with a full Register instead of an Update (Core 1.1 6.2.1; Transport 1.1
 * "Queue Mode Operation"). What was queued for it is sent under the new registration, and an Observe among it becomes
 * an observation of the new registration, whose later notifications reach the observer.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { nextEvent, startServer, sleep, until } from '../helpers/server-env';
import { NotificationEvent, Registration } from '../../src/server';
import { CancelledError } from '../../src/errors';

describe('queue mode: woken by a full Register', () => {
  test('a queued Observe answered after a re-Register binds to the new registration; its notifications arrive', async () => {
    const env = await startServer({ queueAwakeMs: 300 });
    try {
      const d = await env.device('qr-1');
      d.on('GET', '/3303/0/5700', { code: '2.05', format: 0, payload: '21.5', observe: true });
      d.on('GET', '/3/0/9', { code: '2.05', format: 0, payload: '80' });
      const sleeping = nextEvent<[Registration]>(env.server, 'sleeping', 3000);
      assert.equal((await d.register(['lt=60', 'lwm2m=1.1', 'Q'])).code, '2.01');
      const firstId = d.location[1];
      await sleeping;
      assert.equal(env.server.isAwake('qr-1'), false);

      const before = d.received.length;
      const observing = env.server.observe('qr-1', '/3303/0/5700');
      const reading = env.server.read('qr-1', '/3/0/9');
      reading.catch(() => undefined); // awaited below; not an unhandled rejection if the test fails earlier
      await until(() => env.server.queuedRequests('qr-1') === 2, 2000, 'both queued');
      assert.equal(d.received.length, before, 'nothing sent to a sleeping device');

      // The device wakes up with a new Register (it rebooted, or its registration was lost), not an Update.
      const registered = nextEvent<[Registration]>(env.server, 'registered');
      assert.equal((await d.register(['lt=60', 'lwm2m=1.1', 'Q'])).code, '2.01');
      const secondId = d.location[1];
      assert.notEqual(secondId, firstId);
      assert.equal((await registered)[0].id, secondId);

      const obs = await observing;
      assert.equal(obs.registrationId, secondId);
      assert.equal((await reading).value, 80);
      assert.deepEqual(env.server.observations('qr-1').map((o) => [o.registrationId, o.paths]), [[secondId, ['/3303/0/5700']]]);

      const notified = nextEvent<[NotificationEvent]>(env.server, 'notification');
      assert.equal(await d.notify('/3303/0/5700', '22.25', 0), 'ack');
      const [ev] = await notified;
      assert.equal(ev.observation.id, obs.id);
      assert.equal(ev.registration.id, secondId);
      assert.deepEqual(ev.records.map((r) => r.value), [22.25]);
    } finally {
      await env.close();
    }
  });

  test('an Observe already sent when the device registers again still ends with CancelledError', async () => {
    const env = await startServer();
    try {
      const d = await env.device('qr-2');
      assert.equal((await d.register(['lt=60', 'lwm2m=1.1'])).code, '2.01');
      // The device re-registers before it answers the Observe it received under the first registration.
      let answer: (() => void) | undefined;
      d.on('GET', '/3/0/9', () => new Promise((resolve) => {
        answer = () => resolve({ code: '2.05', format: 0, payload: '80', observe: true });
      }));
      const observing = env.server.observe('qr-2', '/3/0/9').catch((e: unknown) => e);
      await until(() => answer !== undefined, 2000, 'Observe received');
      assert.equal((await d.register(['lt=60', 'lwm2m=1.1'])).code, '2.01');
      answer!();
      const err = await observing;
      assert.ok(err instanceof CancelledError, String(err));
      assert.match(err.message, /registered again/);
      await sleep(20);
      assert.deepEqual(env.server.observations('qr-2'), []);
    } finally {
      await env.close();
    }
  });
});
