/**
 * RFC 7641 3.6 / 4.5: an observer that is no longer interested rejects a notification with RST, a non-confirmable one
 * included ("the client MAY reject it with RST, and the server MUST then remove the observer"). The endpoint remembers
 * the message ids of the NON notifications it sent (bounded, NON_LIFETIME) and reports a matching RST.
 * Over real UDP on loopback, against a raw dgram peer (coap-packet, independent of our codec).
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createUdpEndpoint, UdpCoapEndpoint, CreateUdpEndpointOptions } from '../../src/coap/endpoint';
import { ObserverGone, Peer } from '../../src/coap/types';
import { CancelledError } from '../../src/errors';
import { EndpointStateError } from '../../src/coap/errors';
import { createRawPeer, option, RawPeer, uint } from '../helpers/raw-coap';

const opened: { close(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(opened.map((o) => o.close()));
});

async function endpoint(opts: CreateUdpEndpointOptions = {}): Promise<UdpCoapEndpoint> {
  const ep = await createUdpEndpoint({ address: '127.0.0.1', ackTimeoutMs: 50, ...opts });
  opened.push(ep);
  return ep;
}

async function raw(): Promise<RawPeer> {
  const r = await createRawPeer();
  opened.push(r);
  return r;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

/** An endpoint that records the observers reported gone, and a raw observer peer. */
async function setup(opts: CreateUdpEndpointOptions = {}) {
  const device = await endpoint(opts);
  const observer = await raw();
  const gone: ObserverGone[] = [];
  device.setObserverGoneHandler((g) => gone.push(g));
  const peer: Peer = { address: '127.0.0.1', port: observer.port };
  const devicePort = device.address().port;
  /** Sends a NON notification and returns its message id as the observer received it. */
  const nonNotify = async (token: Buffer, seq: number): Promise<number> => {
    await device.notify(peer, token, { code: '2.05', observe: seq, payload: Buffer.from('v' + seq) }, false);
    const p = await observer.waitFor((x) => x.token.equals(token) && uint(option(x, 'Observe')) === seq);
    assert.equal(p.confirmable, false, 'a NON notification');
    return p.messageId;
  };
  const rst = (messageId: number, from: RawPeer = observer) => from.send({ reset: true, messageId, code: '0.00' }, devicePort);
  return { device, observer, gone, peer, nonNotify, rst };
}

