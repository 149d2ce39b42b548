/**
 * The raw test device itself: two exchanges that share a message id and token (a deliberate retransmission) each get
 * the answer. Before, the second exchange replaced the first one's waiter, so on a loaded machine (answer later than the
 * retransmission) the first exchange timed out and the registration test that retransmits a Register failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import { generate, parse } from 'coap-packet';
import { RawDevice } from './raw-device';

test('two exchanges with the same message id and token are both answered, even when the answer comes after both', async () => {
  const peer = dgram.createSocket('udp4');
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
  const seen: Array<{ port: number; mid: number; token: Buffer }> = [];
  peer.on('message', (msg, rinfo) => {
    const p = parse(msg);
    seen.push({ port: rinfo.port, mid: p.messageId, token: p.token });
    if (seen.length < 2) return; // answer only once both copies arrived: the order a slow server produces
    const ack = generate({ code: '2.01', messageId: p.messageId, token: p.token, ack: true, options: [{ name: 'Location-Path', value: Buffer.from('rd') }, { name: 'Location-Path', value: Buffer.from('x1') }] });
    peer.send(ack, rinfo.port, rinfo.address); // a server's dedup cache answers each copy with the same ACK
    peer.send(ack, rinfo.port, rinfo.address);
  });
  const d = await RawDevice.create({ endpoint: 'dup', serverPort: (peer.address()).port });
  try {
    const mid = d.nextMid();
    const token = Buffer.from('a1b2c3d4', 'hex');
    const buf = d.buildRegister(['ep=dup'], mid, token);
    const [r1, r2] = await Promise.all([d.exchange(buf, mid, token, 2000), d.exchange(buf, mid, token, 2000)]);
    assert.equal(seen.length, 2);
    assert.equal(seen[0].mid, seen[1].mid);
    assert.equal(r1.code, '2.01');
    assert.equal(r2.code, '2.01');
    assert.deepEqual(r1.locationPath, ['rd', 'x1']);
    assert.deepEqual(r2.locationPath, ['rd', 'x1']);
  } finally {
    await d.close();
    peer.close();
  }
});

test('an exchange that gets no answer still times out on its own, and leaves no waiter behind for later exchanges', async () => {
  const peer = dgram.createSocket('udp4');
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
  let answer = false;
  peer.on('message', (msg, rinfo) => {
    const p = parse(msg);
    if (answer) peer.send(generate({ code: '2.05', messageId: p.messageId, token: p.token, ack: true, payload: Buffer.from('ok') }), rinfo.port, rinfo.address);
  });
  const d = await RawDevice.create({ endpoint: 'quiet', serverPort: peer.address().port });
  try {
    await assert.rejects(d.request('GET', ['x'], { timeoutMs: 200 }), /no answer to message/);
    answer = true;
    const r = await d.request('GET', ['x'], { timeoutMs: 2000 });
    assert.equal(r.payload.toString(), 'ok');
  } finally {
    await d.close();
    peer.close();
  }
});
