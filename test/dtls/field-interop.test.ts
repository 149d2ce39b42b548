/**
 * Field interop and robustness of the DTLS server (issue 11): record versions of constrained stacks (mbedTLS 2.x,
 * tinydtls), a wrong PSK failing fast with an alert, half-open handshakes bounded per source address, drop statistics
 * bounded by reason, and our client binding its coaps:// socket where it is told to.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import { randomBytes } from 'crypto';
import { ContentType, HandshakeType } from '../../src/dtls/constants';
import { DtlsHandshakeError } from '../../src/dtls/errors';
import { decodeHelloVerifyRequest, parseHandshakeFragments } from '../../src/dtls/handshake-messages';
import { MemoryPskStore } from '../../src/dtls/psk-store';
import { encodePlainRecord, parseRecord, RecordView } from '../../src/dtls/record';
import { addressBucket, createDtlsServer, DtlsSessionInfo, HandshakeFailedEvent } from '../../src/dtls/server';
import { Lwm2mClient } from '../../src/client';
import { client, closeClient, closeServer, delay, drained, echoServer, exchange, KEY, nextEvent } from './helpers/dtls-fixtures';
import { LossyRelay } from './helpers/lossy-relay';
import { clientHello, cookieOf, RawPeer, startHandshake } from './helpers/raw-peer';

/**
 * Completes the cookie exchange from `count` source ports of `address` (in batches of sockets, closed after use), and
 * never answers the ServerHello flight: each leaves a half-open handshake if the server takes it. Returns how many
 * cookie exchanges went through.
 */
async function halfOpenFlood(serverPort: number, address: string, count: number, batch = 50): Promise<number> {
  let exchanged = 0;
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    const peers = await Promise.all(Array.from({ length: n }, () => RawPeer.create(serverPort, address)));
    await Promise.all(peers.map(async (p) => {
      const random = randomBytes(32);
      await p.send(clientHello({ random }));
      let cookie: Buffer | undefined;
      try {
        cookie = cookieOf(await p.next(3000));
      } catch {
        return; // lost on loopback under load: that port is simply not part of the flood
      }
      if (cookie === undefined) return;
      await p.send(clientHello({ random, cookie, messageSeq: 1, recordSeq: 1 }));
      exchanged++;
    }));
    await Promise.all(peers.map((p) => p.close()));
  }
  return exchanged;
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

describe('record versions of constrained stacks', () => {
  test('a ClientHello in a 0xFE00 record (mbedTLS 2.x) gets a HelloVerifyRequest; other records of that version are dropped, counted', async (t) => {
    const server = await echoServer();
    t.after(() => closeServer(server));
    const peer = await RawPeer.create(server.address().port);
    t.after(() => peer.close());
    await peer.send(clientHello({ recordVersion: 0xfe00 }));
    assert.ok(cookieOf(await peer.next()), 'a HelloVerifyRequest answers the 0xFE00 ClientHello');
    // the exception is the initial ClientHello only (RFC 5246 E.1 analogue): anything else of that version is dropped
    await peer.send(encodePlainRecord(ContentType.Alert, 0xfe00, 0, 5, Buffer.from([2, 40])));
    await peer.send(encodePlainRecord(ContentType.ApplicationData, 0xfe00, 1, 5, Buffer.alloc(40)));
    await peer.send(clientHello({ recordVersion: 0x0303 })); // a TLS record is no DTLS record
    await drained(() => server.stats(), 4, 10_000, 40);
    const st = server.stats();
    assert.equal(st.dropReasons['unsupported record version'], 2);
    assert.equal(st.dropReasons['malformed record'], 1);
    assert.equal(st.helloVerifyRequestsSent, 1);
  });

  test('a handshake whose ClientHellos come in 0xFE00 records completes with the real PSK, negotiated from client_version', async (t) => {
    const server = await echoServer();
    t.after(() => closeServer(server));
    const view = new RecordView();
    let rewritten = 0;
    // the relay rewrites the record version of every ClientHello our client sends, as mbedTLS 2.x writes it
    const relay = await LossyRelay.create({
      target: { address: '127.0.0.1', port: server.address().port },
      filter: (dir, msg) => {
        if (dir === 'toServer' && parseRecord(msg, 0, view) > 0 && view.epoch === 0 && view.type === ContentType.Handshake
          && msg[view.start] === HandshakeType.ClientHello) {
          msg.writeUInt16BE(0xfe00, 1);
          rewritten++;
        }
        return true;
      },
    });
    t.after(() => relay.close());
    const session = nextEvent<[DtlsSessionInfo]>(server, 'session');
    const c = await client(relay.port, { handshakeTimeoutMs: 5000 });
    t.after(() => closeClient(c));
    assert.ok(rewritten >= 2, 'both ClientHellos (without and with the cookie) went in 0xFE00 records');
    assert.equal((await session)[0].identity, 'dev1');
    await exchange(c, Buffer.from('fe00'), Buffer.from('dev1:fe00'));
  });

  test('the HelloVerifyRequest is a DTLS 1.2 record whose body says server_version DTLS 1.0 (RFC 6347 4.2.1)', async (t) => {
    const server = await echoServer();
    t.after(() => closeServer(server));
    const peer = await RawPeer.create(server.address().port);
    t.after(() => peer.close());
    for (const recordVersion of [0xfefd, 0xfeff, 0xfe00]) {
      await peer.send(clientHello({ recordVersion }));
      const answer = await peer.next();
      const v = new RecordView();
      assert.ok(parseRecord(answer, 0, v) > 0);
      assert.equal(v.version, 0xfefd, `record version of the answer to a 0x${recordVersion.toString(16)} ClientHello`);
      const [f] = parseHandshakeFragments(answer.subarray(v.start, v.end));
      assert.equal(f.msgType, HandshakeType.HelloVerifyRequest);
      assert.equal(decodeHelloVerifyRequest(f.body).serverVersion, 0xfeff);
    }
  });
});

