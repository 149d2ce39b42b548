/**
 * The server's `traffic` event over real UDP on loopback, with a raw device (test/helpers/raw-device.ts): requests to
 * the device (read, write, a timeout, requests that never leave the queue of a sleeping device), the device's own
 * requests (Register, Update, De-register, Send, refused ones) and notifications; and nothing built while nobody listens.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, until } from '../helpers/server-env';
import { RawDevice } from '../helpers/raw-device';
import { TimeoutError } from '../../src/errors';
import { IncomingTraffic, Lwm2mServer, NotificationTraffic, OutgoingTraffic, TrafficEvent } from '../../src/server';

function collect(server: Lwm2mServer): TrafficEvent[] {
  const events: TrafficEvent[] = [];
  server.on('traffic', (ev) => events.push(ev));
  return events;
}

const outgoing = (events: TrafficEvent[]): OutgoingTraffic[] => events.filter((e): e is OutgoingTraffic => e.direction === 'out');
const incoming = (events: TrafficEvent[]): IncomingTraffic[] =>
  events.filter((e): e is IncomingTraffic => e.direction === 'in' && e.kind === 'request');
const notifications = (events: TrafficEvent[]): NotificationTraffic[] => events.filter((e): e is NotificationTraffic => e.kind === 'notification');

describe('traffic events', () => {
  test('Register, Update, De-register and Send from the device, and refused requests', async () => {
    const env = await startServer();
    try {
      const events = collect(env.server);
      const d = await env.device('tr-reg');
      assert.equal((await d.register(['lt=60', 'lwm2m=1.1'])).code, '2.01');
      const id = d.location[1];
      assert.equal((await d.update(['lt=120'])).code, '2.04');
      // SenML JSON (110) Send, Core 1.1 6.4.4
      const senml = '[{"bn":"/3/0/","n":"9","v":80}]';
      assert.equal((await d.send(senml, 110)).code, '2.04');
      assert.equal((await d.deregister()).code, '2.02');
      assert.equal((await d.update()).code, '4.04', 'Update after De-register');
      await until(() => incoming(events).length === 5, 3000, 'five incoming traffic events');

      const [reg, upd, send, dereg, late] = incoming(events);
      assert.equal(reg.endpoint, 'tr-reg');
      assert.equal(reg.operation, 'register');
      assert.equal(reg.method, 'POST');
      assert.equal(reg.path, '/rd');
      assert.deepEqual(reg.query, ['ep=tr-reg', 'lt=60', 'lwm2m=1.1']);
      assert.equal(reg.format, 40);
      assert.equal(reg.size, Buffer.byteLength(d.links));
      assert.equal(reg.code, '2.01');
      assert.equal(reg.address, '127.0.0.1');
      assert.equal(reg.port, d.port);

      assert.equal(upd.endpoint, 'tr-reg');
      assert.equal(upd.operation, 'update');
      assert.equal(upd.path, `/rd/${id}`);
      assert.equal(upd.code, '2.04');
      assert.equal(upd.size, 0);

      assert.equal(send.endpoint, 'tr-reg');
      assert.equal(send.operation, 'send');
      assert.equal(send.path, '/dp');
      assert.equal(send.format, 110);
      assert.equal(send.size, Buffer.byteLength(senml));
      assert.equal(send.code, '2.04');

      assert.equal(dereg.endpoint, 'tr-reg', 'the endpoint is known although De-register removed the registration');
      assert.equal(dereg.operation, 'deregister');
      assert.equal(dereg.method, 'DELETE');
      assert.equal(dereg.path, `/rd/${id}`);
      assert.equal(dereg.code, '2.02');

      assert.equal(late.endpoint, undefined, 'unknown registration: no endpoint');
      assert.equal(late.operation, 'update');
      assert.equal(late.code, '4.04');
      assert.ok(late.answerSize > 0, 'the refusal carries a diagnostic payload');
      assert.equal(outgoing(events).length, 0);
    } finally {
      await env.close();
    }
  });

  test('the registration event comes before the traffic event of the same request', async () => {
    const env = await startServer();
    try {
      const order: string[] = [];
      env.server.on('registered', () => order.push('registered'));
      env.server.on('traffic', (ev) => order.push(`traffic ${ev.direction}`));
      const d = await env.device('tr-order');
      await d.register();
      await until(() => order.length === 2, 3000, 'both events');
      assert.deepEqual(order, ['registered', 'traffic in']);
    } finally {
      await env.close();
    }
  });

  test('read and write: method, path, formats, sizes, answer code and duration', async () => {
    const env = await startServer();
    try {
      const d = await env.device('tr-rw');
      await d.register(['lt=60', 'lwm2m=1.1']);
      d.on('GET', '/3/0/0', { code: '2.05', format: 0, payload: 'Acme Corp' });
      d.on('PUT', '/3/0/14', { code: '2.04' });
      const events = collect(env.server);

      const r = await env.server.read('tr-rw', '/3/0/0', { format: 0, origin: 'node-7' });
      assert.equal(r.value, 'Acme Corp');
      // Emitted before the call resolves.
      const [read] = outgoing(events);
      assert.ok(read, 'read traffic event');
      assert.equal(read.endpoint, 'tr-rw');
      assert.equal(read.operation, 'read');
      assert.equal(read.method, 'GET');
      assert.equal(read.path, '/3/0/0');
      assert.equal(read.accept, 0);
      assert.equal(read.size, 0);
      assert.equal(read.code, '2.05');
      assert.equal(read.answerFormat, 0);
      assert.equal(read.answerSize, Buffer.byteLength('Acme Corp'));
      assert.equal(read.error, undefined);
      assert.equal(read.origin, 'node-7');
      assert.ok(read.durationMs >= 0 && Number.isFinite(read.durationMs));
      assert.ok(Math.abs(read.time - Date.now()) < 60_000);

      const w = await env.server.write('tr-rw', '/3/0/14', '+02:00', { format: 0 });
      assert.equal(w.code, '2.04');
      const write = outgoing(events)[1];
      assert.equal(write.operation, 'write');
      assert.equal(write.method, 'PUT');
      assert.equal(write.path, '/3/0/14');
      assert.equal(write.format, 0);
      const sent = d.received.find((x) => x.method === 'PUT')!;
      assert.equal(write.size, sent.payload.length);
      assert.equal(write.size, Buffer.byteLength('+02:00'));
      assert.equal(write.code, '2.04');
      assert.equal(write.answerSize, 0);
      assert.equal(write.origin, undefined);

      // An error answer is an exchange like any other.
      await assert.rejects(env.server.read('tr-rw', '/3/0/1', { format: 0 }), /4\.04/);
      const nf = outgoing(events)[2];
      assert.equal(nf.path, '/3/0/1');
      assert.equal(nf.code, '4.04');
      assert.equal(nf.error, undefined);
      assert.equal(incoming(events).length, 0);
    } finally {
      await env.close();
    }
  });

  test('a request without an answer: error says timeout, no code', async () => {
    const env = await startServer();
    try {
      const d = await env.device('tr-to');
      await d.register(['lt=60', 'lwm2m=1.1']);
      d.on('GET', '/3/0/9', null); // never answered
      const events = collect(env.server);
      await assert.rejects(env.server.read('tr-to', '/3/0/9', { format: 0, timeoutMs: 300 }), TimeoutError);
      const [ev] = outgoing(events);
      assert.ok(ev, 'timeout traffic event');
      assert.equal(ev.operation, 'read');
      assert.equal(ev.path, '/3/0/9');
      assert.equal(ev.code, undefined);
      assert.equal(ev.answerSize, undefined);
      assert.equal(ev.error, 'timeout after 300 ms');
      assert.ok(ev.durationMs > 0);
    } finally {
      await env.close();
    }
  });

  test('requests that never leave the queue of a sleeping device are reported with why', async () => {
    const env = await startServer({ queueAwakeMs: 100, maxQueuedPerDevice: 1 });
    try {
      const d = await env.device('tr-q');
      await d.register(['lt=60', 'b=UQ']);
      await until(() => !env.server.isAwake('tr-q'), 3000, 'asleep');
      const events = collect(env.server);
      const queued = env.server.read('tr-q', '/3/0/1').catch((e: unknown) => e);
      await assert.rejects(env.server.read('tr-q', '/3/0/2'), /queued requests/);
      await until(() => outgoing(events).length === 1, 3000, 'queue full event');
      assert.equal(outgoing(events)[0].path, '/3/0/2');
      assert.match(outgoing(events)[0].error!, /^device is sleeping \(queue mode\) and already has 1 queued requests/);
      await d.deregister();
      assert.ok((await queued) instanceof Error);
      await until(() => outgoing(events).length === 2, 3000, 'cancelled event');
      const cancelled = outgoing(events)[1];
      assert.equal(cancelled.path, '/3/0/1');
      assert.equal(cancelled.error, 'cancelled (device deregistered)');
      assert.equal(cancelled.code, undefined);
      assert.equal(d.received.length, 0, 'nothing was sent');
    } finally {
      await env.close();
    }
  });

  test('observe and its notifications', async () => {
    const env = await startServer();
    try {
      const d = await env.device('tr-obs');
      await d.register(['lt=60', 'lwm2m=1.1']);
      d.on('GET', '/3/0/9', { code: '2.05', format: 0, payload: '80', observe: true });
      const events = collect(env.server);
      const order: string[] = [];
      env.server.on('notification', () => order.push('notification'));
      env.server.on('traffic', (ev) => order.push(`traffic ${ev.kind}`));
      const obs = await env.server.observe('tr-obs', '/3/0/9', { format: 0 });
      const [start] = outgoing(events);
      assert.equal(start.operation, 'observe');
      assert.equal(start.observe, 0);
      assert.equal(start.code, '2.05');

      assert.equal(await d.notify('/3/0/9', '75', 0), 'ack');
      await until(() => notifications(events).length === 1, 3000, 'notification traffic');
      const n = notifications(events)[0];
      assert.equal(n.endpoint, 'tr-obs');
      assert.equal(n.direction, 'in');
      assert.equal(n.observationId, obs.id);
      assert.deepEqual(n.paths, ['/3/0/9']);
      assert.equal(n.code, '2.05');
      assert.equal(n.format, 0);
      assert.equal(n.size, 2);
      assert.equal(n.sequence, 2);
      assert.deepEqual(order.slice(-2), ['notification', 'traffic notification'], "'notification' event, then its traffic event");

      // A notification that cannot be decoded is still traffic (and a warning).
      const warnings: Error[] = [];
      env.server.on('warning', (e) => warnings.push(e));
      await d.notify('/3/0/9', 'not a number', 0);
      await until(() => notifications(events).length === 2, 3000, 'second notification traffic');
      assert.equal(notifications(events)[1].size, Buffer.byteLength('not a number'));
      assert.equal(warnings.length, 1);
    } finally {
      await env.close();
    }
  });

  test('nothing is built while nobody listens', async () => {
    const env = await startServer({ queueAwakeMs: 100, maxQueuedPerDevice: 1 });
    const emitted: string[] = [];
    const emit = env.server.emit.bind(env.server);
    (env.server as unknown as { emit: (e: string, ...a: unknown[]) => boolean }).emit = (e: string, ...a: unknown[]) => {
      emitted.push(e);
      return (emit as (e: string, ...a: unknown[]) => boolean)(e, ...a);
    };
    let d: RawDevice | undefined;
    try {
      d = await env.device('tr-quiet');
      await d.register(['lt=60', 'lwm2m=1.1']);
      d.on('GET', '/3/0/9', { code: '2.05', format: 0, payload: '80', observe: true });
      d.on('GET', '/3/0/1', null);
      await env.server.observe('tr-quiet', '/3/0/9', { format: 0 });
      await d.notify('/3/0/9', '70', 0);
      await assert.rejects(env.server.read('tr-quiet', '/3/0/1', { format: 0, timeoutMs: 200 }), TimeoutError);
      await d.update();
      await until(() => emitted.includes('updated'), 3000, 'updated');
      assert.equal(env.server.stats().trafficEvents, 0, 'no traffic object built');
      assert.ok(!emitted.includes('traffic'), 'no traffic event emitted');
      assert.ok(emitted.includes('notification'), 'the spy sees the other events');

      // The same exchanges with a listener are counted (so the check above can fail).
      const events = collect(env.server);
      await d.notify('/3/0/9', '71', 0);
      await d.update();
      await until(() => events.length === 2, 3000, 'two traffic events');
      assert.equal(env.server.stats().trafficEvents, 2);
    } finally {
      await env.close();
    }
  });
});
