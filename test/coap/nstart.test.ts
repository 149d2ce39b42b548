/**
 * NSTART (RFC 7252 4.7): at most `nstart` requests outstanding to one peer, the rest queued in call order, the queue
 * bounded per peer (PeerQueueFullError). Devices are raw sockets that count what they hold unanswered.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createUdpEndpoint, CreateUdpEndpointOptions, UdpCoapEndpoint } from '../../src/coap/endpoint';
import { PeerQueueFullError } from '../../src/coap/errors';
import { CancelledError, Lwm2mError, TimeoutError } from '../../src/errors';
import { ReceivedResponse } from '../../src/coap/types';
import { createRawPeer, RawPeer } from '../helpers/raw-coap';
import { ParsedPacket } from 'coap-packet';

const opened: { close(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(opened.map((o) => o.close()));
});

async function endpoint(opts: CreateUdpEndpointOptions = {}): Promise<UdpCoapEndpoint> {
  const ep = await createUdpEndpoint({ address: '127.0.0.1', ackTimeoutMs: 1000, ...opts });
  opened.push(ep);
  return ep;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(2);
  }
}

/**
 * A device that answers GETs with their path as payload, piggybacked, a few at a time and a turn of the event loop
 * later (so that requests sent together are held together). `maxHeld` is the most it ever held unanswered.
 */
async function countingDevice(): Promise<{ dev: RawPeer; paths: string[]; stats: { held: number; maxHeld: number } }> {
  const dev = await createRawPeer();
  opened.push(dev);
  const paths: string[] = [];
  const stats = { held: 0, maxHeld: 0 };
  const queue: Array<{ p: ParsedPacket; port: number }> = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    for (const { p, port } of queue.splice(0)) {
      stats.held--;
      const path = p.options.filter((o) => o.name === 'Uri-Path').map((o) => o.value.toString()).join('/');
      dev.send({ ack: true, messageId: p.messageId, token: p.token, code: '2.05', payload: Buffer.from(path) }, port);
    }
  };
  dev.onPacket = (p, rinfo) => {
    if (p.code !== '0.01' || !p.confirmable) return;
    paths.push(p.options.filter((o) => o.name === 'Uri-Path').map((o) => o.value.toString()).join('/'));
    stats.held++;
    stats.maxHeld = Math.max(stats.maxHeld, stats.held);
    queue.push({ p, port: rinfo.port });
    if (!scheduled) {
      scheduled = true;
      setTimeout(flush, 1);
    }
  };
  return { dev, paths, stats };
}

