/**
 * Our client against our server (src/server), over UDP on loopback: every operation end to end.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import { generate, parse } from 'coap-packet';
import { ManualScheduler } from '../../src/client/scheduler';
import { Lwm2mClient } from '../../src/client';
import { pair, startServer, waitFor, sleep } from './helpers';
import { NotificationEvent } from '../../src/server';
import { DatagramSocket } from '../../src/coap/types';

const OBJECTS = {
  3303: { 0: { 5700: 21.5, 5701: 'Cel' } },
  3311: { 0: { 5850: true, 5851: 50 } },
};

describe('client <-> server', () => {
  test('registers with its object links and is read in every format', async () => {
    const t = await pair({ objects: OBJECTS, device: { manufacturer: 'ACME', batteryLevel: 87 } });
    try {
      const reg = t.server.getRegistration(t.ep)!;
      assert.equal(reg.version, '1.1');
      assert.equal(reg.lifetime, 300);
      assert.ok(reg.objectLinks.includes('3303'), reg.objectLinks);
      assert.ok(!/(^| )0[@:]/.test(reg.objectLinks), 'Security must not be registered: ' + reg.objectLinks);
      for (const format of [0, 60, 110, 112, 11542, 11543]) {
        const r = await t.server.read(t.ep, '/3303/0/5700', { format });
        assert.equal(r.code, '2.05', `format ${format}`);
        assert.equal(r.format, format);
        assert.equal(r.value, 21.5, `format ${format}`);
      }
      for (const format of [110, 112, 11542, 11543]) {
        const r = await t.server.read(t.ep, '/3/0', { format });
        assert.equal(r.format, format);
        const v = r.value as Record<string, unknown>;
        assert.equal(v['0'], 'ACME', `format ${format}`);
        assert.equal(v['9'], 87, `format ${format}`);
        assert.ok(v['13'] instanceof Date, `format ${format}: current time`);
      }
      const obj = await t.server.read(t.ep, '/3303');
      assert.deepEqual(obj.value, { 0: { 5700: 21.5, 5701: 'Cel' } });
      await assert.rejects(t.server.read(t.ep, '/3/0', { format: 0 }), /4\.06/);
      await assert.rejects(t.server.read(t.ep, '/3/0/4'), /4\.05/);
      await assert.rejects(t.server.read(t.ep, '/3304/0'), /4\.04/);
    } finally { await t.close(); }
  });

  test('LwM2M 1.2 client: LwM2M CBOR', async () => {
    const t = await pair({ objects: OBJECTS, version: '1.2' });
    try {
      assert.equal(t.server.getRegistration(t.ep)!.version, '1.2');
      const r = await t.server.read(t.ep, '/3303/0', { format: 11544 });
      assert.equal(r.format, 11544);
      assert.deepEqual(r.value, { 5700: 21.5, 5701: 'Cel' });
    } finally { await t.close(); }
  });

  test('writes, execute with arguments, create and delete (registration updated), discover', async () => {
    const t = await pair({ objects: OBJECTS });
    try {
      const writes: unknown[] = [];
      const execs: { path: string; args: unknown }[] = [];
      t.client.on('write', (e) => writes.push(e));
      t.client.on('execute', (e) => execs.push(e));
      await t.server.write(t.ep, '/3311/0/5851', 75);
      assert.equal(t.client.get('/3311/0/5851'), 75);
      await t.server.write(t.ep, '/3311/0', { 5850: false, 5706: 'blue' });
      assert.equal(t.client.get('/3311/0/5850'), false);
      assert.equal(t.client.get('/3311/0/5706'), 'blue');
      assert.equal(writes.length, 2);
      await assert.rejects(t.server.write(t.ep, '/3303/0/5700', 1), /4\.05/);

      await t.server.execute(t.ep, '/3/0/4', "0='soon',2");
      assert.deepEqual(execs[0], { path: '/3/0/4', args: [{ id: 0, value: 'soon' }, { id: 2 }], raw: "0='soon',2", server: t.client.servers[0].uri });
      await assert.rejects(t.server.execute(t.ep, '/3/0/0'), /4\.05/);

      const updated = new Promise<string>((resolve) => t.server.once('updated', (reg) => resolve(reg.objectLinks)));
      const created = await t.server.create(t.ep, 3303, { 5700: 19 });
      assert.equal(t.client.get('/3303/1/5700'), 19);
      assert.match(JSON.stringify(created), /1/);
      assert.match(await updated, /3303[^ ]*:0,1|3303.*1/);
      assert.ok(t.server.getRegistration(t.ep)!.objectLinks.includes('3303'));

      const d = await t.server.discover(t.ep, '/3303');
      const links = JSON.stringify(d);
      assert.ok(links.includes('/3303/1/5700'), links);

      await t.server.delete(t.ep, '/3303/1');
      assert.equal(t.client.tree.hasInstance(3303, 1), false);
      await assert.rejects(t.server.delete(t.ep, '/3/0'), /4\.05/);
    } finally { await t.close(); }
  });

  test('write-attributes then observe: pmin, pmax, gt, lt, st (client clock driven)', async () => {
    const scheduler = new ManualScheduler(0);
    const t = await pair({ objects: OBJECTS, scheduler });
    try {
      const notes: NotificationEvent[] = [];
      t.server.on('notification', (n) => notes.push(n));
      await t.server.writeAttributes(t.ep, '/3303/0/5700', { pmin: 2, pmax: 10, gt: 25, lt: 10, st: 5 });
      const d = await t.server.discover(t.ep, '/3303/0/5700');
      assert.match(JSON.stringify(d), /pmin/);
      const first = await t.server.observe(t.ep, '/3303/0/5700');
      assert.equal(first.value, 21.5);
      scheduler.advance(3000);
      t.client.set('/3303/0/5700', 22); // no crossing, step 0.5 < 5: nothing
      await sleep(50);
      assert.equal(notes.length, 0);
      t.client.set('/3303/0/5700', 26); // crosses gt, pmin over: at once
      await waitFor(() => notes.length === 1, 2000, 'gt notification');
      assert.equal(notes[0].value, 26);
      t.client.set('/3303/0/5700', 27); // step 1 from 26, no crossing
      await sleep(50);
      assert.equal(notes.length, 1);
      scheduler.advance(10_000); // pmax
      await waitFor(() => notes.length === 2, 2000, 'pmax notification');
      assert.equal(notes[1].value, 27);
      t.client.set('/3303/0/5700', 5); // crosses lt, but pmin holds it back
      await sleep(50);
      assert.equal(notes.length, 2);
      scheduler.advance(2000);
      await waitFor(() => notes.length === 3, 2000, 'lt notification after pmin');
      assert.equal(notes[2].value, 5);
      t.client.set('/3303/0/5700', 11); // step 6 >= 5 (and crosses lt upwards)
      scheduler.advance(2000);
      await waitFor(() => notes.length === 4, 2000, 'st notification');
      assert.equal(notes[3].value, 11);
      assert.ok(notes.every((n, i) => i === 0 || (n.sequence ?? 0) > (notes[i - 1].sequence ?? 0)));
    } finally { await t.close(); }
  });

  test('composite read, write and observe', async () => {
    const t = await pair({ objects: OBJECTS });
    try {
      const r = await t.server.readComposite(t.ep, ['/3/0/0', '/3303/0/5700']);
      assert.deepEqual(r.value, { '/3/0/0': 'FleetWire', '/3303/0/5700': 21.5 });
      const updated = new Promise<number>((resolve) => t.server.once('updated', (reg) => resolve(reg.lifetime)));
      await t.server.writeComposite(t.ep, { '/1/0/1': 400, '/3311/0/5851': 40 });
      assert.equal(t.client.get('/3311/0/5851'), 40);
      assert.equal(await updated, 400, 'a written lifetime triggers an Update with lt=400');
      const notes: NotificationEvent[] = [];
      t.server.on('notification', (n) => notes.push(n));
      const o = await t.server.observe(t.ep, ['/3303/0/5700', '/3311/0/5851']);
      assert.deepEqual(o.value, { '/3303/0/5700': 21.5, '/3311/0/5851': 40 });
      t.client.set('/3311/0/5851', 41);
      await waitFor(() => notes.length === 1, 2000, 'composite notification');
      assert.deepEqual(notes[0].value, { '/3303/0/5700': 21.5, '/3311/0/5851': 41 });
    } finally { await t.close(); }
  });

  test('observation cancelled passively (RST to a confirmable notification) and actively (Observe=1)', async () => {
    const t = await pair({ objects: OBJECTS, confirmableNotifications: true });
    try {
      const notes: NotificationEvent[] = [];
      t.server.on('notification', (n) => notes.push(n));
      await t.server.observe(t.ep, '/3303/0/5700');
      t.client.set('/3303/0/5700', 1);
      await waitFor(() => notes.length === 1, 2000, 'notification');
      await t.server.cancelObservation(t.ep, '/3303/0/5700');
      t.client.set('/3303/0/5700', 2);
      await waitFor(() => t.client.observations.size === 0, 3000, 'RST cancelling the observation');
      assert.equal(notes.length, 1);

      await t.server.observe(t.ep, '/3/0/9').catch(() => undefined); // absent resource: refused, no observation
      assert.equal(t.client.observations.size, 0);
      await t.server.observe(t.ep, '/3311/0/5850');
      assert.equal(t.client.observations.size, 1);
      await t.server.cancelObservation(t.ep, '/3311/0/5850', { active: true });
      assert.equal(t.client.observations.size, 0);
    } finally { await t.close(); }
  });

  test('passive cancel with NON notifications (the default): the server RSTs the next one and the client stops (RFC 7641 3.6)', async () => {
    // The client's socket, wrapped to see what leaves it and what comes back (parsed with coap-packet).
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    const out: ReturnType<typeof parse>[] = [];
    const inn: ReturnType<typeof parse>[] = [];
    const send = sock.send.bind(sock) as (...a: unknown[]) => void;
    (sock as unknown as { send: (...a: unknown[]) => void }).send = (msg: unknown, ...rest: unknown[]) => {
      try { out.push(parse(msg as Buffer)); } catch { /* not CoAP */ }
      send(msg, ...rest);
    };
    sock.on('message', (msg) => { try { inn.push(parse(msg)); } catch { /* not CoAP */ } });
    const t = await pair({ objects: OBJECTS, socket: sock as unknown as DatagramSocket });
    try {
      const notes: NotificationEvent[] = [];
      t.server.on('notification', (n) => notes.push(n));
      await t.server.observe(t.ep, '/3303/0/5700');
      assert.equal(t.client.observations.size, 1);
      const notifications = () => out.filter((p) => p.code === '2.05' && p.options.some((o) => o.name === 'Observe'));
      const first = notifications().length; // the answer to the Observe request is piggybacked in an ACK
      t.client.set('/3303/0/5700', 1);
      await waitFor(() => notes.length === 1, 2000, 'first notification');
      assert.equal(notes[0].value, 1);
      assert.equal(notifications().length, first + 1);
      assert.equal(notifications()[first].confirmable, false, 'NON notifications by default');

      await t.server.cancelObservation(t.ep, '/3303/0/5700', { active: false });
      t.client.set('/3303/0/5700', 2);
      await waitFor(() => t.client.observations.size === 0, 3000, 'RST to the NON notification cancelling the observation');
      const rejected = notifications()[first + 1];
      assert.ok(rejected !== undefined && rejected.confirmable === false, 'the second notification was NON');
      assert.ok(inn.some((p) => p.reset && p.messageId === rejected.messageId), 'the server answered it with RST');

      const sent = notifications().length;
      t.client.set('/3303/0/5700', 3);
      await sleep(300);
      assert.equal(notifications().length, sent, 'no further notification leaves the client');
      assert.equal(notes.length, 1, 'no further notification reaches the server');
      assert.equal(t.client.observations.size, 0);
    } finally { await t.close(); }
  });

  test('Send (POST /dp, SenML CBOR)', async () => {
    const t = await pair({ objects: OBJECTS });
    try {
      const got = new Promise<Record<string, unknown>>((resolve) => t.server.once('send', (e) => resolve(e.value)));
      t.client.set('/3303/0/5700', 23.5);
      await t.client.send(['/3303/0/5700', '/3311/0']);
      assert.deepEqual(await got, { '/3303/0/5700': 23.5, '/3311/0/5850': true, '/3311/0/5851': 50 });
    } finally { await t.close(); }
    const old = await pair({ version: '1.0' });
    try {
      await assert.rejects(old.client.send('/3/0/0'), /1\.1/);
    } finally { await old.close(); }
  });

  test('Update before the lifetime runs out; registers again when the server lost the registration', async () => {
    const scheduler = new ManualScheduler(0);
    const t = await pair({ scheduler, lifetime: 60 });
    let server2: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      // the client's own event: the Update has been answered and the next one scheduled
      const updated = new Promise<void>((resolve) => t.client.once('updated', () => resolve()));
      scheduler.advance(50_000);
      assert.equal((await Promise.race([updated.then(() => 'no'), sleep(300).then(() => 'timeout')])), 'timeout', 'no Update at 50 s of 60');
      scheduler.advance(5_000); // 55 s: lifetime - 6 s margin (10 %)
      await updated;
      // the server restarts and forgets everything: the next Update gets 4.04, the client registers again
      const port = t.port;
      await t.server.close();
      server2 = await startServer({ port });
      const registered = new Promise<void>((resolve) => server2!.once('registered', () => resolve()));
      scheduler.advance(60_000);
      await registered;
      await waitFor(() => t.client.state === 'registered');
      assert.ok(server2.getRegistration(t.ep));
    } finally {
      await t.client.stop();
      await server2?.close();
      await t.server.close().catch(() => undefined);
    }
  });

  test('Server object: Registration Update Trigger sends an Update; Disable de-registers for Disable Timeout', async () => {
    const scheduler = new ManualScheduler(0);
    const t = await pair({ scheduler });
    try {
      const updated = new Promise<void>((resolve) => t.server.once('updated', () => resolve()));
      await t.server.execute(t.ep, '/1/0/8');
      await updated;
      await t.server.write(t.ep, '/1/0/5', 30);
      const gone = new Promise<void>((resolve) => t.server.once('deregistered', () => resolve()));
      await t.server.execute(t.ep, '/1/0/4');
      await gone;
      await waitFor(() => t.client.servers[0].state === 'disabled', 2000, 'disabled');
      const back = new Promise<void>((resolve) => t.server.once('registered', () => resolve()));
      scheduler.advance(29_000);
      await sleep(100);
      assert.equal(t.server.getRegistration(t.ep), undefined, 'silent during Disable Timeout');
      scheduler.advance(1_000);
      await back;
      await waitFor(() => t.client.state === 'registered', 2000, 'registered again');
    } finally { await t.close(); }
  });

  test('De-register on stop', async () => {
    const t = await pair();
    const gone = new Promise<string>((resolve) => t.server.once('deregistered', (reg) => resolve(reg.endpoint)));
    await t.client.stop();
    assert.equal(await gone, t.ep);
    assert.equal(t.server.getRegistration(t.ep), undefined);
    assert.equal(t.client.state, 'stopped');
    await t.server.close();
  });

  test('queue mode: asleep after the awake window (requests unheard), awake again to send', async () => {
    const scheduler = new ManualScheduler(0);
    const t = await pair({ scheduler, queueMode: true, awakeTimeMs: 5000, objects: OBJECTS }, { queueAwakeMs: 200 });
    const raw = dgram.createSocket('udp4');
    try {
      assert.equal(t.server.getRegistration(t.ep)!.queueMode, true);
      const states: string[] = [];
      t.client.on('state', (s) => states.push(s));
      scheduler.advance(5000);
      assert.equal(t.client.state, 'sleeping');
      // a request now is not heard
      await new Promise<void>((r) => raw.bind(0, '127.0.0.1', () => r()));
      const answers: Buffer[] = [];
      raw.on('message', (m) => answers.push(m));
      const clientPort = t.client.address()!.port;
      const get = generate({ messageId: 4242, token: Buffer.from([7]), code: '0.01', confirmable: true,
        options: [{ name: 'Uri-Path', value: Buffer.from('3') }, { name: 'Uri-Path', value: Buffer.from('0') }, { name: 'Uri-Path', value: Buffer.from('0') }] });
      raw.send(get, clientPort, '127.0.0.1');
      await sleep(200);
      assert.equal(answers.length, 0, 'a sleeping client does not answer');
      // the server queues its read until the device shows up
      await sleep(100); // server's awake window (200 ms) is over
      const reading = t.server.read(t.ep, '/3303/0/5700');
      await sleep(50);
      // something to send: the client wakes up (a registration update here)
      await t.client.triggerUpdate();
      assert.equal(t.client.state, 'registered');
      assert.equal((await reading).value, 21.5);
      raw.send(generate({ ...parse(get), messageId: 4243 }), clientPort, '127.0.0.1');
      await waitFor(() => answers.length === 1, 2000, 'answer once awake');
      assert.equal(parse(answers[0]).code, '2.05');
      assert.deepEqual(states.slice(0, 2), ['sleeping', 'registered']);
    } finally {
      raw.close();
      await t.close();
    }
  });

  test('start() twice refused; stop() then start() again registers again', async () => {
    const t = await pair();
    try {
      await assert.rejects(t.client.start(), /already started/);
      await t.client.stop();
      await t.client.start();
      await t.client.whenRegistered(5000);
      assert.ok(t.server.getRegistration(t.ep));
    } finally { await t.close(); }
  });

  test('a client with no reachable server keeps retrying with back-off, and stops cleanly', async () => {
    const scheduler = new ManualScheduler(0);
    const c = new Lwm2mClient({ endpoint: 'nobody', serverUri: 'coap://127.0.0.1:9', localAddress: '127.0.0.1', scheduler,
      requestTimeoutMs: 200, retryInitialMs: 1000, coap: { ackTimeoutMs: 50, maxRetransmit: 1 } });
    const retries: { delayMs: number }[] = [];
    c.on('retry', (r) => retries.push(r));
    c.on('error', () => undefined);
    await c.start();
    await waitFor(() => retries.length === 1, 3000, 'first retry');
    assert.equal(c.state, 'error');
    scheduler.advance(retries[0].delayMs);
    await waitFor(() => retries.length === 2, 3000, 'second retry');
    assert.ok(retries[1].delayMs > retries[0].delayMs * 1.5, 'exponential back-off');
    await c.stop();
    assert.equal(c.state, 'stopped');
  });
});