describe('observer gone: RST to a notification (RFC 7641 3.6)', () => {
  test('a RST to a NON notification reports the peer and the token', async () => {
    const { device, observer, gone, nonNotify, rst } = await setup();
    const tokenA = Buffer.from('a1a2a3a4', 'hex');
    const tokenB = Buffer.from('b1b2', 'hex');
    const midA = await nonNotify(tokenA, 5);
    const midB = await nonNotify(tokenB, 6);
    assert.equal(device.stats().nonNotifications, 2);
    rst(midB);
    await until(() => gone.length === 1);
    assert.ok(gone[0].token.equals(tokenB), `token ${gone[0].token.toString('hex')}`);
    assert.equal(gone[0].peer.port, observer.port);
    assert.equal(gone[0].peer.address, '127.0.0.1');
    assert.equal(gone[0].confirmable, false);
    const s = device.stats();
    assert.equal(s.observersGone, 1);
    assert.equal(s.nonNotifications, 1, 'the matched entry is forgotten');
    // The same RST again (duplicated by the network) matches nothing any more.
    rst(midB);
    await until(() => device.stats().unmatched === 1);
    assert.equal(gone.length, 1);
    rst(midA);
    await until(() => gone.length === 2);
    assert.ok(gone[1].token.equals(tokenA));
  });

  test('an unrelated RST (other message id, or the right id from another peer) reports nothing', async () => {
    const { device, gone, nonNotify, rst } = await setup();
    const token = Buffer.from('0102030405060708', 'hex');
    const mid = await nonNotify(token, 1);
    rst((mid + 1) & 0xffff);
    rst((mid + 1000) & 0xffff);
    const stranger = await raw();
    rst(mid, stranger); // right message id, wrong source port
    await until(() => device.stats().unmatched === 3);
    assert.equal(gone.length, 0);
    assert.equal(device.stats().observersGone, 0);
    assert.equal(device.stats().nonNotifications, 1, 'still waiting for a RST from the real observer');
    rst(mid);
    await until(() => gone.length === 1);
    assert.ok(gone[0].token.equals(token));
  });

  test('a RST to a CON notification still rejects notify with CancelledError, and is reported too', async () => {
    const { device, observer, gone, peer } = await setup();
    observer.onPacket = (p, rinfo) => {
      if (p.confirmable) observer.send({ reset: true, messageId: p.messageId, code: '0.00' }, rinfo.port);
    };
    const token = Buffer.from('c0ffee', 'hex');
    await assert.rejects(device.notify(peer, token, { code: '2.05', observe: 3, payload: Buffer.from('x') }, true), CancelledError);
    assert.equal(gone.length, 1);
    assert.ok(gone[0].token.equals(token));
    assert.equal(gone[0].confirmable, true);
    const s = device.stats();
    assert.deepEqual([s.awaitingAck, s.nonNotifications, s.observersGone], [0, 0, 1]);
  });

  test('an ACK to a NON notification is not a rejection', async () => {
    const { device, observer, gone, nonNotify } = await setup();
    const mid = await nonNotify(Buffer.from('aa', 'hex'), 2);
    observer.send({ ack: true, messageId: mid, code: '0.00' }, device.address().port);
    await until(() => device.stats().unmatched === 1);
    assert.equal(gone.length, 0);
    assert.equal(device.stats().nonNotifications, 1);
  });

  test('memory stays bounded: capacity evicts the oldest, NON_LIFETIME expires the rest', async () => {
    const { device, gone, nonNotify, rst } = await setup({ nonNotificationCapacity: 8, nonLifetimeMs: 300 });
    const token = Buffer.from('77', 'hex');
    const mids: number[] = [];
    for (let i = 1; i <= 40; i++) {
      mids.push(await nonNotify(token, i));
      assert.ok(device.stats().nonNotifications <= 8, `at most 8 remembered (${device.stats().nonNotifications})`);
    }
    assert.equal(device.stats().nonNotifications, 8);
    rst(mids[0]); // evicted long ago: no longer known
    await until(() => device.stats().unmatched === 1);
    assert.equal(gone.length, 0);
    rst(mids[39]); // among the newest
    await until(() => gone.length === 1);
    // After NON_LIFETIME everything is forgotten (swept by the housekeeping timer, which then stops).
    await until(() => device.stats().nonNotifications === 0 && device.stats().timers === 0, 10_000);
    rst(mids[38]);
    await until(() => device.stats().unmatched === 2);
    assert.equal(gone.length, 1);
  });

  test('without a handler the RST is only counted; a throwing handler is counted, never propagated', async () => {
    const { device, nonNotify, rst } = await setup();
    device.setObserverGoneHandler(null);
    const token = Buffer.from('dd', 'hex');
    rst(await nonNotify(token, 1));
    await until(() => device.stats().observersGone === 1);
    device.setObserverGoneHandler(() => {
      throw new Error('boom');
    });
    rst(await nonNotify(token, 2));
    await until(() => device.stats().observersGone === 2);
    assert.equal(device.stats().handlerErrors, 1);
    assert.equal(device.stats().internalErrors, 0);
    // The endpoint still works.
    const mid = await nonNotify(token, 3);
    assert.equal(typeof mid, 'number');
  });

  test('close() forgets the remembered notifications; bad options are typed errors', async () => {
    const { device, nonNotify } = await setup();
    await nonNotify(Buffer.from('ee', 'hex'), 1);
    assert.equal(device.stats().nonNotifications, 1);
    await device.close();
    assert.equal(device.stats().nonNotifications, 0);
    await assert.rejects(createUdpEndpoint({ address: '127.0.0.1', nonLifetimeMs: 0 }), EndpointStateError);
    await assert.rejects(createUdpEndpoint({ address: '127.0.0.1', nonNotificationCapacity: 0 }), EndpointStateError);
  });
});
