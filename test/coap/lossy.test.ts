/**
 * CON retransmission and deduplication through a lossy relay (30 % of datagrams dropped each way, seeded): every request
 * is answered, and the handler runs exactly once per request.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createUdpEndpoint, UdpCoapEndpoint } from '../../src/coap/endpoint';
import { Peer, ReceivedResponse } from '../../src/coap/types';
import { createLossyRelay, LossyRelay } from '../helpers/lossy-relay';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  await Promise.all(closers.map((c) => c()));
});

async function endpoint(opts: Parameters<typeof createUdpEndpoint>[0] = {}): Promise<UdpCoapEndpoint> {
  // Small ACK_TIMEOUT keeps the test quick; enough retransmissions that the bounded loss cannot exhaust them.
  const ep = await createUdpEndpoint({ address: '127.0.0.1', ackTimeoutMs: 15, maxRetransmit: 8, separateResponseDelayMs: 30, ...opts });
  closers.push(() => ep.close());
  return ep;
}

async function relay(target: UdpCoapEndpoint, seed: number): Promise<LossyRelay> {
  const r = await createLossyRelay({
    target: { address: '127.0.0.1', port: target.address().port },
    lossToTarget: 0.3,
    lossToClient: 0.3,
    seed,
    // The same bytes are dropped at most 3 times per direction: 4 tries reach the other side, 8 retransmissions suffice.
    maxDropsPerDatagram: 3,
  });
  closers.push(() => r.close());
  return r;
}

describe('lossy network (30 % loss each way)', () => {
  test('every CON request is answered, each handled exactly once (piggybacked answers)', async () => {
    const server = await endpoint();
    const client = await endpoint();
    const handled = new Map<string, number>();
    server.setRequestHandler((req) => {
      const id = req.query[0];
      handled.set(id, (handled.get(id) ?? 0) + 1);
      return { code: '2.05', payload: Buffer.from('answer ' + id) };
    });
    const r = await relay(server, 12345);
    const via: Peer = { address: '127.0.0.1', port: r.port };
    const N = 60;
    const results: Promise<ReceivedResponse>[] = [];
    for (let i = 0; i < N; i++) results.push(client.request(via, { method: 'GET', path: '/3/0/0', query: [`id${i}`] }));
    const answers = await Promise.all(results);
    answers.forEach((a, i) => assert.equal(a.payload.toString(), `answer id${i}`));
    assert.equal(handled.size, N);
    for (const [id, n] of handled) assert.equal(n, 1, `${id} handled ${n} times`);
    // The loss really happened, and was repaired by retransmissions and the dedup cache.
    assert.ok(r.stats.droppedToTarget > 0 && r.stats.droppedToClient > 0);
    assert.ok(client.stats().retransmissions > 0);
    assert.ok(server.stats().duplicates > 0, 'lost answers made the client retransmit requests the server had answered');
    const s = client.stats();
    assert.equal(s.pendingRequests, 0);
    assert.equal(s.awaitingAck, 0);
  });

  test('separate responses survive the loss too (both the request and the CON answer are retransmitted)', async () => {
    const server = await endpoint();
    const client = await endpoint();
    const handled = new Map<string, number>();
    server.setRequestHandler(async (req) => {
      const id = req.query[0];
      handled.set(id, (handled.get(id) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 60)); // longer than separateResponseDelayMs
      return { code: '2.04', payload: Buffer.from('done ' + id) };
    });
    const r = await relay(server, 777);
    const via: Peer = { address: '127.0.0.1', port: r.port };
    const N = 30;
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) => client.request(via, { method: 'PUT', path: '/1/0/1', query: [`id${i}`], payload: Buffer.from('x') })),
    );
    answers.forEach((a, i) => assert.equal(a.payload.toString(), `done id${i}`));
    for (const [id, n] of handled) assert.equal(n, 1, `${id} handled ${n} times`);
    assert.equal(handled.size, N);
    // Every separate CON answer was eventually ACKed (retransmissions stop).
    const deadline = Date.now() + 10_000;
    while (server.stats().awaitingAck > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    assert.equal(server.stats().awaitingAck, 0);
  });

  test('a block-wise upload and download complete over the lossy link', async () => {
    const server = await endpoint({ blockSize: 64 });
    const client = await endpoint({ blockSize: 64 });
    let uploads = 0;
    server.setRequestHandler((req) => {
      if (req.method === 'PUT') uploads++;
      return { code: req.method === 'PUT' ? '2.04' : '2.05', payload: req.method === 'PUT' ? undefined : Buffer.alloc(1500, 0x42) };
    });
    const r = await relay(server, 4242);
    const via: Peer = { address: '127.0.0.1', port: r.port };
    const up = await client.request(via, { method: 'PUT', path: '/5/0/0', payload: Buffer.alloc(1500, 0x41) });
    assert.equal(up.code, '2.04');
    assert.equal(uploads, 1);
    const down = await client.request(via, { method: 'GET', path: '/5/0/0' });
    assert.ok(down.payload.equals(Buffer.alloc(1500, 0x42)));
  });
});