describe('NSTART: requests outstanding per peer (RFC 7252 4.7)', () => {
  test('a thousand reads at once: the device never holds more than one, all succeed in call order', async () => {
    const { dev, paths, stats } = await countingDevice();
    const ep = await endpoint();
    const to = { address: '127.0.0.1', port: dev.port };
    const n = 1000;
    const done: number[] = [];
    const calls = Array.from({ length: n }, (_, i) =>
      ep.request(to, { method: 'GET', path: `/3/0/${i}` }).then((r) => {
        done.push(i);
        return r;
      }));
    assert.equal(ep.stats().queuedRequests, n - 1);
    assert.equal(ep.stats().busyPeers, 1);
    const res = await Promise.all(calls);
    assert.equal(stats.maxHeld, 1);
    assert.deepEqual(paths, Array.from({ length: n }, (_, i) => `3/0/${i}`));
    assert.deepEqual(res.map((r) => r.payload.toString()), paths);
    assert.deepEqual(done, Array.from({ length: n }, (_, i) => i));
    // Per-peer state is gone once the queue drained.
    assert.equal(ep.stats().queuedRequests, 0);
    assert.equal(ep.stats().busyPeers, 0);
    assert.equal(ep.stats().pendingRequests, 0);
  });

  test('nstart 3: three at a time, never more; other peers are not held up', async () => {
    const a = await countingDevice();
    const b = await countingDevice();
    const ep = await endpoint({ nstart: 3 });
    const calls = Array.from({ length: 60 }, (_, i) => ep.request({ address: '127.0.0.1', port: a.dev.port }, { method: 'GET', path: `/a/${i}` }));
    // B's request goes out at once, though A has 57 queued.
    const other = await ep.request({ address: '127.0.0.1', port: b.dev.port }, { method: 'GET', path: '/b' });
    assert.equal(other.payload.toString(), 'b');
    await Promise.all(calls);
    assert.equal(a.stats.maxHeld, 3);
    assert.deepEqual(a.paths, Array.from({ length: 60 }, (_, i) => `a/${i}`));
  });

  test('the queue is bounded per device: the excess fails at once with PeerQueueFullError naming the device and the limits', async () => {
    const { dev, paths, stats } = await countingDevice();
    const ep = await endpoint({ maxQueuedPerPeer: 10 });
    const to = { address: '127.0.0.1', port: dev.port };
    const settled = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => ep.request(to, { method: 'GET', path: `/3/0/${i}` })));
    const ok = settled.filter((s) => s.status === 'fulfilled') as PromiseFulfilledResult<ReceivedResponse>[];
    const failed = settled.filter((s) => s.status === 'rejected') as PromiseRejectedResult[];
    // One outstanding + ten queued were taken, in order; the other 39 were refused without being sent.
    assert.equal(ok.length, 11);
    assert.deepEqual(ok.map((s) => s.value.payload.toString()), Array.from({ length: 11 }, (_, i) => `3/0/${i}`));
    assert.deepEqual(settled.slice(0, 11).map((s) => s.status), Array(11).fill('fulfilled'));
    assert.equal(failed.length, 39);
    for (const f of failed) {
      assert.ok(f.reason instanceof PeerQueueFullError);
      assert.ok(f.reason instanceof Lwm2mError);
      assert.equal(f.reason.code, 'COAP_PEER_QUEUE_FULL');
      assert.equal(f.reason.peer, `127.0.0.1:${dev.port}`);
      assert.match(f.reason.message, new RegExp(`127\\.0\\.0\\.1:${dev.port}`));
      assert.match(f.reason.message, /1 outstanding \(nstart\) and 10 queued \(maxQueuedPerPeer\)/);
    }
    assert.equal(paths.length, 11);
    assert.equal(stats.maxHeld, 1);
    assert.equal(ep.stats().queueRejected, 39);
    assert.equal(ep.stats().busyPeers, 0);
    // maxQueuedPerPeer 0: nothing waits.
    const strict = await endpoint({ maxQueuedPerPeer: 0 });
    const first = strict.request(to, { method: 'GET', path: '/x' });
    await assert.rejects(strict.request(to, { method: 'GET', path: '/y' }), PeerQueueFullError);
    assert.equal((await first).payload.toString(), 'x');
  });

  test('a separate response keeps the slot until it arrives; an answered observation does not hold it', async () => {
    const dev = await createRawPeer();
    opened.push(dev);
    const got: ParsedPacket[] = [];
    dev.onPacket = (p) => {
      if (p.code === '0.01') got.push(p);
    };
    const ep = await endpoint();
    const to = { address: '127.0.0.1', port: dev.port };
    const notes: string[] = [];
    const obs = ep.request(to, { method: 'GET', path: '/3/0/9', observe: 0 }, { onNotification: (r) => notes.push(r.payload.toString()) });
    const slow = ep.request(to, { method: 'GET', path: '/slow' });
    const after = ep.request(to, { method: 'GET', path: '/after' });
    await until(() => got.length === 1);
    const o = got[0];
    dev.send({ ack: true, messageId: o.messageId, token: o.token, code: '2.05', payload: Buffer.from('v1'), options: [{ name: 'Observe', value: Buffer.from([1]) }] }, ep.address().port);
    assert.equal((await obs).payload.toString(), 'v1');
    // The observation is established; the next request goes.
    await until(() => got.length === 2);
    const s = got[1];
    assert.equal(s.options.find((x) => x.name === 'Uri-Path')!.value.toString(), 'slow');
    dev.send({ ack: true, messageId: s.messageId, code: '0.00' }, ep.address().port); // empty ACK: separate response follows
    await dev.quiet(100);
    assert.equal(got.length, 2, 'nothing more is sent while the separate response is awaited');
    // A notification meanwhile is delivered (observations are not outstanding requests).
    dev.send({ confirmable: false, messageId: 9001, token: o.token, code: '2.05', payload: Buffer.from('v2'), options: [{ name: 'Observe', value: Buffer.from([2]) }] }, ep.address().port);
    await until(() => notes.length === 1);
    dev.send({ confirmable: true, messageId: 9002, token: s.token, code: '2.05', payload: Buffer.from('late') }, ep.address().port);
    assert.equal((await slow).payload.toString(), 'late');
    await until(() => got.length === 3);
    const a = got[2];
    assert.equal(a.options.find((x) => x.name === 'Uri-Path')!.value.toString(), 'after');
    dev.send({ ack: true, messageId: a.messageId, token: a.token, code: '2.05', payload: Buffer.from('ok') }, ep.address().port);
    assert.equal((await after).payload.toString(), 'ok');
    assert.deepEqual(notes, ['v2']);
    assert.equal(ep.stats().busyPeers, 0);
  });

  test('a queued request that waits past its timeoutMs rejects with TimeoutError without being sent; close cancels the rest', async () => {
    const dev = await createRawPeer();
    opened.push(dev);
    const paths: string[] = [];
    dev.onPacket = (p) => {
      if (p.code === '0.01') paths.push(p.options.filter((o) => o.name === 'Uri-Path').map((o) => o.value.toString()).join('/'));
    };
    // A small exchange lifetime makes housekeeping (which sweeps the queues) run often.
    const ep = await endpoint({ exchangeLifetimeMs: 400, ackTimeoutMs: 5000, maxRetransmit: 1 });
    const to = { address: '127.0.0.1', port: dev.port };
    const held = ep.request(to, { method: 'GET', path: '/held', timeoutMs: 60_000 });
    const quick = ep.request(to, { method: 'GET', path: '/quick', timeoutMs: 50 });
    const waiting = ep.request(to, { method: 'GET', path: '/waiting', timeoutMs: 60_000 });
    const err = await quick.then(() => null, (e: unknown) => e);
    assert.ok(err instanceof TimeoutError, String(err));
    assert.match((err as Error).message, /GET \/quick .*still queued/);
    assert.deepEqual(paths, ['held']);
    assert.equal(ep.stats().queuedRequests, 1);
    await ep.close();
    await assert.rejects(held, CancelledError);
    await assert.rejects(waiting, CancelledError);
    assert.deepEqual(paths, ['held']);
    assert.equal(ep.stats().queuedRequests, 0);
  });

  test('requests both ways between two endpoints with nstart 1: a handler that calls back the same peer does not deadlock', async () => {
    const a = await endpoint();
    const b = await endpoint();
    const aPeer = { address: '127.0.0.1', port: a.address().port };
    const bPeer = { address: '127.0.0.1', port: b.address().port };
    a.setRequestHandler(() => ({ code: '2.05', payload: Buffer.from('from a') }));
    // B's handler asks A something before answering A's request.
    b.setRequestHandler(async (req) => {
      const r = await b.request(aPeer, { method: 'GET', path: '/x' });
      return { code: '2.05', payload: Buffer.from(req.path.join('/') + ' then ' + r.payload.toString()) };
    });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => a.request(bPeer, { method: 'GET', path: `/q${i}` })));
    assert.deepEqual(answers.map((r) => r.payload.toString()), Array.from({ length: 20 }, (_, i) => `q${i} then from a`));
  });
});
