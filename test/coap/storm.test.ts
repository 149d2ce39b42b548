/**
 * A sustained storm: 200 000 distinct CON requests from a raw UDP client (hundreds in flight, lost datagrams retransmitted)
 * through one endpoint. Every request gets its own answer and the dedup cache never grows past its cap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import { createUdpEndpoint } from '../../src/coap/endpoint';

test('200k requests: all answered, dedup cache bounded by its cap', { timeout: 180_000 }, async () => {
  const N = 200_000;
  const WINDOW = 400;
  const CAP = 5000;
  const server = await createUdpEndpoint({ address: '127.0.0.1', dedupCapacity: CAP, recvBufferSize: 4 * 1024 * 1024 });
  let calls = 0;
  let maxDedup = 0;
  server.setRequestHandler((req) => {
    calls++;
    if ((calls & 255) === 0) maxDedup = Math.max(maxDedup, server.stats().dedupEntries);
    // Echo the token so the client can check it got the answer to *this* request.
    return { code: '2.05', payload: req.token };
  });

  const client = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', () => resolve()));
  const port = server.address().port;
  const answered = new Uint8Array(N);
  const sentAt = new Float64Array(N);
  let answeredCount = 0;
  let next = 0;
  let inFlight = 0;
  let resent = 0;
  let s = server.stats();
  let wrong = 0;

  // CON GET, TKL 4 (token = request number), message id = request number mod 2^16.
  const build = (id: number): Buffer => {
    const b = Buffer.allocUnsafe(8);
    b[0] = 0x44;
    b[1] = 0x01;
    b.writeUInt16BE(id & 0xffff, 2);
    b.writeUInt32BE(id, 4);
    return b;
  };
  const sendOne = (id: number) => {
    sentAt[id] = performance.now();
    client.send(build(id), port, '127.0.0.1');
  };

  let retry: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    const fill = () => {
      while (inFlight < WINDOW && next < N) {
        const id = next++;
        sendOne(id);
        // Every 8th request is duplicated at once (as a retransmission would be): answered from the dedup cache.
        if ((id & 7) === 0) client.send(build(id), port, '127.0.0.1');
        inFlight++;
      }
    };
    client.on('message', (msg) => {
      // ACK (type 2) with the token: the piggybacked answer.
      if (msg.length < 8 || (msg[0] & 0x30) !== 0x20 || (msg[0] & 0x0f) !== 4) return;
      const id = msg.readUInt32BE(4);
      if (id >= N || msg.readUInt16BE(2) !== (id & 0xffff)) {
        wrong++;
        return;
      }
      const payload = msg.subarray(msg.indexOf(0xff, 8) + 1);
      if (payload.length !== 4 || payload.readUInt32BE(0) !== id) {
        wrong++;
        return;
      }
      if (answered[id]) return; // answer to a retransmission
      answered[id] = 1;
      answeredCount++;
      inFlight--;
      if (answeredCount === N) resolve();
      else fill();
    });
    // Lost datagrams (socket buffers overflow under a storm) are retransmitted with the same message id.
    retry = setInterval(() => {
      const now = performance.now();
      for (let id = Math.max(0, next - WINDOW * 4); id < next; id++) {
        if (!answered[id] && now - sentAt[id] > 300) {
          resent++;
          sendOne(id);
        }
      }
      maxDedup = Math.max(maxDedup, server.stats().dedupEntries);
    }, 100);
    fill();
  });
  try {
    await done;
    s = server.stats();
  } finally {
    clearInterval(retry);
    await new Promise<void>((resolve) => client.close(() => resolve()));
    await server.close();
  }

  assert.equal(answeredCount, N);
  assert.equal(wrong, 0, 'no answer carried another request\'s token or payload');
  assert.ok(maxDedup <= CAP, `dedup cache reached ${maxDedup} > ${CAP}`);
  assert.ok(s.dedupEntries <= CAP);
  assert.ok(maxDedup > CAP / 2, 'the cache was actually under pressure');
  // Each distinct request ran the handler at least once; a second run only for a retransmission whose entry was evicted.
  assert.ok(calls >= N && calls - N <= resent, `calls ${calls}, resent ${resent}`);
  assert.ok(s.duplicates >= N / 8, `only ${s.duplicates} duplicates seen`);
  assert.equal(s.pendingRequests, 0);
  if (process.env.STORM_DEBUG) console.log({ calls, resent, maxDedup, stats: s });
});
