/**
 * Responses and notifications match by token and by source endpoint (RFC 7252 5.3.2, RFC 7641 3.2): our token from
 * another address or port completes nothing, is delivered nowhere, is not offered to the notification handler, and
 * gets no answer (neither ACK nor RST).
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createUdpEndpoint, UdpCoapEndpoint } from '../../src/coap/endpoint';
import { ReceivedResponse } from '../../src/coap/types';
import { createRawPeer, RawPeer } from '../helpers/raw-coap';
import { ParsedPacket } from 'coap-packet';

const opened: { close(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(opened.map((o) => o.close()));
});

async function endpoint(): Promise<UdpCoapEndpoint> {
  const ep = await createUdpEndpoint({ address: '127.0.0.1', ackTimeoutMs: 1000 });
  opened.push(ep);
  return ep;
}

async function raw(): Promise<RawPeer> {
  const r = await createRawPeer();
  opened.push(r);
  return r;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('response matching by source endpoint (RFC 7252 5.3.2)', () => {
  test('a response with the right token from another port does not complete the request; the device\'s does', async () => {
    const ep = await endpoint();
    const dev = await raw();
    const other = await raw();
    const offered: string[] = [];
    ep.setNotificationHandler((token) => {
      offered.push(token.toString('hex'));
      return true;
    });
    let req: ParsedPacket | undefined;
    dev.onPacket = (p) => {
      if (p.code === '0.01') req = p;
    };
    const pending = ep.request({ address: '127.0.0.1', port: dev.port }, { method: 'GET', path: '/3/0/0' });
    await until(() => req !== undefined);
    const port = ep.address().port;
    // From another port: a piggybacked answer with the request's message id and token, and a separate CON response.
    other.send({ ack: true, messageId: req!.messageId, token: req!.token, code: '2.05', payload: Buffer.from('forged') }, port);
    other.send({ confirmable: true, messageId: 7, token: req!.token, code: '2.05', payload: Buffer.from('forged') }, port);
    other.send({ confirmable: false, messageId: 8, token: req!.token, code: '2.05', payload: Buffer.from('forged') }, port);
    await other.quiet(100);
    assert.equal(ep.stats().pendingRequests, 1, 'still waiting for the device');
    assert.equal(other.received.length, 0, 'no ACK, no RST to the other port');
    assert.deepEqual(offered, [], 'not offered to the notification handler');
    dev.send({ ack: true, messageId: req!.messageId, token: req!.token, code: '2.05', payload: Buffer.from('real') }, port);
    assert.equal((await pending).payload.toString(), 'real');
    assert.equal(ep.stats().wrongSource, 2);
  });

  test('a notification with a live observation\'s token from another port is ignored; rebindToken moves the observation', async () => {
    const ep = await endpoint();
    const dev = await raw();
    const other = await raw();
    const offered: string[] = [];
    ep.setNotificationHandler((token) => {
      offered.push(token.toString('hex'));
      return true;
    });
    dev.onPacket = (p, rinfo) => {
      if (p.code === '0.01') {
        dev.send({ ack: true, messageId: p.messageId, token: p.token, code: '2.05', payload: Buffer.from('v0'), options: [{ name: 'Observe', value: Buffer.from([1]) }] }, rinfo.port);
      }
    };
    const notes: ReceivedResponse[] = [];
    const first = await ep.request({ address: '127.0.0.1', port: dev.port }, { method: 'GET', path: '/3/0/9', observe: 0 }, { onNotification: (r) => notes.push(r) });
    const token = first.token;
    const port = ep.address().port;
    const note = (from: RawPeer, seq: number, text: string, mid: number) =>
      from.send({ confirmable: true, messageId: mid, token, code: '2.05', payload: Buffer.from(text), options: [{ name: 'Observe', value: Buffer.from([seq]) }] }, port);
    note(other, 2, 'forged', 20);
    await other.quiet(100);
    assert.equal(notes.length, 0);
    assert.equal(other.received.length, 0);
    assert.deepEqual(offered, []);
    note(dev, 3, 'v1', 21);
    await until(() => notes.length === 1);
    assert.equal(notes[0].payload.toString(), 'v1');
    assert.ok((await dev.waitFor((p) => p.messageId === 21)).ack);

    // The observation moves to the other port (the device's new address): the same message, retransmitted, now counts.
    assert.equal(ep.rebindToken(token, { address: '127.0.0.1', port: other.port }), true);
    note(other, 4, 'moved', 20);
    await until(() => notes.length === 2);
    assert.equal(notes[1].payload.toString(), 'moved');
    assert.ok((await other.waitFor((p) => p.messageId === 20)).ack);
    note(dev, 5, 'old', 22);
    await dev.quiet(100);
    assert.equal(notes.length, 2);
    assert.equal(ep.rebindToken(Buffer.from('nope'), { address: '127.0.0.1', port: 1 }), false);
  });
});
