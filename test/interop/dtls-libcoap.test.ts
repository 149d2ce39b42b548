import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UdpCoapEndpoint } from '../../src/coap/endpoint';
import { MemoryPskStore } from '../../src/dtls/psk-store';
import { createDtlsServer, DtlsSessionInfo } from '../../src/dtls/server';
import { client, closeClient, closeServer, nextEvent } from '../dtls/helpers/dtls-fixtures';
import { findBinary, freeUdpPort, PeerProcess } from '../dtls/helpers/peer-process';

/**
 * CoAP over DTLS with libcoap (Debian libcoap3-bin): coap-client-openssl and coap-client-gnutls against a CoAP
 * responder (our UdpCoapEndpoint) on our DtlsServer, and our DtlsClientSocket against coap-server-openssl. libcoap's
 * `-k` takes the key as text. Each case is skipped with a message when its binary is absent.
 */
const KEY_TEXT = 'secretPSK';
const clients = ['coap-client-openssl', 'coap-client-gnutls'] as const;
const coapServer = findBinary('coap-server-openssl');

describe('libcoap clients against our DTLS server', () => {
  for (const name of clients) {
    const bin = findBinary(name);
    test(`${name} GET over coaps`, { skip: bin === undefined ? `${name} not installed (apt-get install libcoap3-bin): skipping` : false }, async (t) => {
      const server = createDtlsServer({ address: '127.0.0.1', port: 0, pskStore: new MemoryPskStore({ 'coap-id': Buffer.from(KEY_TEXT) }) });
      await server.whenListening();
      t.after(() => closeServer(server));
      const endpoint = new UdpCoapEndpoint(server, { closeSocket: false });
      t.after(() => endpoint.close());
      endpoint.setRequestHandler((req) => ({
        code: '2.05',
        payload: Buffer.from(`hello ${req.peer.identity} at /${req.path.join('/')}`),
      }));
      const session = nextEvent<[DtlsSessionInfo]>(server, 'session', 15_000);
      const peer = new PeerProcess(bin as string, ['-m', 'get', '-u', 'coap-id', '-k', KEY_TEXT, '-B', '10',
        `coaps://127.0.0.1:${server.address().port}/time`]);
      t.after(() => peer.kill());
      await peer.waitFor(/hello coap-id at \/time/);
      const [info] = await session;
      assert.equal(info.identity, 'coap-id');
      assert.equal(info.cipherSuite, 'TLS_PSK_WITH_AES_128_CCM_8');
      assert.equal(await peer.exited, 0);
    });
  }
});

describe('our DTLS client against coap-server-openssl', { skip: coapServer === undefined ? 'coap-server-openssl not installed: skipping' : false }, () => {
  test('GET /time and /.well-known/core over coaps', async (t) => {
    const port = await freeUdpPort(2); // coap on port, coaps on port + 1
    const peer = new PeerProcess(coapServer as string, ['-A', '127.0.0.1', '-p', String(port), '-k', KEY_TEXT, '-h', 'hint']);
    t.after(() => peer.kill());
    // libcoap prints nothing when ready: retry the handshake until it listens
    let c;
    for (let i = 0; ; i++) {
      try {
        c = await client(port + 1, { identity: 'coap-id', key: Buffer.from(KEY_TEXT), handshakeTimeoutMs: 1500, retransmitInitialMs: 200 });
        break;
      } catch (err) {
        if (i >= 10) throw err;
      }
    }
    const dtls = c;
    t.after(() => closeClient(dtls));
    assert.equal(dtls.cipherSuite, 'TLS_PSK_WITH_AES_128_CCM_8');
    const endpoint = new UdpCoapEndpoint(dtls, { closeSocket: false });
    t.after(() => endpoint.close());
    const peerAddr = { address: '127.0.0.1', port: port + 1 };
    const time = await endpoint.request(peerAddr, { method: 'GET', path: '/time' });
    assert.equal(time.code, '2.05');
    assert.ok(time.payload.length > 0, 'the libcoap example server answers the time');
    const core = await endpoint.request(peerAddr, { method: 'GET', path: ['.well-known', 'core'] });
    assert.equal(core.code, '2.05');
    assert.match(core.payload.toString(), /<\/time>/);
  });
});
