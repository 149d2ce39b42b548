import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createUdpEndpoint, UdpCoapEndpoint, CreateUdpEndpointOptions } from '../../src/coap/endpoint';
import { CoapRequest, Peer, ReceivedResponse } from '../../src/coap/types';
import { CancelledError, CoapResponseError, Lwm2mError, TimeoutError } from '../../src/errors';
import { BlockwiseError, EndpointStateError } from '../../src/coap/errors';
import { createRawPeer, option, options, RawPeer, uint } from '../helpers/raw-coap';

const opened: { close(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(opened.map((o) => o.close()));
});

async function endpoint(opts: CreateUdpEndpointOptions = {}): Promise<UdpCoapEndpoint> {
  const ep = await createUdpEndpoint({ address: '127.0.0.1', ackTimeoutMs: 50, ...opts });
  opened.push(ep);
  return ep;
}

async function raw(address?: string): Promise<RawPeer> {
  const r = await createRawPeer(address);
  opened.push(r);
  return r;
}

function peerOf(ep: UdpCoapEndpoint): Peer {
  const a = ep.address();
  return { address: a.address, port: a.port };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds (polling), failing after `ms`. */
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

describe('requests between two endpoints', () => {
  test('methods, path, query, content format, accept, payload and answer options travel both ways', async () => {
    const server = await endpoint();
    const client = await endpoint();
    const seen: CoapRequest[] = [];
    server.setRequestHandler((req) => {
      seen.push(req);
      if (req.method === 'POST') return { code: '2.01', locationPath: ['rd', 'abc'] };
      if (req.method === 'DELETE') return { code: '2.02' };
      if (req.method === 'PUT') return { code: '2.04' };
      return { code: '2.05', contentFormat: 11542, maxAge: 30, payload: Buffer.from([1, 2, 3]) };
    });
    const to = peerOf(server);
    const get = await client.request(to, { method: 'GET', path: '/3/0/1', query: ['a=1', 'b'], accept: 11542 });
    assert.equal(get.code, '2.05');
    assert.equal(get.contentFormat, 11542);
    assert.equal(get.maxAge, 30);
    assert.deepEqual([...get.payload], [1, 2, 3]);
    assert.equal(get.peer.port, to.port);
    const post = await client.request(to, { method: 'POST', path: ['rd'], query: ['ep=dev1', 'lt=300'], contentFormat: 40, payload: Buffer.from('</3/0>') });
    assert.equal(post.code, '2.01');
    assert.deepEqual(post.locationPath, ['rd', 'abc']);
    assert.equal((await client.request(to, { method: 'PUT', path: '/1/0/1', payload: Buffer.from('60'), contentFormat: 0 })).code, '2.04');
    assert.equal((await client.request(to, { method: 'DELETE', path: '/rd/abc' })).code, '2.02');

    assert.deepEqual(seen.map((r) => r.method), ['GET', 'POST', 'PUT', 'DELETE']);
    assert.deepEqual(seen[0].path, ['3', '0', '1']);
    assert.deepEqual(seen[0].query, ['a=1', 'b']);
    assert.equal(seen[0].accept, 11542);
    assert.equal(seen[0].confirmable, true);
    assert.equal(seen[0].token.length, 8);
    assert.deepEqual(seen[1].query, ['ep=dev1', 'lt=300']);
    assert.equal(seen[1].contentFormat, 40);
    assert.equal(seen[1].payload.toString(), '</3/0>');
    assert.equal(seen[1].peer.port, client.address().port);
    assert.equal(seen[2].payload.toString(), '60');
    // Tokens are random and distinct.
    assert.equal(new Set(seen.map((r) => r.token.toString('hex'))).size, 4);
    assert.equal(client.stats().pendingRequests, 0);
    assert.equal(client.stats().awaitingAck, 0);
  });

  test('requests both ways over the same two sockets, concurrently', async () => {
    const a = await endpoint();
    const b = await endpoint();
    a.setRequestHandler((req) => ({ code: '2.05', payload: Buffer.from('a:' + req.path.join('/')) }));
    b.setRequestHandler(async (req) => {
      await sleep(5);
      return { code: '2.05', payload: Buffer.from('b:' + req.path.join('/')) };
    });
    const jobs: Promise<ReceivedResponse>[] = [];
    for (let i = 0; i < 20; i++) {
      jobs.push(a.request(peerOf(b), { method: 'GET', path: ['x', String(i)] }));
      jobs.push(b.request(peerOf(a), { method: 'GET', path: ['y', String(i)] }));
    }
    const res = await Promise.all(jobs);
    for (let i = 0; i < 20; i++) {
      assert.equal(res[2 * i].payload.toString(), `b:x/${i}`);
      assert.equal(res[2 * i + 1].payload.toString(), `a:y/${i}`);
    }
  });

  test('NON request gets a NON answer; confirmable flag reaches the handler', async () => {
    const server = await endpoint();
    const client = await endpoint();
    let confirmable: boolean | undefined;
    server.setRequestHandler((req) => {
      confirmable = req.confirmable;
      return { code: '2.05', payload: Buffer.from('non') };
    });
    const res = await client.request(peerOf(server), { method: 'GET', path: '/a', confirmable: false });
    assert.equal(res.payload.toString(), 'non');
    assert.equal(confirmable, false);
    const rawc = await raw();
    rawc.send({ confirmable: false, messageId: 77, token: Buffer.from([9]), code: 'GET', options: [{ name: 'Uri-Path', value: Buffer.from('a') }] }, server.address().port);
    const ans = await rawc.waitFor((p) => p.token.equals(Buffer.from([9])));
    assert.equal(ans.confirmable, false);
    assert.equal(ans.ack, false);
    assert.equal(ans.code, '2.05');
  });

  test('error answers resolve (4.04 stays a response); handler errors become 5.00 with a diagnostic', async () => {
    const server = await endpoint();
    const client = await endpoint();
    server.setRequestHandler((req) => {
      if (req.path[0] === 'throw') throw new Error('kaput');
      if (req.path[0] === 'reject') return Promise.reject(new Error('async kaput'));
      if (req.path[0] === 'typed') throw new CoapResponseError('4.03', 'write', 'not allowed here');
      if (req.path[0] === 'badcode') return { code: '9.99' };
      return { code: '4.04' };
    });
    const to = peerOf(server);
    assert.equal((await client.request(to, { method: 'GET', path: '/nothing' })).code, '4.04');
    const t = await client.request(to, { method: 'GET', path: '/throw' });
    assert.equal(t.code, '5.00');
    assert.equal(t.payload.toString(), 'kaput');
    const r = await client.request(to, { method: 'GET', path: '/reject' });
    assert.equal(r.code, '5.00');
    assert.equal(r.payload.toString(), 'async kaput');
    const typed = await client.request(to, { method: 'GET', path: '/typed' });
    assert.equal(typed.code, '4.03');
    assert.equal(typed.payload.toString(), 'not allowed here');
    assert.equal((await client.request(to, { method: 'GET', path: '/badcode' })).code, '5.00');
    assert.ok(server.stats().handlerErrors >= 4);
  });

  test('no request handler: 4.04', async () => {
    const server = await endpoint();
    const client = await endpoint();
    assert.equal((await client.request(peerOf(server), { method: 'GET', path: '/x' })).code, '4.04');
  });

  test('IPv6 loopback works', async () => {
    const server = await endpoint({ address: '::1' });
    const client = await endpoint({ address: '::1' });
    server.setRequestHandler((req) => ({ code: '2.05', payload: Buffer.from(req.peer.address) }));
    const res = await client.request({ address: '::1', port: server.address().port }, { method: 'GET', path: '/v6' });
    assert.equal(res.payload.toString(), '::1');
    assert.equal(res.peer.address, '::1');
    assert.equal(server.address().family, 'IPv6');
  });

  test('binding :: (all IPv6 interfaces) works and answers on ::1', async () => {
    const server = await endpoint({ address: '::' });
    const client = await endpoint({ address: '::1' });
    server.setRequestHandler(() => ({ code: '2.05' }));
    const res = await client.request({ address: '::1', port: server.address().port }, { method: 'GET', path: '/' });
    assert.equal(res.code, '2.05');
  });

  test('a dual-stack endpoint (::) talks to IPv4 peers, and its IPv4-mapped peers match', async () => {
    const v4 = await endpoint();
    const dual = await endpoint({ address: '::' });
    v4.setRequestHandler((req) => ({ code: '2.05', payload: Buffer.from(req.peer.address) }));
    dual.setRequestHandler((req) => ({ code: '2.05', payload: Buffer.from(req.peer.address) }));
    const a = await dual.request({ address: '127.0.0.1', port: v4.address().port }, { method: 'GET', path: '/' });
    assert.equal(a.payload.toString(), '127.0.0.1');
    const b = await v4.request({ address: '127.0.0.1', port: dual.address().port }, { method: 'GET', path: '/' });
    assert.equal(b.payload.toString(), '::ffff:127.0.0.1');
    // A hostname is resolved first (loopback only).
    const c = await v4.request({ address: 'localhost', port: dual.address().port }, { method: 'GET', path: '/' });
    assert.equal(c.code, '2.05');
  });

  test('bad arguments reject with typed errors and leave no state', async () => {
    const client = await endpoint();
    const to = { address: '127.0.0.1', port: 9 };
    await assert.rejects(client.request(to, { method: 'BREW' as never, path: '/' }), EndpointStateError);
    await assert.rejects(client.request({ address: '127.0.0.1', port: 0 }, { method: 'GET', path: '/' }), EndpointStateError);
    await assert.rejects(client.request(to, { method: 'GET', path: ['x'.repeat(300)] }), EndpointStateError);
    await assert.rejects(client.request(to, { method: 'GET', path: '/', contentFormat: 70000 }), EndpointStateError);
    await assert.rejects(client.request(to, { method: 'GET', path: '/', token: Buffer.alloc(9) }), EndpointStateError);
    await assert.rejects(client.request(to, { method: 'GET', path: '/', timeoutMs: -1 }), EndpointStateError);
    await assert.rejects(client.request(to, { method: 'GET', path: '/', payload: 'text' as never }), EndpointStateError);
    await assert.rejects(createUdpEndpoint({ blockSize: 100 }), EndpointStateError);
    await assert.rejects(createUdpEndpoint({ port: 70000 }), EndpointStateError);
    const s = client.stats();
    assert.equal(s.pendingRequests + s.awaitingAck + s.timers, 0);
  });

  test('binding a port in use rejects with a typed error', async () => {
    const first = await endpoint();
    await assert.rejects(createUdpEndpoint({ address: '127.0.0.1', port: first.address().port }), (e: unknown) => e instanceof EndpointStateError && /EADDRINUSE/.test((e as Error).message));
  });
});

describe('separate responses (RFC 7252 5.2.2)', () => {
  test('a slow handler: empty ACK first, then a CON response that is retransmitted until ACKed', async () => {
    const server = await endpoint({ separateResponseDelayMs: 20, ackTimeoutMs: 30 });
    server.setRequestHandler(async () => {
      await sleep(100);
      return { code: '2.05', payload: Buffer.from('late') };
    });
    const rawc = await raw();
    const token = Buffer.from('abcd');
    rawc.send({ confirmable: true, messageId: 1000, token, code: 'GET', options: [{ name: 'Uri-Path', value: Buffer.from('slow') }] }, server.address().port);
    const emptyAck = await rawc.waitFor((p) => p.ack && p.messageId === 1000);
    assert.equal(emptyAck.code, '0.00');
    // A duplicate of the request now gets the same empty ACK again, not a second handler call.
    rawc.send({ confirmable: true, messageId: 1000, token, code: 'GET', options: [{ name: 'Uri-Path', value: Buffer.from('slow') }] }, server.address().port);
    await until(() => rawc.received.filter((p) => p.ack && p.messageId === 1000).length === 2);
    const first = await rawc.waitFor((p) => p.confirmable && p.token.equals(token));
    assert.equal(first.code, '2.05');
    assert.equal(first.payload.toString(), 'late');
    assert.notEqual(first.messageId, 1000);
    // We do not ACK: it is retransmitted with the same message id.
    await until(() => rawc.received.filter((p) => p.confirmable && p.messageId === first.messageId).length >= 2, 3000);
    assert.equal(server.stats().awaitingAck, 1);
    rawc.send({ ack: true, messageId: first.messageId, code: '0.00' }, server.address().port);
    await until(() => server.stats().awaitingAck === 0);
    assert.equal(server.stats().handled, 1);
  });

  test('our client handles a separate response from our server', async () => {
    const server = await endpoint({ separateResponseDelayMs: 10 });
    server.setRequestHandler(async () => {
      await sleep(80);
      return { code: '2.04' };
    });
    const client = await endpoint();
    const res = await client.request(peerOf(server), { method: 'PUT', path: '/1/0/1', payload: Buffer.from('x') });
    assert.equal(res.code, '2.04');
    await until(() => server.stats().awaitingAck === 0);
    assert.equal(client.stats().pendingRequests, 0);
  });

  test('a fast async handler is still piggybacked', async () => {
    const server = await endpoint({ separateResponseDelayMs: 1000 });
    server.setRequestHandler(async () => ({ code: '2.05', payload: Buffer.from('quick') }));
    const rawc = await raw();
    rawc.send({ confirmable: true, messageId: 5, token: Buffer.from([1]), code: 'GET' }, server.address().port);
    const ans = await rawc.waitFor((p) => p.messageId === 5);
    assert.equal(ans.ack, true);
    assert.equal(ans.payload.toString(), 'quick');
  });
});

describe('deduplication (RFC 7252 4.5)', () => {
  test('a duplicate CON request gets the cached answer bytes; the handler runs once', async () => {
    const server = await endpoint();
    let calls = 0;
    server.setRequestHandler(() => ({ code: '2.05', payload: Buffer.from(`call ${++calls}`) }));
    const rawc = await raw();
    const req = { confirmable: true, messageId: 4242, token: Buffer.from('tok'), code: 'GET', options: [{ name: 'Uri-Path' as const, value: Buffer.from('x') }] };
    for (let i = 0; i < 3; i++) rawc.send({ ...req }, server.address().port);
    await until(() => rawc.received.length === 3);
    assert.equal(calls, 1);
    for (const p of rawc.received) {
      assert.equal(p.messageId, 4242);
      assert.equal(p.payload.toString(), 'call 1');
    }
    assert.equal(server.stats().duplicates, 2);
    // Another message id is a new request.
    rawc.send({ ...req, messageId: 4243 }, server.address().port);
    await until(() => rawc.received.length === 4);
    assert.equal(calls, 2);
  });

  test('a duplicate arriving while the handler runs is not processed twice', async () => {
    const server = await endpoint({ separateResponseDelayMs: 5000 });
    let calls = 0;
    let release!: () => void;
    server.setRequestHandler(() => {
      calls++;
      return new Promise((resolve) => {
        release = () => resolve({ code: '2.04' });
      });
    });
    const rawc = await raw();
    const req = { confirmable: true, messageId: 7, token: Buffer.from('t'), code: 'PUT' };
    rawc.send({ ...req }, server.address().port);
    await until(() => calls === 1);
    rawc.send({ ...req }, server.address().port);
    await sleep(30);
    assert.equal(rawc.received.length, 0);
    release();
    await until(() => rawc.received.length === 1);
    rawc.send({ ...req }, server.address().port);
    await until(() => rawc.received.length === 2);
    assert.equal(calls, 1);
    assert.equal(rawc.received[1].code, '2.04');
  });

  test('duplicate NON requests are dropped', async () => {
    const server = await endpoint();
    let calls = 0;
    server.setRequestHandler(() => {
      calls++;
      return { code: '2.05' };
    });
    const rawc = await raw();
    for (let i = 0; i < 3; i++) rawc.send({ confirmable: false, messageId: 99, token: Buffer.from('n'), code: 'GET' }, server.address().port);
    await until(() => rawc.received.length >= 1);
    await sleep(30);
    assert.equal(calls, 1);
    assert.equal(rawc.received.length, 1);
  });

  test('the cache is capped (oldest forgotten first) and entries expire after EXCHANGE_LIFETIME', async () => {
    const server = await endpoint({ dedupCapacity: 10, exchangeLifetimeMs: 1000 });
    let calls = 0;
    server.setRequestHandler(() => {
      calls++;
      return { code: '2.05' };
    });
    const rawc = await raw();
    for (let i = 0; i < 25; i++) rawc.send({ confirmable: true, messageId: i, token: Buffer.from('c'), code: 'GET' }, server.address().port);
    await until(() => rawc.received.length === 25);
    assert.equal(calls, 25);
    assert.ok(server.stats().dedupEntries <= 10);
    // Message id 24 is still remembered: answered from the cache.
    rawc.send({ confirmable: true, messageId: 24, token: Buffer.from('c'), code: 'GET' }, server.address().port);
    await until(() => rawc.received.length === 26);
    assert.equal(calls, 25);
    // Message id 0 was evicted: a "duplicate" of it is processed again.
    rawc.send({ confirmable: true, messageId: 0, token: Buffer.from('c'), code: 'GET' }, server.address().port);
    await until(() => rawc.received.length === 27);
    assert.equal(calls, 26);
    // After the lifetime everything is gone, and the housekeeping timer stops.
    await until(() => server.stats().dedupEntries === 0 && server.stats().timers === 0, 10_000);
  });

  test('a retransmitted CON response is ACKed again and delivered once', async () => {
    const client = await endpoint();
    const rawServer = await raw();
    const got: ReceivedResponse[] = [];
    rawServer.onPacket = (p, rinfo) => {
      if (p.confirmable && p.code === '0.01') {
        rawServer.send({ ack: true, messageId: p.messageId, code: '0.00' }, rinfo.port);
        const sep = { confirmable: true, messageId: 555, token: p.token, code: '2.05', payload: Buffer.from('sep') };
        rawServer.send({ ...sep }, rinfo.port);
        rawServer.send({ ...sep }, rinfo.port);
        rawServer.send({ ...sep }, rinfo.port);
      }
    };
    got.push(await client.request({ address: '127.0.0.1', port: rawServer.port }, { method: 'GET', path: '/' }));
    await until(() => rawServer.received.filter((p) => p.ack && p.messageId === 555).length === 3);
    assert.equal(got.length, 1);
    assert.equal(got[0].payload.toString(), 'sep');
    assert.equal(client.stats().duplicates, 2);
  });
});

describe('message-level behaviour', () => {
  test('CoAP ping (empty CON) is answered with RST', async () => {
    const server = await endpoint();
    const rawc = await raw();
    rawc.send({ confirmable: true, messageId: 321, code: '0.00' }, server.address().port);
    const rst = await rawc.waitFor((p) => p.messageId === 321);
    assert.equal(rst.reset, true);
    assert.equal(rst.code, '0.00');
  });

  test('malformed datagrams never crash: CON with a valid header gets RST, the rest is dropped', async () => {
    const server = await endpoint();
    server.setRequestHandler(() => ({ code: '2.05', payload: Buffer.from('alive') }));
    const rawc = await raw();
    const port = server.address().port;
    const junk = [
      Buffer.from([]),
      Buffer.from([0x40]),
      Buffer.from([0x80, 1, 0, 1]), // version 2
      Buffer.from([0xc0, 0x45, 0x12, 0x34, 0x00]), // version 3
      Buffer.from([0x50, 0x01, 0x00, 0x02, 0xff]), // NON, payload marker without payload
      Buffer.from([0x70, 0x00, 0x00, 0x03]), // RST
      Buffer.from([0x60, 0x01, 0x00, 0x04]), // ACK carrying a request code
      Buffer.from([0x60, 0x45, 0x00, 0x05, 0xaa]), // ACK with a stray byte that is a bad option
    ];
    for (const j of junk) rawc.send(j, port);
    const badCon = [
      Buffer.from([0x49, 0x01, 0x10, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9]), // TKL 9
      Buffer.from([0x40, 0x01, 0x10, 0x02, 0xff]), // payload marker, empty payload
      Buffer.from([0x40, 0x01, 0x10, 0x03, 0xb5, 0x61]), // Uri-Path of 5 bytes, 1 present
      Buffer.from([0x40, 0x01, 0x10, 0x04, 0xf1, 0x00]), // option delta 15
      Buffer.from([0x40, 0x00, 0x10, 0x05, 0x00]), // empty message with a byte after the header
      Buffer.from([0x44, 0x01, 0x10, 0x06, 1, 2]), // token runs past the end
      Buffer.from([0x40, 0x25, 0x10, 0x07]), // reserved class 1.05
      Buffer.from('GET / HTTP/1.1\r\n\r\n'), // 'G' = 0x47 reads as version 1, CON, TKL 7: message id 'T ' = 0x5420
    ];
    for (const j of badCon) rawc.send(j, port);
    await until(() => rawc.received.filter((p) => p.reset).length === badCon.length);
    const rstIds = rawc.received.filter((p) => p.reset).map((p) => p.messageId).sort((a, b) => a - b);
    assert.deepEqual(rstIds, [0x1001, 0x1002, 0x1003, 0x1004, 0x1005, 0x1006, 0x1007, 0x5420]);
    assert.ok(server.stats().malformed >= badCon.length + 4);
    // Still serving.
    const client = await endpoint();
    assert.equal((await client.request(peerOf(server), { method: 'GET', path: '/' })).payload.toString(), 'alive');
    assert.equal(server.stats().handled, 1);
  });

  test('unrecognized critical option: 4.02 for CON, ignored for NON; elective unknown options are ignored', async () => {
    const server = await endpoint();
    let calls = 0;
    server.setRequestHandler(() => {
      calls++;
      return { code: '2.05' };
    });
    const rawc = await raw();
    const port = server.address().port;
    rawc.send({ confirmable: true, messageId: 1, token: Buffer.from('a'), code: 'GET', options: [{ name: '65001', value: Buffer.from('x') }] }, port);
    const bad = await rawc.waitFor((p) => p.messageId === 1);
    assert.equal(bad.code, '4.02');
    assert.equal(bad.ack, true);
    rawc.send({ confirmable: false, messageId: 2, token: Buffer.from('b'), code: 'GET', options: [{ name: '65001', value: Buffer.from('x') }] }, port);
    // If-None-Match (critical) is not supported either.
    rawc.send({ confirmable: true, messageId: 3, token: Buffer.from('c'), code: 'PUT', options: [{ name: 'If-None-Match', value: Buffer.alloc(0) }] }, port);
    assert.equal((await rawc.waitFor((p) => p.messageId === 3)).code, '4.02');
    // Accept (critical) with a 3-byte value is treated as unrecognized (RFC 7252 5.4.3).
    rawc.send({ confirmable: true, messageId: 4, token: Buffer.from('d'), code: 'GET', options: [{ name: 'Accept', value: Buffer.from([1, 2, 3]) }] }, port);
    assert.equal((await rawc.waitFor((p) => p.messageId === 4)).code, '4.02');
    // Elective unknown option (even number): ignored, the request is served.
    rawc.send({ confirmable: true, messageId: 5, token: Buffer.from('e'), code: 'GET', options: [{ name: '65000', value: Buffer.from('x') }] }, port);
    assert.equal((await rawc.waitFor((p) => p.messageId === 5)).code, '2.05');
    await sleep(20);
    assert.equal(rawc.received.some((p) => p.token.equals(Buffer.from('b'))), false);
    assert.equal(calls, 1);
  });

  test('unknown method code: 4.05; Proxy-Uri: 5.05', async () => {
    const server = await endpoint();
    server.setRequestHandler(() => ({ code: '2.05' }));
    const rawc = await raw();
    const port = server.address().port;
    rawc.send({ confirmable: true, messageId: 10, token: Buffer.from('m'), code: '0.08' }, port);
    assert.equal((await rawc.waitFor((p) => p.messageId === 10)).code, '4.05');
    rawc.send({ confirmable: true, messageId: 11, token: Buffer.from('p'), code: 'GET', options: [{ name: 'Proxy-Uri', value: Buffer.from('coap://x/') }] }, port);
    assert.equal((await rawc.waitFor((p) => p.messageId === 11)).code, '5.05');
  });

  test('stray ACK and RST are ignored; unknown-token responses get RST unless the notification handler accepts them', async () => {
    const client = await endpoint();
    const rawc = await raw();
    const port = client.address().port;
    rawc.send({ ack: true, messageId: 1, code: '0.00' }, port);
    rawc.send({ reset: true, messageId: 2, code: '0.00' }, port);
    rawc.send({ ack: true, messageId: 3, token: Buffer.from('zz'), code: '2.05', payload: Buffer.from('stray') }, port);
    await sleep(30);
    assert.equal(rawc.received.length, 0);
    assert.equal(client.stats().unmatched, 3);
    rawc.send({ confirmable: true, messageId: 4, token: Buffer.from('unknown'), code: '2.05', options: [{ name: 'Observe', value: Buffer.from([5]) }] }, port);
    const rst = await rawc.waitFor((p) => p.messageId === 4);
    assert.equal(rst.reset, true);
    rawc.send({ confirmable: false, messageId: 5, token: Buffer.from('unknown'), code: '2.05' }, port);
    assert.equal((await rawc.waitFor((p) => p.messageId === 5)).reset, true);
    const offered: string[] = [];
    client.setNotificationHandler((token, res) => {
      offered.push(token.toString() + ':' + res.payload.toString());
      return token.toString() === 'keep';
    });
    rawc.send({ confirmable: true, messageId: 6, token: Buffer.from('keep'), code: '2.05', payload: Buffer.from('v1'), options: [{ name: 'Observe', value: Buffer.from([6]) }] }, port);
    assert.equal((await rawc.waitFor((p) => p.messageId === 6)).ack, true);
    rawc.send({ confirmable: true, messageId: 7, token: Buffer.from('drop'), code: '2.05', payload: Buffer.from('v2') }, port);
    assert.equal((await rawc.waitFor((p) => p.messageId === 7)).reset, true);
    assert.deepEqual(offered, ['keep:v1', 'drop:v2']);
  });

  test('a RST to our request rejects it with CancelledError', async () => {
    const client = await endpoint();
    const rawServer = await raw();
    rawServer.onPacket = (p, rinfo) => rawServer.send({ reset: true, messageId: p.messageId, code: '0.00' }, rinfo.port);
    await assert.rejects(client.request({ address: '127.0.0.1', port: rawServer.port }, { method: 'GET', path: '/' }), CancelledError);
    await assert.rejects(client.request({ address: '127.0.0.1', port: rawServer.port }, { method: 'GET', path: '/', confirmable: false }), CancelledError);
    const s = client.stats();
    assert.equal(s.pendingRequests + s.awaitingAck + s.timers, 0);
  });
});

describe('timeouts', () => {
  test('CON: retransmitted MAX_RETRANSMIT times, then TimeoutError; nothing left behind', async () => {
    const client = await endpoint({ ackTimeoutMs: 10, maxRetransmit: 3, ackRandomFactor: 1 });
    const sink = await raw();
    const p = client.request({ address: '127.0.0.1', port: sink.port }, { method: 'GET', path: '/gone' });
    p.catch(() => {});
    await until(() => sink.received.length >= 1);
    assert.equal(client.stats().pendingRequests, 1);
    await assert.rejects(p, (e: unknown) => e instanceof TimeoutError && e instanceof Lwm2mError && e.code === 'TIMEOUT');
    assert.equal(sink.received.length, 4, 'first transmission and 3 retransmissions');
    assert.equal(new Set(sink.received.map((x) => x.messageId)).size, 1, 'retransmissions keep the message id');
    const s = client.stats();
    assert.deepEqual([s.pendingRequests, s.awaitingAck, s.timers, s.dedupEntries], [0, 0, 0, 0]);
    assert.equal(s.retransmissions, 3);
  });

  test('overall deadline (timeoutMs) after an empty ACK, and for NON', async () => {
    const client = await endpoint();
    const acker = await raw();
    acker.onPacket = (p, rinfo) => {
      if (p.confirmable) acker.send({ ack: true, messageId: p.messageId, code: '0.00' }, rinfo.port);
    };
    await assert.rejects(client.request({ address: '127.0.0.1', port: acker.port }, { method: 'GET', path: '/', timeoutMs: 100 }), TimeoutError);
    await assert.rejects(client.request({ address: '127.0.0.1', port: acker.port }, { method: 'GET', path: '/', confirmable: false, timeoutMs: 50 }), TimeoutError);
    const s = client.stats();
    assert.deepEqual([s.pendingRequests, s.awaitingAck, s.timers], [0, 0, 0]);
  });

  test('close() rejects pending requests with CancelledError', async () => {
    const client = await createUdpEndpoint({ address: '127.0.0.1' });
    const sink = await raw();
    const p = client.request({ address: '127.0.0.1', port: sink.port }, { method: 'GET', path: '/' });
    await until(() => sink.received.length === 1);
    await client.close();
    await assert.rejects(p, CancelledError);
    await assert.rejects(client.request({ address: '127.0.0.1', port: sink.port }, { method: 'GET', path: '/' }), CancelledError);
    await client.close(); // idempotent
  });
});

describe('observe (RFC 7641)', () => {
  async function observed() {
    const device = await endpoint();
    const server = await endpoint();
    let observer: { peer: Peer; token: Buffer } | undefined;
    device.setRequestHandler((req) => {
      if (req.observe === 0) observer = { peer: req.peer, token: req.token };
      return { code: '2.05', observe: req.observe === 0 ? 1 : undefined, payload: Buffer.from('v1') };
    });
    const notes: ReceivedResponse[] = [];
    const first = await server.request(peerOf(device), { method: 'GET', path: '/3/0/9', observe: 0 }, { onNotification: (r) => notes.push(r) });
    assert.ok(observer);
    return { device, server, first, notes, observer: observer! };
  }

  test('first answer resolves, later notifications (CON and NON) reach onNotification in order', async () => {
    const { device, server, first, notes, observer } = await observed();
    assert.equal(first.observe, 1);
    assert.equal(first.payload.toString(), 'v1');
    assert.equal(server.stats().observations, 1);
    await device.notify(observer.peer, observer.token, { code: '2.05', observe: 2, payload: Buffer.from('v2') }, true);
    await device.notify(observer.peer, observer.token, { code: '2.05', observe: 3, payload: Buffer.from('v3') }, false);
    await device.notify(observer.peer, observer.token, { code: '2.05', observe: 4, payload: Buffer.from('v4') }, true);
    await until(() => notes.length === 3);
    assert.deepEqual(notes.map((n) => n.payload.toString()), ['v2', 'v3', 'v4']);
    assert.deepEqual(notes.map((n) => n.observe), [2, 3, 4]);
    assert.ok(notes.every((n) => n.token.equals(observer.token)));
    // An older sequence number (reordered in the network) is not delivered (RFC 7641 3.4), but is ACKed.
    await device.notify(observer.peer, observer.token, { code: '2.05', observe: 3, payload: Buffer.from('old') }, true);
    await sleep(20);
    assert.equal(notes.length, 3);
    assert.equal(device.stats().awaitingAck, 0);
  });

  test('after forgetToken a CON notification is rejected with RST: notify rejects with CancelledError', async () => {
    const { device, server, notes, observer } = await observed();
    server.forgetToken(observer.token);
    assert.equal(server.stats().observations, 0);
    await assert.rejects(device.notify(observer.peer, observer.token, { code: '2.05', observe: 2, payload: Buffer.from('x') }, true), CancelledError);
    assert.equal(notes.length, 0);
    assert.equal(device.stats().awaitingAck, 0);
    // With a notification handler that accepts, the same kind of notification is ACKed and offered to it.
    const offered: Buffer[] = [];
    server.setNotificationHandler((token, res) => {
      offered.push(res.payload);
      return token.equals(observer.token);
    });
    await device.notify(observer.peer, observer.token, { code: '2.05', observe: 3, payload: Buffer.from('y') }, true);
    assert.deepEqual(offered.map(String), ['y']);
  });

  test('a notification without Observe (final answer) is delivered and ends the observation', async () => {
    const { device, server, notes, observer } = await observed();
    await device.notify(observer.peer, observer.token, { code: '4.04' }, true);
    await until(() => notes.length === 1);
    assert.equal(notes[0].code, '4.04');
    assert.equal(server.stats().observations, 0);
  });

  test('notify to a peer that never answers rejects with TimeoutError', async () => {
    const device = await endpoint({ ackTimeoutMs: 10, maxRetransmit: 2 });
    const sink = await raw();
    await assert.rejects(device.notify({ address: '127.0.0.1', port: sink.port }, Buffer.from('t'), { code: '2.05', observe: 9 }, true), TimeoutError);
    assert.equal(sink.received.length, 3);
    assert.equal(uint(option(sink.received[0], 'Observe')), 9);
    assert.equal(device.stats().timers, 0);
  });

  test('a large notification carries block 0; the observer fetches the rest and delivers the whole body', async () => {
    const device = await endpoint({ blockSize: 64 });
    const server = await endpoint();
    const big = Buffer.from('n'.repeat(500));
    let observer: { peer: Peer; token: Buffer } | undefined;
    device.setRequestHandler((req) => {
      if (req.observe === 0) observer = { peer: req.peer, token: req.token };
      return { code: '2.05', observe: req.observe === 0 ? 1 : undefined, payload: observer && req.observe === undefined ? big : Buffer.from('small') };
    });
    const notes: ReceivedResponse[] = [];
    await server.request(peerOf(device), { method: 'GET', path: '/5/0/7', observe: 0 }, { onNotification: (r) => notes.push(r) });
    await device.notify(observer!.peer, observer!.token, { code: '2.05', observe: 2, payload: big }, true);
    await until(() => notes.length === 1);
    assert.equal(notes[0].payload.toString(), big.toString());
    assert.equal(notes[0].observe, 2);
  });
});

describe('block-wise transfers (RFC 7959)', () => {
  test('Block2: a large answer is served block by block and reassembled by our client', async () => {
    const server = await endpoint({ blockSize: 256 });
    const client = await endpoint({ blockSize: 1024 });
    const body = Buffer.alloc(5000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    let calls = 0;
    server.setRequestHandler(() => {
      calls++;
      return { code: '2.05', contentFormat: 42, payload: body };
    });
    const res = await client.request(peerOf(server), { method: 'GET', path: '/5/0/0' });
    assert.equal(res.code, '2.05');
    assert.equal(res.contentFormat, 42);
    assert.ok(res.payload.equals(body));
    assert.equal(calls, 1, 'later blocks served from the cached body');
    assert.equal(server.stats().block2Bodies, 0, 'the body is dropped after its last block');
  });

  test('Block2: the client asks for smaller blocks than the server would send', async () => {
    const server = await endpoint({ blockSize: 1024 });
    const rawc = await raw();
    const body = Buffer.from('x'.repeat(300) + 'y'.repeat(300));
    server.setRequestHandler(() => ({ code: '2.05', payload: body }));
    const port = server.address().port;
    // Block2 num 0, szx 2 (64 bytes).
    rawc.send({ confirmable: true, messageId: 1, token: Buffer.from('b'), code: 'GET', options: [{ name: 'Block2', value: Buffer.from([0x02]) }] }, port);
    const b0 = await rawc.waitFor((p) => p.messageId === 1);
    assert.equal(b0.payload.length, 64);
    assert.equal(uint(option(b0, 'Block2')), 0x0a); // num 0, M, szx 2
    assert.equal(uint(option(b0, 'Size2')), 600);
    // num 9 of 64 bytes: bytes 576..599, the last block.
    rawc.send({ confirmable: true, messageId: 2, token: Buffer.from('b'), code: 'GET', options: [{ name: 'Block2', value: Buffer.from([0x92]) }] }, port);
    const b9 = await rawc.waitFor((p) => p.messageId === 2);
    assert.equal(b9.payload.toString(), 'y'.repeat(24));
    assert.equal(uint(option(b9, 'Block2')), 0x92);
    // A block beyond the end: 4.02.
    rawc.send({ confirmable: true, messageId: 3, token: Buffer.from('b'), code: 'GET', options: [{ name: 'Block2', value: Buffer.from([0xf2]) }] }, port);
    assert.equal((await rawc.waitFor((p) => p.messageId === 3)).code, '4.02');
  });

  test('Block1: a large request body is sent block by block and reassembled for the handler', async () => {
    const server = await endpoint();
    const client = await endpoint({ blockSize: 128 });
    const body = Buffer.alloc(3000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    const got: CoapRequest[] = [];
    server.setRequestHandler((req) => {
      got.push(req);
      return { code: '2.04', payload: Buffer.from(String(req.payload.length)) };
    });
    const res = await client.request(peerOf(server), { method: 'PUT', path: '/5/0/0', contentFormat: 42, payload: body });
    assert.equal(res.code, '2.04');
    assert.equal(res.payload.toString(), '3000');
    assert.equal(got.length, 1);
    assert.ok(got[0].payload.equals(body));
    assert.equal(got[0].contentFormat, 42);
    assert.equal(server.stats().block1Transfers, 0);
  });

  test('Block1 + Block2 in one exchange (large request, large answer)', async () => {
    const server = await endpoint({ blockSize: 64 });
    const client = await endpoint({ blockSize: 64 });
    server.setRequestHandler((req) => ({ code: '2.04', payload: Buffer.concat([req.payload, req.payload]) }));
    const body = Buffer.from('0123456789'.repeat(50));
    const res = await client.request(peerOf(server), { method: 'POST', path: '/echo', payload: body });
    assert.equal(res.payload.toString(), body.toString() + body.toString());
  });

  test('Block1 limits: 4.13 over maxBodySize, 4.08 for a block out of sequence', async () => {
    const server = await endpoint({ maxBodySize: 1000 });
    const client = await endpoint({ blockSize: 256 });
    server.setRequestHandler(() => ({ code: '2.04' }));
    const tooBig = await client.request(peerOf(server), { method: 'PUT', path: '/5/0/0', payload: Buffer.alloc(2000) });
    assert.equal(tooBig.code, '4.13');
    assert.equal(server.stats().block1Transfers, 0);
    const rawc = await raw();
    // Block1 num 3 (szx 4 = 256) with nothing before it.
    rawc.send({ confirmable: true, messageId: 1, token: Buffer.from('q'), code: 'PUT', options: [{ name: 'Block1', value: Buffer.from([0x3c]) }], payload: Buffer.alloc(256) }, server.address().port);
    assert.equal((await rawc.waitFor((p) => p.messageId === 1)).code, '4.08');
    // A block that announces (Size1) more than the cap.
    rawc.send({ confirmable: true, messageId: 2, token: Buffer.from('q'), code: 'PUT', options: [{ name: 'Block1', value: Buffer.from([0x0c]) }, { name: 'Size1', value: Buffer.from([0x10, 0x00]) }], payload: Buffer.alloc(256) }, server.address().port);
    const r = await rawc.waitFor((p) => p.messageId === 2);
    assert.equal(r.code, '4.13');
    assert.equal(uint(option(r, 'Size1')), 1000);
  });

  test('Block2: every block carries the same ETag; a body that changes between blocks is refused', async () => {
    const server = await endpoint({ blockSize: 16 });
    server.setRequestHandler(() => ({ code: '2.05', payload: Buffer.from('z'.repeat(40)) }));
    const rawc = await raw();
    for (const [mid, b2] of [[1, 0x00], [2, 0x10], [3, 0x20]]) {
      rawc.send({ confirmable: true, messageId: mid, token: Buffer.from('e'), code: 'GET', options: [{ name: 'Block2', value: Buffer.from([b2]) }] }, server.address().port);
    }
    await until(() => rawc.received.length === 3);
    const etags = rawc.received.map((p) => option(p, 'ETag')?.toString('hex'));
    assert.equal(etags[0]?.length, 8);
    assert.equal(new Set(etags).size, 1);

    // A peer whose representation changes between block 0 and block 1.
    const fickle = await raw();
    let n = 0;
    fickle.onPacket = (p, rinfo) => {
      if (!p.confirmable) return;
      n++;
      const last = n > 1;
      fickle.send({ ack: true, messageId: p.messageId, token: p.token, code: '2.05', payload: Buffer.alloc(16, n), options: [
        { name: 'ETag', value: Buffer.from([n]) },
        { name: 'Block2', value: Buffer.from([last ? 0x10 : 0x08]) },
      ] }, rinfo.port);
    };
    const client = await endpoint();
    await assert.rejects(client.request({ address: '127.0.0.1', port: fickle.port }, { method: 'GET', path: '/x' }), (e: unknown) => e instanceof BlockwiseError && /ETag/.test((e as Error).message));
  });

  test('Block2 body over the receiver maxBodySize rejects with BlockwiseError', async () => {
    const server = await endpoint({ blockSize: 64 });
    const client = await endpoint({ maxBodySize: 200 });
    server.setRequestHandler(() => ({ code: '2.05', payload: Buffer.alloc(1000) }));
    await assert.rejects(client.request(peerOf(server), { method: 'GET', path: '/big' }), BlockwiseError);
    assert.equal(client.stats().pendingRequests, 0);
  });

  test('served bodies and partial uploads are capped and expire', async () => {
    const server = await endpoint({ blockSize: 16, maxBlockTransfers: 3, blockTransferTimeoutMs: 1000 });
    server.setRequestHandler((req) => ({ code: '2.05', payload: Buffer.alloc(100, req.path[0]) }));
    const rawc = await raw();
    for (let i = 0; i < 6; i++) {
      rawc.send({ confirmable: true, messageId: i, token: Buffer.from('t'), code: 'GET', options: [{ name: 'Uri-Path', value: Buffer.from(String(i)) }] }, server.address().port);
    }
    await until(() => rawc.received.length === 6);
    assert.ok(rawc.received.every((p) => options(p, 'Block2').length === 1));
    assert.equal(server.stats().block2Bodies, 3);
    // Uploads started and abandoned (Block1 num 0, more to come): capped at 3 as well.
    for (let i = 0; i < 5; i++) {
      rawc.send({ confirmable: true, messageId: 100 + i, token: Buffer.from('u'), code: 'PUT', payload: Buffer.alloc(16), options: [
        { name: 'Uri-Path', value: Buffer.from('up' + i) },
        { name: 'Block1', value: Buffer.from([0x08]) }, // num 0, more, 16 bytes
      ] }, server.address().port);
    }
    await until(() => rawc.received.length === 11);
    assert.ok(rawc.received.slice(6).every((p) => p.code === '2.31'));
    assert.equal(server.stats().block1Transfers, 3);
    await until(() => server.stats().block2Bodies === 0 && server.stats().block1Transfers === 0, 10_000);
  });
});