describe('a wrong PSK fails fast', () => {
  test('the client gets a fatal decrypt_error at once (no retransmission needed), the server reports bad_key', async (t) => {
    // Neither side retransmits before the client's deadline (a device that sends its flight 5 once, and a server
    // flight 4 that is not resent to provoke it again): only an alert from the server can end the handshake other than
    // by a timeout.
    const server = await echoServer({ retransmitInitialMs: 10_000 });
    t.after(() => closeServer(server));
    const failed = nextEvent<[HandshakeFailedEvent]>(server, 'handshakeFailed', 15_000);
    await assert.rejects(client(server.address().port, { key: Buffer.alloc(16, 9), retransmitInitialMs: 10_000, handshakeTimeoutMs: 10_000 }),
      (err: DtlsHandshakeError) => {
        assert.ok(err instanceof DtlsHandshakeError);
        assert.equal(err.reason, 'bad_key', err.message);
        assert.equal(err.alert, 51);
        return true;
      });
    const [ev] = await failed;
    assert.equal(ev.reason, 'bad_key');
    assert.equal(ev.alert, 51);
    assert.equal(ev.identity, 'dev1');
    assert.match(ev.error.message, /wrong PSK/);
    assert.equal(server.stats().connections, 0);
  });
});

describe('half-open handshakes', () => {
  test('one address with a valid cookie on thousands of ports holds at most maxHandshakesPerAddress; other clients connect', async (t) => {
    // maxHandshakes lowered so that the flood would fill the table (the default per-address bound, 100, applies)
    const server = await echoServer({ maxHandshakes: 2000 });
    t.after(() => closeServer(server));
    const ports = 2400;
    const exchanged = await halfOpenFlood(server.address().port, '127.0.0.2', ports);
    await drained(() => server.stats(), ports + exchanged, 10_000, 40);
    const st = server.stats();
    assert.ok(exchanged > 2000, `cookie exchanges completed: ${exchanged}`);
    assert.equal(st.handshakes, 100);
    assert.equal(st.handshakeAddresses, 1);
    assert.equal(st.refusedPerAddress, st.refusedForCapacity);
    // every cookie exchange started a handshake or was refused (ports the kernel handed out again replaced theirs)
    assert.equal(st.handshakesStarted + st.refusedPerAddress, exchanged, JSON.stringify(st));
    assert.ok(st.refusedPerAddress > 2000, JSON.stringify(st));
    // a legitimate client (127.0.0.1) is served while 127.0.0.2 holds its handshakes
    const c = await client(server.address().port, { handshakeTimeoutMs: 5000 });
    t.after(() => closeClient(c));
    await exchange(c, Buffer.from('during the flood'), Buffer.from('dev1:during the flood'));
    assert.equal(server.stats().sessions, 1);
  });

  test('a half-open handshake is reclaimed after halfOpenTimeoutMs, well before handshakeTimeoutMs', async (t) => {
    const server = await echoServer({ halfOpenTimeoutMs: 300, handshakeTimeoutMs: 60_000, maxHandshakesPerAddress: 1 });
    t.after(() => closeServer(server));
    const a = await RawPeer.create(server.address().port);
    t.after(() => a.close());
    const failed = nextEvent<[HandshakeFailedEvent]>(server, 'handshakeFailed', 10_000);
    await startHandshake(a);
    assert.equal(server.stats().handshakes, 1);
    const [ev] = await failed;
    assert.equal(ev.reason, 'timeout');
    assert.equal(ev.port, a.port);
    assert.equal(server.stats().handshakes, 0);
    assert.equal(server.stats().handshakeAddresses, 0);
    // the address's slot is free again: a real client from it completes
    const c = await client(server.address().port);
    t.after(() => closeClient(c));
    await exchange(c, Buffer.from('after'), Buffer.from('dev1:after'));
  });

  test('a client that reconnects from the same port is not refused by its own previous half-open handshake', async (t) => {
    const server = await echoServer({ maxHandshakesPerAddress: 1 });
    t.after(() => closeServer(server));
    const a = await RawPeer.create(server.address().port);
    t.after(() => a.close());
    await startHandshake(a);
    const other = await RawPeer.create(server.address().port);
    t.after(() => other.close());
    const refused = nextEvent<[HandshakeFailedEvent]>(server, 'handshakeFailed');
    const random = randomBytes(32);
    await other.send(clientHello({ random }));
    await other.send(clientHello({ random, cookie: cookieOf(await other.next()), messageSeq: 1, recordSeq: 1 }));
    const [ev] = await refused;
    assert.deepEqual([ev.reason, ev.port], ['capacity', other.port]);
    // a new ClientHello (new random) from a's port replaces a's handshake (RFC 6347 4.2.8) instead of being refused
    a.discard = true; // the server's retransmissions of a's first ServerHello flight
    a.received.length = 0;
    const answer = await startHandshake(a);
    assert.equal(answer[0], ContentType.Handshake);
    assert.equal(server.stats().handshakes, 1);
    assert.equal(server.stats().refusedPerAddress, 1);
  });

  test('limits are checked options', () => {
    for (const bad of [0, -1, Number.NaN]) {
      assert.throws(() => createDtlsServer({ port: 0, pskStore: new MemoryPskStore(), maxHandshakesPerAddress: bad }), /maxHandshakesPerAddress/);
      assert.throws(() => createDtlsServer({ port: 0, pskStore: new MemoryPskStore(), halfOpenTimeoutMs: bad }), /halfOpenTimeoutMs/);
    }
  });

  test('IPv6 peers count by /64 prefix, IPv4-mapped ones as IPv4', () => {
    assert.equal(addressBucket('192.0.2.7', 'IPv4'), '192.0.2.7');
    assert.equal(addressBucket('2001:db8:1:2:aaaa::1', 'IPv6'), '2001:db8:1:2::/64');
    assert.equal(addressBucket('2001:DB8:1:2:bbbb:cccc:dddd:eeee', 'IPv6'), '2001:db8:1:2::/64');
    assert.equal(addressBucket('2001:db8::1', 'IPv6'), '2001:db8:0:0::/64');
    assert.equal(addressBucket('2001:0db8:0000:0000:1::', 'IPv6'), '2001:db8:0:0::/64');
    assert.equal(addressBucket('fe80::1%eth0', 'IPv6'), 'fe80:0:0:0::/64');
    assert.equal(addressBucket('::1', 'IPv6'), '0:0:0:0::/64');
    assert.equal(addressBucket('::ffff:192.0.2.7', 'IPv6'), '192.0.2.7');
  });
});

