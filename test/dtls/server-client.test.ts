import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'events';
import { DtlsConfigError, DtlsError, DtlsHandshakeError, DtlsNoSessionError } from '../../src/dtls/errors';
import { MemoryPskStore } from '../../src/dtls/psk-store';
import { parseRecord, RecordView } from '../../src/dtls/record';
import { createDtlsServer, DtlsSessionInfo, HandshakeFailedEvent } from '../../src/dtls/server';
import { client, closeClient, closeServer, echoServer, exchange, KEY, nextEvent } from './helpers/dtls-fixtures';
import { LossyRelay } from './helpers/lossy-relay';

describe('our DTLS client against our DTLS server', () => {
  for (const suite of ['TLS_PSK_WITH_AES_128_CCM_8', 'TLS_PSK_WITH_AES_128_CBC_SHA256']) {
    test(`handshake and data both ways with ${suite}`, async (t) => {
      const server = await echoServer();
      t.after(() => closeServer(server));
      const sessions: DtlsSessionInfo[] = [];
      server.on('session', (s: DtlsSessionInfo) => sessions.push(s));
      const c = await client(server.address().port, { cipherSuites: [suite] });
      t.after(() => closeClient(c));
      assert.equal(c.cipherSuite, suite);
      assert.equal(c.extendedMasterSecret, true);
      const [msg, rinfo] = await Promise.all([
        nextEvent<[Buffer, { identity: string; port: number; address: string }]>(server, 'message'),
        exchange(c, Buffer.from('hello'), Buffer.from('dev1:hello')),
      ]).then(([m]) => m);
      assert.deepEqual(msg, Buffer.from('hello'));
      assert.equal(rinfo.identity, 'dev1');
      assert.equal(rinfo.port, c.address().port);
      assert.equal(sessions.length, 1);
      assert.deepEqual(sessions[0], { address: '127.0.0.1', port: c.address().port, family: 'IPv4', identity: 'dev1', cipherSuite: suite,
        extendedMasterSecret: true });
      const st = server.stats();
      assert.equal(st.sessions, 1);
      assert.equal(st.handshakes, 0);
      assert.ok(st.helloVerifyRequestsSent >= 1, 'the cookie exchange ran');
      // application data larger than a record can carry is refused with an error, not sent
      const big = await new Promise<Error | null>((resolve) => c.send(Buffer.alloc(16385), 0, '', resolve));
      assert.ok(big instanceof DtlsError && big.code === 'DTLS_RECORD_TOO_LARGE', String(big));
      await closeClient(c);
      await closeServer(server);
    });
  }

  test('the server picks by its own preference; a client offering nothing in common is refused', async (t) => {
    const server = await echoServer({ cipherSuites: ['TLS_PSK_WITH_AES_128_CBC_SHA256', 'TLS_PSK_WITH_AES_128_CCM_8'] });
    t.after(() => closeServer(server));
    const c = await client(server.address().port, { cipherSuites: ['TLS_PSK_WITH_AES_128_CCM_8', 'TLS_PSK_WITH_AES_128_CBC_SHA256'] });
    t.after(() => closeClient(c));
    assert.equal(c.cipherSuite, 'TLS_PSK_WITH_AES_128_CBC_SHA256');
    await closeClient(c);
    await closeServer(server);

    const ccmOnly = await echoServer({ cipherSuites: ['PSK-AES128-CCM8'] });

    t.after(() => closeServer(ccmOnly));
    const failed = nextEvent<[HandshakeFailedEvent]>(ccmOnly, 'handshakeFailed');
    await assert.rejects(client(ccmOnly.address().port, { cipherSuites: ['TLS_PSK_WITH_AES_128_CBC_SHA256'] }),
      (err: DtlsHandshakeError) => err.reason === 'alert' && err.alert === 40);
    assert.equal((await failed)[0].reason, 'no_shared_cipher');
    await closeServer(ccmOnly);
  });

  test('many concurrent sessions each get their own answers and identity', async (t) => {
    const store = new MemoryPskStore();
    for (let i = 0; i < 20; i++) store.set(`dev${i}`, Buffer.alloc(16, i + 1));
    const server = await echoServer({}, store);
    t.after(() => closeServer(server));
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      client(server.address().port, { identity: `dev${i}`, key: Buffer.alloc(16, i + 1) })));
    t.after(() => Promise.all(clients.map(closeClient)));
    await Promise.all(clients.map((c, i) => exchange(c, Buffer.from(`n${i}`), Buffer.from(`dev${i}:n${i}`))));
    assert.equal(server.stats().sessions, 20);
    await Promise.all(clients.map(closeClient));
    await closeServer(server);
  });

  test('a tiny MTU fragments handshake messages, which are reassembled on both sides', async (t) => {
    const longId = 'urn:imei:' + '0123456789'.repeat(8);
    const server = await echoServer({ mtu: 64 }, new MemoryPskStore({ [longId]: KEY }));
    t.after(() => closeServer(server));
    let fragments = 0;
    const view = new RecordView();
    const countFragments = (_dir: string, msg: Buffer): boolean => {
      for (let off = 0; off < msg.length;) {
        const next = parseRecord(msg, off, view);
        if (next < 0) break;
        // epoch-0 handshake records: fragment_length < length means a fragment (RFC 6347 4.2.3)
        if (view.epoch === 0 && view.type === 22 && view.end - view.start >= 12 &&
          msg.readUIntBE(view.start + 9, 3) < msg.readUIntBE(view.start + 1, 3)) fragments++;
        off = next;
      }
      return true;
    };
    const relay = await LossyRelay.create({ target: { address: '127.0.0.1', port: server.address().port }, filter: countFragments });
    t.after(() => relay.close());
    const c = await client(relay.port, { mtu: 64, identity: longId });
    t.after(() => closeClient(c));
    await exchange(c, Buffer.from('x'), Buffer.from(`${longId}:x`));
    // ServerHello (server -> client) and ClientKeyExchange with its long identity (client -> server) are fragmented;
    // the ClientHello is not (a server answers it statelessly and cannot reassemble it)
    assert.ok(fragments >= 4, `expected fragmented handshake messages, saw ${fragments} fragments`);
    await closeClient(c);
    await relay.close();
    await closeServer(server);
  });

  test('every flight lost once: retransmissions (timer and peer-triggered) complete the handshake', async (t) => {
    const server = await echoServer();
    t.after(() => closeServer(server));
    const view = new RecordView();
    const kinds = (msg: Buffer): string[] => {
      const out: string[] = [];
      for (let off = 0; off < msg.length;) {
        const next = parseRecord(msg, off, view);
        if (next < 0) break;
        out.push(view.epoch === 0 && view.type === 22 ? `hs${msg[view.start]}` : `${view.type}/${view.epoch}`);
        off = next;
      }
      return out;
    };
    const seen = new Set<string>();
    const lostOnce = (dir: string, msg: Buffer): boolean => {
      const k = dir + kinds(msg).join(',');
      if (seen.has(k)) return true;
      seen.add(k);
      return false;
    };
    const relay = await LossyRelay.create({ target: { address: '127.0.0.1', port: server.address().port }, filter: lostOnce });
    t.after(() => relay.close());
    const c = await client(relay.port);
    t.after(() => closeClient(c));
    await exchange(c, Buffer.from('after loss'), Buffer.from('dev1:after loss'));
    // ClientHello, HelloVerifyRequest, ClientHello+cookie, ServerHello flight, client flight 5, server Finished flight
    assert.ok(relay.dropped.toServer >= 3 && relay.dropped.toClient >= 3, JSON.stringify(relay.dropped));
    assert.ok(server.stats().flightRetransmissions >= 2, 'the server resent its ServerHello flight and its last flight');
    await closeClient(c);
    await relay.close();
    await closeServer(server);
  });

  test('wrong key: both sides report bad_key, no session is made', async (t) => {
    const server = await echoServer();
    t.after(() => closeServer(server));
    const failed = nextEvent<[HandshakeFailedEvent]>(server, 'handshakeFailed');
    await assert.rejects(client(server.address().port, { key: Buffer.alloc(16, 9) }),
      (err: DtlsHandshakeError) => err instanceof DtlsHandshakeError && err.reason === 'bad_key');
    const [ev] = await failed;
    assert.equal(ev.reason, 'bad_key');
    assert.equal(ev.identity, 'dev1');
    assert.equal(server.stats().sessions, 0);
    assert.equal(server.stats().connections, 0);
    await closeServer(server);
  });

  test('unknown identity: unknown_psk_identity alert; keys added at run time work at once', async (t) => {
    const store = new MemoryPskStore();
    const server = await echoServer({}, store);
    t.after(() => closeServer(server));
    const failed = nextEvent<[HandshakeFailedEvent]>(server, 'handshakeFailed');
    await assert.rejects(client(server.address().port, { identity: 'newcomer' }),
      (err: DtlsHandshakeError) => err.reason === 'unknown_identity' && err.alert === 115);
    const [ev] = await failed;
    assert.equal(ev.reason, 'unknown_identity');
    assert.equal(ev.identity, 'newcomer');
    store.set('newcomer', KEY);
    const c = await client(server.address().port, { identity: 'newcomer' });
    t.after(() => closeClient(c));
    // a session outlives the removal of its key (it was authenticated when made)
    store.delete('newcomer');
    await exchange(c, Buffer.from('still here'), Buffer.from('newcomer:still here'));
    await closeClient(c);
    await closeServer(server);
  });

  test('client close sends close_notify: the server forgets the session and refuses to send to it', async (t) => {
    const server = await echoServer();
    t.after(() => closeServer(server));
    const c = await client(server.address().port);
    t.after(() => closeClient(c));
    const port = c.address().port;
    assert.ok(server.getSession('127.0.0.1', port));
    const closed = nextEvent<[DtlsSessionInfo, string]>(server, 'sessionClosed');
    await closeClient(c);
    const [info, reason] = await closed;
    assert.equal(reason, 'close_notify');
    assert.equal(info.port, port);
    assert.equal(server.getSession('127.0.0.1', port), undefined);
    const err = await new Promise<Error | null>((resolve) => server.send(Buffer.from('x'), port, '127.0.0.1', resolve));
    assert.ok(err instanceof DtlsNoSessionError);
    server.send(Buffer.from('no callback: silently dropped'), port, '127.0.0.1');
    await closeServer(server);
  });

  test('server close sends close_notify: the client reports close', async (t) => {
    const server = await echoServer();
    t.after(() => closeServer(server));
    const c = await client(server.address().port);
    t.after(() => closeClient(c));
    const closed = once(c, 'close');
    await closeServer(server);
    assert.deepEqual(await closed, ['close_notify']);
    assert.equal(c.established, false);
    const err = await new Promise<Error | null>((resolve) => c.send(Buffer.from('x'), 0, '', resolve));
    assert.ok(err instanceof DtlsNoSessionError);
  });

  test('a new ClientHello from a known address replaces the old session (device rebooted behind the same NAT port)', async (t) => {
    const server = await echoServer();
    t.after(() => closeServer(server));
    const relay = await LossyRelay.create({ target: { address: '127.0.0.1', port: server.address().port }, singleUpstream: true });
    t.after(() => relay.close());
    const first = await client(relay.port, { identity: 'dev1' });
    t.after(() => closeClient(first));
    await exchange(first, Buffer.from('a'), Buffer.from('dev1:a'));
    const closed = nextEvent<[DtlsSessionInfo, string]>(server, 'sessionClosed');
    const second = await client(relay.port, { identity: 'dev2' });
    t.after(() => closeClient(second));
    const [old, reason] = await closed;
    assert.equal(reason, 'replaced');
    assert.equal(old.identity, 'dev1');
    await exchange(second, Buffer.from('b'), Buffer.from('dev2:b'));
    assert.equal(server.stats().sessions, 1);
    await closeClient(second);
    await closeClient(first);
    await relay.close();
    await closeServer(server);
  });

  test('an idle session expires', async (t) => {
    const server = await echoServer({ idleTimeoutMs: 500 });
    t.after(() => closeServer(server));
    const c = await client(server.address().port);
    t.after(() => closeClient(c));
    const [, reason] = await nextEvent<[DtlsSessionInfo, string]>(server, 'sessionClosed', 10_000);
    assert.equal(reason, 'idle');
    assert.equal(server.stats().sessions, 0);
    await closeClient(c);
    await closeServer(server);
  });

  test('connecting to a port where nobody answers times out with reason timeout', async (t) => {
    const silent = await LossyRelay.create({ target: { address: '127.0.0.1', port: 9 }, lossToServer: 1 });
    t.after(() => silent.close());
    await assert.rejects(client(silent.port, { handshakeTimeoutMs: 400 }), (err: DtlsHandshakeError) => err.reason === 'timeout');
    await silent.close();
  });

  test('dual stack: a server on :: serves IPv6 and IPv4 clients', async (t) => {
    let server;
    try {
      server = await echoServer({ address: '::' });
    } catch {
      t.skip('no IPv6 on this host');
      return;
    }
    const s = server;
    t.after(() => closeServer(s));
    for (const host of ['::1', '127.0.0.1']) {
      const c = await client(s.address().port, { host });
      t.after(() => closeClient(c));
      const [, rinfo] = await Promise.all([exchange(c, Buffer.from(host), Buffer.from(`dev1:${host}`)), nextEvent<[Buffer, { address: string; family: string }]>(s, 'message')])
        .then(([, m]) => m);
      assert.equal(rinfo.family, 'IPv6');
      assert.ok(rinfo.address === '::1' || rinfo.address === '::ffff:127.0.0.1', rinfo.address);
    }
  });

  test('an AbortSignal cancels a handshake in progress', async (t) => {
    const silent = await LossyRelay.create({ target: { address: '127.0.0.1', port: 9 }, lossToServer: 1 });
    t.after(() => silent.close());
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(client(silent.port, { signal: ac.signal }), (err: DtlsHandshakeError) => err.reason === 'closed');
  });

  test('bad options are refused with DtlsConfigError', async () => {
    assert.throws(() => createDtlsServer({ pskStore: undefined as unknown as MemoryPskStore }), DtlsConfigError);
    assert.throws(() => createDtlsServer({ port: 70000, pskStore: new MemoryPskStore() }), DtlsConfigError);
    assert.throws(() => createDtlsServer({ port: 0, pskStore: new MemoryPskStore(), cipherSuites: ['TLS_RSA_WITH_RC4'] }), DtlsConfigError);
    assert.throws(() => createDtlsServer({ port: 0, pskStore: new MemoryPskStore(), mtu: 10 }), DtlsConfigError);
    await assert.rejects(client(5684, { key: '' }), DtlsConfigError);
    await assert.rejects(client(5684, { identity: '' }), DtlsConfigError);
    await assert.rejects(client(0), DtlsConfigError);
  });
});
