import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'crypto';
import { ContentType } from '../../src/dtls/constants';
import { encodePlainRecord, parseRecord, RecordView } from '../../src/dtls/record';
import type { HandshakeFailedEvent } from '../../src/dtls/server';
import { client, closeClient, closeServer, delay, drained, echoServer, exchange, nextEvent } from './helpers/dtls-fixtures';
import { LossyRelay } from './helpers/lossy-relay';
import { clientHello, cookieOf, RawPeer, startHandshake } from './helpers/raw-peer';

describe('refused and dropped input', () => {
  test('a replayed application record is delivered once (RFC 6347 4.1.2.6)', async (t) => {
    const server = await echoServer();
    t.after(() => closeServer(server));
    let captured: Buffer | undefined;
    const view = new RecordView();
    const relay = await LossyRelay.create({
      target: { address: '127.0.0.1', port: server.address().port },
      filter: (dir, msg) => {
        if (dir === 'toServer' && parseRecord(msg, 0, view) > 0 && view.type === ContentType.ApplicationData) captured = Buffer.from(msg);
        return true;
      },
    });
    t.after(() => relay.close());
    const c = await client(relay.port);
    t.after(() => closeClient(c));
    let delivered = 0;
    server.on('message', () => delivered++);
    await exchange(c, Buffer.from('once'), Buffer.from('dev1:once'), 10_000);
    assert.ok(captured);
    assert.equal(delivered, 1);
    const base = server.stats().datagramsReceived;
    for (let i = 0; i < 5; i++) relay.injectToServer(captured);
    await drained(() => server.stats(), base + 5);
    assert.equal(delivered, 1, 'replays are not delivered');
    assert.ok(server.stats().dropReasons['replayed record'] >= 5);
    // the session goes on
    await exchange(c, Buffer.from('twice'), Buffer.from('dev1:twice'));
  });

  test('plaintext alerts, handshake junk and garbage aimed at an established session change nothing', async (t) => {
    const server = await echoServer();
    t.after(() => closeServer(server));
    const relay = await LossyRelay.create({ target: { address: '127.0.0.1', port: server.address().port } });
    t.after(() => relay.close());
    const c = await client(relay.port);
    t.after(() => closeClient(c));
    const other = await client(server.address().port, { identity: 'dev2' });
    t.after(() => closeClient(other));
    const closedEvents: unknown[] = [];
    server.on('sessionClosed', (...a: unknown[]) => closedEvents.push(a));
    const base = server.stats().datagramsReceived;
    const junk = [
      encodePlainRecord(ContentType.Alert, 0xfefd, 0, 99, Buffer.from([2, 40])), // fatal handshake_failure, unauthenticated
      encodePlainRecord(ContentType.Alert, 0xfefd, 0, 100, Buffer.from([1, 0])), // close_notify, unauthenticated
      encodePlainRecord(ContentType.Alert, 0xfefd, 1, 100, Buffer.alloc(26)), // epoch 1 alert that does not authenticate
      encodePlainRecord(ContentType.ChangeCipherSpec, 0xfefd, 0, 101, Buffer.from([1])),
      encodePlainRecord(ContentType.Handshake, 0xfefd, 0, 102, Buffer.alloc(30, 0x10)),
      encodePlainRecord(ContentType.ApplicationData, 0xfefd, 0, 103, Buffer.from('plaintext data')),
      encodePlainRecord(ContentType.ApplicationData, 0xfefd, 1, 2 ** 48 - 1, Buffer.alloc(40)),
      encodePlainRecord(ContentType.ApplicationData, 0xfefd, 7, 1, Buffer.alloc(40)),
      Buffer.alloc(0),
      Buffer.alloc(12, 0x17),
      randomBytes(300),
    ];
    for (const j of junk) relay.injectToServer(j);
    await drained(() => server.stats(), base + junk.length);
    assert.deepEqual(closedEvents, []);
    assert.equal(server.stats().sessions, 2);
    await exchange(c, Buffer.from('still'), Buffer.from('dev1:still'));
    await exchange(other, Buffer.from('other'), Buffer.from('dev2:other'));
  });

  test('a ClientHello flood without cookies creates no state, only HelloVerifyRequests', async (t) => {
    const server = await echoServer();
    t.after(() => closeServer(server));
    const peer = await RawPeer.create(server.address().port);
    t.after(() => peer.close());
    const n = 3000;
    for (let i = 0; i < n; i++) {
      // half without cookie, half with a forged one
      await peer.send(clientHello({ cookie: i % 2 ? randomBytes(32) : undefined, recordSeq: i }));
      if (i % 50 === 49) await drained(() => server.stats(), i + 1); // pace: stay within the socket buffers
    }
    await drained(() => server.stats(), n);
    const st = server.stats();
    assert.equal(st.connections, 0);
    assert.equal(st.handshakes, 0);
    assert.equal(st.sessions, 0);
    assert.equal(st.handshakesStarted, 0);
    assert.equal(st.helloVerifyRequestsSent, st.datagramsReceived);
    // each answer is a HelloVerifyRequest, smaller than the ClientHello it answers (no amplification)
    const answer = await peer.next();
    assert.ok(cookieOf(answer));
    assert.ok(answer.length < clientHello().length);
  });

  test('caps: handshakes beyond maxHandshakes are refused after the cookie exchange', async (t) => {
    const server = await echoServer({ maxHandshakes: 1 });
    t.after(() => closeServer(server));
    const a = await RawPeer.create(server.address().port);
    t.after(() => a.close());
    const b = await RawPeer.create(server.address().port);
    t.after(() => b.close());
    await startHandshake(a); // a ServerHello flight: the server now holds a's handshake
    assert.equal(server.stats().handshakes, 1);
    const refused = nextEvent<[HandshakeFailedEvent]>(server, 'handshakeFailed');
    await b.send(clientHello({ random: Buffer.alloc(32, 1) }));
    const cookie = cookieOf(await b.next());
    await b.send(clientHello({ random: Buffer.alloc(32, 1), cookie, messageSeq: 1, recordSeq: 1 }));
    const [ev] = await refused;
    assert.equal(ev.reason, 'capacity');
    assert.equal(ev.port, b.port);
    assert.equal(server.stats().handshakes, 1);
    assert.equal(server.stats().refusedForCapacity, 1);
  });

  test('caps: no new handshake beyond maxSessions', async (t) => {
    const server = await echoServer({ maxSessions: 1 });
    t.after(() => closeServer(server));
    const c = await client(server.address().port);
    t.after(() => closeClient(c));
    const b = await RawPeer.create(server.address().port);
    t.after(() => b.close());
    const refused = nextEvent<[HandshakeFailedEvent]>(server, 'handshakeFailed');
    await b.send(clientHello({ random: Buffer.alloc(32, 2) }));
    const cookie = cookieOf(await b.next());
    await b.send(clientHello({ random: Buffer.alloc(32, 2), cookie, messageSeq: 1, recordSeq: 1 }));
    assert.equal((await refused)[0].reason, 'capacity');
    assert.equal(server.stats().connections, 1);
    await exchange(c, Buffer.from('unaffected'), Buffer.from('dev1:unaffected'));
  });

  test('an abandoned handshake times out and frees its slot', async (t) => {
    const server = await echoServer({ handshakeTimeoutMs: 300 });
    t.after(() => closeServer(server));
    const a = await RawPeer.create(server.address().port);
    t.after(() => a.close());
    const failed = nextEvent<[HandshakeFailedEvent]>(server, 'handshakeFailed');
    await startHandshake(a);
    assert.equal((await failed)[0].reason, 'timeout');
    assert.equal(server.stats().connections, 0);
  });

  test('a client that cannot do DTLS 1.2, or sends a non-empty renegotiation_info, is refused with an alert', async (t) => {
    const server = await echoServer();
    t.after(() => closeServer(server));
    const old = await RawPeer.create(server.address().port);
    t.after(() => old.close());
    const failed = nextEvent<[HandshakeFailedEvent]>(server, 'handshakeFailed');
    const answer = await startHandshake(old, { version: 0xfeff });
    assert.deepEqual([answer[0], answer.subarray(13)], [ContentType.Alert, Buffer.from([2, 70])]);
    assert.equal((await failed)[0].reason, 'protocol');
    const reneg = await RawPeer.create(server.address().port);
    t.after(() => reneg.close());
    const answer2 = await startHandshake(reneg, { extensions: [{ type: 0xff01, data: Buffer.from([1, 0]) }] });
    assert.deepEqual(answer2.subarray(13), Buffer.from([2, 40]));
    assert.equal(server.stats().connections, 0);
  });
});