describe('drop statistics', () => {
  test('stay bounded: records of a thousand junk epochs make one counter', async (t) => {
    const server = await echoServer();
    t.after(() => closeServer(server));
    const peer = await RawPeer.create(server.address().port);
    t.after(() => peer.close());
    await startHandshake(peer); // the server now holds a connection for this peer
    const base = server.stats().datagramsReceived;
    const epochs = 1000;
    for (let first = 2; first < 2 + epochs; first += 250) {
      // 250 records per datagram
      const records: Buffer[] = [];
      for (let e = first; e < first + 250; e++) records.push(encodePlainRecord(ContentType.ApplicationData, 0xfefd, e, 1, Buffer.alloc(1)));
      await peer.send(Buffer.concat(records));
    }
    await drained(() => server.stats(), base + epochs / 250, 10_000, 40);
    const reasons = server.stats().dropReasons;
    assert.equal(reasons['record of an unknown epoch'], epochs);
    assert.ok(Object.keys(reasons).length <= 3, JSON.stringify(Object.keys(reasons)));
  });
});

describe('our client over coaps://', () => {
  test('binds its secure socket to localAddress / localPort', async (t) => {
    const server = createDtlsServer({ address: '127.0.0.1', port: 0, pskStore: new MemoryPskStore({ dev1: KEY }) });
    await server.whenListening();
    t.after(() => closeServer(server));
    const localPort = await freeUdpPort();
    const session = nextEvent<[DtlsSessionInfo]>(server, 'session');
    const c = new Lwm2mClient({ endpoint: 'bound-dev', serverUri: `coaps://127.0.0.1:${server.address().port}`, identity: 'dev1',
      key: KEY.toString('hex'), localAddress: '127.0.0.1', localPort, retryInitialMs: 60_000 });
    c.on('error', () => undefined); // nothing LwM2M answers behind this DTLS server
    t.after(() => c.stop());
    await c.start();
    const [info] = await session;
    assert.deepEqual([info.address, info.port], ['127.0.0.1', localPort]);
  });
});
