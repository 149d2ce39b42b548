/**
 * Interop with node-coap (an independent CoAP implementation): node-coap's client against our endpoint, and our endpoint
 * against node-coap's server.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as coap from 'coap';
import { createUdpEndpoint, UdpCoapEndpoint } from '../../src/coap/endpoint';
import { CoapRequest, Peer } from '../../src/coap/types';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  await Promise.all(closers.map((c) => c()));
});

async function endpoint(address = '127.0.0.1'): Promise<UdpCoapEndpoint> {
  const ep = await createUdpEndpoint({ address, ackTimeoutMs: 100 });
  closers.push(() => ep.close());
  return ep;
}

function agent(type: 'udp4' | 'udp6' = 'udp4'): coap.Agent {
  const a = new coap.Agent({ type });
  closers.push(() => new Promise<void>((resolve) => a.close(() => resolve())));
  return a;
}

interface NodeCoapAnswer {
  code: string;
  payload: Buffer;
  options: { name: string | number; value: Buffer }[];
}

function nodeCoapRequest(params: coap.CoapRequestParams, payload?: Buffer, options: Record<string, Buffer> = {}): Promise<NodeCoapAnswer> {
  return new Promise((resolve, reject) => {
    const req = coap.request(params);
    for (const [k, v] of Object.entries(options)) req.setOption(k as never, v);
    req.on('response', (res: coap.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ code: res.code, payload: Buffer.concat(chunks), options: (res._packet.options ?? []) as never }));
    });
    req.on('error', reject);
    req.on('timeout', reject);
    req.end(payload);
  });
}

describe('node-coap client -> our endpoint', () => {
  test('GET/POST/PUT/DELETE with query, content format and payloads', async () => {
    const server = await endpoint();
    const seen: CoapRequest[] = [];
    server.setRequestHandler((req) => {
      seen.push(req);
      switch (req.method) {
        case 'GET':
          return { code: '2.05', contentFormat: 0, payload: Buffer.from(`value of /${req.path.join('/')}`) };
        case 'POST':
          return { code: '2.01', locationPath: ['rd', 'x1'] };
        case 'PUT':
          return { code: '2.04' };
        default:
          return { code: '2.02' };
      }
    });
    const a = agent();
    const port = server.address().port;
    const base = { hostname: '127.0.0.1', port, agent: a };
    const get = await nodeCoapRequest({ ...base, pathname: '/3/0/0', query: 'a=1&b=two' });
    assert.equal(get.code, '2.05');
    assert.equal(get.payload.toString(), 'value of /3/0/0');
    const post = await nodeCoapRequest({ ...base, method: 'POST', pathname: '/rd', query: 'ep=node1&lt=60' }, Buffer.from('</1/0>,</3/0>'), {
      'Content-Format': Buffer.from([40]),
    });
    assert.equal(post.code, '2.01');
    const loc = post.options.filter((o) => o.name === 'Location-Path').map((o) => o.value.toString());
    assert.deepEqual(loc, ['rd', 'x1']);
    const put = await nodeCoapRequest({ ...base, method: 'PUT', pathname: '/1/0/1' }, Buffer.from('300'));
    assert.equal(put.code, '2.04');
    const del = await nodeCoapRequest({ ...base, method: 'DELETE', pathname: '/rd/x1' });
    assert.equal(del.code, '2.02');
    assert.deepEqual(seen.map((r) => r.method), ['GET', 'POST', 'PUT', 'DELETE']);
    assert.deepEqual(seen[0].query, ['a=1', 'b=two']);
    assert.deepEqual(seen[1].path, ['rd']);
    assert.deepEqual(seen[1].query, ['ep=node1', 'lt=60']);
    assert.equal(seen[1].contentFormat, 40);
    assert.equal(seen[1].payload.toString(), '</1/0>,</3/0>');
    assert.equal(seen[2].payload.toString(), '300');
  });

  test('a large answer reaches node-coap through Block2', async () => {
    const server = await endpoint();
    const body = Buffer.from('abcdefghij'.repeat(400));
    server.setRequestHandler(() => ({ code: '2.05', payload: body }));
    const res = await nodeCoapRequest({ hostname: '127.0.0.1', port: server.address().port, pathname: '/big', agent: agent() });
    assert.equal(res.code, '2.05');
    assert.equal(res.payload.toString(), body.toString());
  });

  test('node-coap observes our endpoint and receives our notifications', async () => {
    const device = await endpoint();
    let observer: { peer: Peer; token: Buffer } | undefined;
    device.setRequestHandler((req) => {
      if (req.observe === 0) observer = { peer: req.peer, token: req.token };
      return { code: '2.05', observe: req.observe === 0 ? 1 : undefined, payload: Buffer.from('n1') };
    });
    const values: string[] = [];
    const req = coap.request({ hostname: '127.0.0.1', port: device.address().port, pathname: '/3303/0/5700', observe: true, agent: agent() });
    const stream = await new Promise<coap.ObserveReadStream>((resolve, reject) => {
      req.on('response', (res: coap.ObserveReadStream) => resolve(res));
      req.on('error', reject);
      req.end();
    });
    stream.on('data', (d: Buffer) => values.push(d.toString()));
    const deadline = Date.now() + 5000;
    while (!observer && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.ok(observer);
    await device.notify(observer!.peer, observer!.token, { code: '2.05', observe: 2, payload: Buffer.from('n2') }, true);
    await device.notify(observer!.peer, observer!.token, { code: '2.05', observe: 3, payload: Buffer.from('n3') }, true);
    while (values.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(values, ['n1', 'n2', 'n3']);
    stream.close();
  });

  test('node-coap over IPv6 loopback', async () => {
    const server = await endpoint('::1');
    server.setRequestHandler((req) => ({ code: '2.05', payload: Buffer.from(req.peer.address) }));
    const res = await nodeCoapRequest({ hostname: '::1', port: server.address().port, pathname: '/v6', agent: agent('udp6') });
    assert.equal(res.payload.toString(), '::1');
  });
});

describe('our endpoint -> node-coap server', () => {
  async function nodeCoapServer(opts: coap.CoapServerOptions, handler: (req: coap.IncomingMessage, res: coap.OutgoingMessage) => void): Promise<number> {
    const server = coap.createServer(opts, handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return (server as unknown as { _sock: { address(): { port: number } } })._sock.address().port;
  }

  test('piggybacked answers, with query and content format', async () => {
    const port = await nodeCoapServer({}, (req, res) => {
      res.setOption('Content-Format', 'text/plain');
      res.end(`${req.method} ${req.url} ${req.payload.toString()}`);
    });
    const client = await endpoint();
    const to = { address: '127.0.0.1', port };
    const get = await client.request(to, { method: 'GET', path: '/a/b', query: ['x=1'] });
    assert.equal(get.code, '2.05');
    assert.equal(get.contentFormat, 0);
    assert.equal(get.payload.toString(), 'GET /a/b?x=1 ');
    const post = await client.request(to, { method: 'POST', path: '/c', payload: Buffer.from('hello') });
    assert.equal(post.payload.toString(), 'POST /c hello');
  });

  test('separate response (node-coap acks first when its handler is slow)', async () => {
    const port = await nodeCoapServer({ piggybackReplyMs: 10 }, (req, res) => {
      setTimeout(() => res.end('slow answer'), 150);
    });
    const client = await endpoint();
    const res = await client.request({ address: '127.0.0.1', port }, { method: 'GET', path: '/slow' });
    assert.equal(res.code, '2.05');
    assert.equal(res.payload.toString(), 'slow answer');
    const s = client.stats();
    assert.equal(s.pendingRequests, 0);
    assert.equal(s.awaitingAck, 0);
  });

  test('Block2 answer from node-coap is fetched and reassembled', async () => {
    const body = Buffer.alloc(5000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 13) & 0xff;
    let calls = 0;
    const port = await nodeCoapServer({}, (req, res) => {
      calls++;
      res.end(body);
    });
    const client = await endpoint();
    const res = await client.request({ address: '127.0.0.1', port }, { method: 'GET', path: '/fw' });
    assert.equal(res.code, '2.05');
    assert.ok(res.payload.equals(body));
    assert.ok(calls >= 1);
  });

  test('Block1 request body to node-coap is reassembled there', async () => {
    let got: Buffer | undefined;
    const port = await nodeCoapServer({}, (req, res) => {
      got = req.payload;
      res.code = '2.04';
      res.end(String(req.payload.length));
    });
    const client = await endpoint();
    const body = Buffer.alloc(4000, 0x5a);
    const res = await client.request({ address: '127.0.0.1', port }, { method: 'PUT', path: '/5/0/0', payload: body });
    assert.equal(res.code, '2.04');
    assert.equal(res.payload.toString(), '4000');
    assert.ok(got && got.equals(body));
  });

  test('observe a node-coap resource: notifications reach onNotification', async () => {
    const port = await nodeCoapServer({}, (req, res) => {
      if (req.headers.Observe !== 0) return res.end('plain');
      let n = 0;
      res.write(`tick ${n}`);
      const timer = setInterval(() => {
        n++;
        res.write(`tick ${n}`);
        if (n === 3) {
          clearInterval(timer);
        }
      }, 20);
      res.on('finish', () => clearInterval(timer));
    });
    const client = await endpoint();
    const notes: string[] = [];
    const first = await client.request({ address: '127.0.0.1', port }, { method: 'GET', path: '/obs', observe: 0 }, { onNotification: (r) => notes.push(r.payload.toString()) });
    assert.equal(first.payload.toString(), 'tick 0');
    assert.notEqual(first.observe, undefined);
    const deadline = Date.now() + 5000;
    while (notes.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(notes, ['tick 1', 'tick 2', 'tick 3']);
    client.forgetToken(first.token);
  });
});
