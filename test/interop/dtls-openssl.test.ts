import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DtlsHandshakeError } from '../../src/dtls/errors';
import type { DtlsSessionInfo, HandshakeFailedEvent } from '../../src/dtls/server';
import { client, closeClient, closeServer, echoServer, KEY, nextEvent } from '../dtls/helpers/dtls-fixtures';
import { findBinary, freeUdpPort, PeerProcess } from '../dtls/helpers/peer-process';

/**
 * Interop with OpenSSL's DTLS 1.2 (`openssl s_client` / `s_server`, PSK): both suites, both directions. Skipped with a
 * message when openssl is not installed (CI installs it).
 */
const openssl = findBinary('openssl');
const skip = openssl === undefined ? 'openssl not installed: skipping DTLS interop with OpenSSL' : false;
const HEX = KEY.toString('hex');
const SUITES = [['PSK-AES128-CCM8', 'TLS_PSK_WITH_AES_128_CCM_8'], ['PSK-AES128-CBC-SHA256', 'TLS_PSK_WITH_AES_128_CBC_SHA256']] as const;

describe('openssl s_client against our DTLS server', { skip }, () => {
  for (const [ossl, iana] of SUITES) {
    test(`handshake and data with ${ossl}`, async (t) => {
      const server = await echoServer({ retransmitInitialMs: 1000, retransmitMaxMs: 60_000 });
      t.after(() => closeServer(server));
      const session = nextEvent<[DtlsSessionInfo]>(server, 'session', 15_000);
      const peer = new PeerProcess(openssl as string, ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${server.address().port}`,
        '-psk', HEX, '-psk_identity', 'dev1', '-cipher', ossl]);
      t.after(() => peer.kill());
      await peer.waitFor(/Cipher is/);
      const [info] = await session;
      assert.equal(info.identity, 'dev1');
      assert.equal(info.cipherSuite, iana);
      assert.equal(info.extendedMasterSecret, true, 'OpenSSL 3 offers the extended master secret; we use it');
      assert.match(peer.output, /Secure Renegotiation IS supported/);
      assert.match(peer.output, /Extended master secret: yes/);
      peer.write('hello openssl\n');
      await peer.waitFor(/dev1:hello openssl/);
    });
  }

  test('renegotiation is refused: s_client R gets no_renegotiation, no second handshake starts', async (t) => {
    const server = await echoServer({ retransmitInitialMs: 1000 });
    t.after(() => closeServer(server));
    const peer = new PeerProcess(openssl as string, ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${server.address().port}`,
      '-psk', HEX, '-psk_identity', 'dev1', '-cipher', 'PSK-AES128-CCM8']);
    t.after(() => peer.kill());
    await peer.waitFor(/Cipher is/);
    peer.write('R\n');
    await peer.waitFor(/no renegotiation/i);
    assert.equal(server.stats().handshakesStarted, 1);
  });

  test('wrong key: the server reports bad_key and s_client gets an alert', async (t) => {
    const server = await echoServer({ retransmitInitialMs: 1000 });
    t.after(() => closeServer(server));
    const failed = nextEvent<[HandshakeFailedEvent]>(server, 'handshakeFailed', 15_000);
    const peer = new PeerProcess(openssl as string, ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${server.address().port}`,
      '-psk', 'ffeeddccbbaa99887766554433221100', '-psk_identity', 'dev1', '-cipher', 'PSK-AES128-CCM8']);
    t.after(() => peer.kill());
    const [ev] = await failed;
    assert.equal(ev.reason, 'bad_key');
    assert.equal(ev.identity, 'dev1');
    await peer.waitFor(/decrypt error|alert/i);
    assert.equal(server.stats().sessions, 0);
  });

  test('unknown identity: the server reports unknown_identity and s_client gets unknown_psk_identity', async (t) => {
    const server = await echoServer();
    t.after(() => closeServer(server));
    const failed = nextEvent<[HandshakeFailedEvent]>(server, 'handshakeFailed', 15_000);
    const peer = new PeerProcess(openssl as string, ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${server.address().port}`,
      '-psk', HEX, '-psk_identity', 'stranger', '-cipher', 'PSK-AES128-CCM8']);
    t.after(() => peer.kill());
    const [ev] = await failed;
    assert.equal(ev.reason, 'unknown_identity');
    assert.equal(ev.identity, 'stranger');
    await peer.waitFor(/unknown psk identity/i);
  });
});

describe('our DTLS client against openssl s_server', { skip }, () => {
  for (const [ossl, iana] of SUITES) {
    test(`handshake and data with ${ossl}`, async (t) => {
      const port = await freeUdpPort();
      const peer = new PeerProcess(openssl as string, ['s_server', '-dtls1_2', '-accept', `127.0.0.1:${port}`, '-nocert',
        '-psk', HEX, '-psk_hint', 'hint', '-cipher', ossl]);
      t.after(() => peer.kill());
      await peer.waitFor(/ACCEPT/);
      const c = await client(port, { identity: 'Client_identity', retransmitInitialMs: 1000 });
      t.after(() => closeClient(c));
      assert.equal(c.cipherSuite, iana);
      assert.equal(c.extendedMasterSecret, true);
      c.send(Buffer.from('hello from node\n'));
      await peer.waitFor(/hello from node/);
      const got = nextEvent<[Buffer]>(c, 'message');
      peer.write('hello from openssl\n');
      assert.equal((await got)[0].toString(), 'hello from openssl\n');
      // s_server's R sends a HelloRequest: we do not renegotiate and ignore it (RFC 5246 7.4.1.1); the session goes on
      peer.write('R\n');
      await new Promise((r) => setTimeout(r, 300));
      // s_server waits in its renegotiation until a record arrives: application data, which it accepts
      c.send(Buffer.from('ping after R\n'));
      await peer.waitFor(/ping after R/);
      const after = nextEvent<[Buffer]>(c, 'message');
      peer.write('after the HelloRequest\n');
      assert.equal((await after)[0].toString(), 'after the HelloRequest\n');
      assert.equal(c.established, true);
    });
  }

  test('wrong key: the handshake fails', async (t) => {
    const port = await freeUdpPort();
    const peer = new PeerProcess(openssl as string, ['s_server', '-dtls1_2', '-accept', `127.0.0.1:${port}`, '-nocert',
      '-psk', HEX, '-cipher', 'PSK-AES128-CCM8']);
    t.after(() => peer.kill());
    await peer.waitFor(/ACCEPT/);
    await assert.rejects(client(port, { key: Buffer.alloc(16, 1), handshakeTimeoutMs: 3000 }), DtlsHandshakeError);
  });
});
