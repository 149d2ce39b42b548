import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { client, closeClient, closeServer, echoServer, exchange } from './helpers/dtls-fixtures';
import { LossyRelay } from './helpers/lossy-relay';

/**
 * Handshakes and data under 30 % loss in both directions (a seeded lossy relay between client and server). The flight
 * retransmissions of RFC 6347 4.2.4 carry the handshake; the data exchange retransmits like CoAP would.
 */
describe('DTLS under 30% packet loss each way', () => {
  for (const [suite, seed] of [['TLS_PSK_WITH_AES_128_CCM_8', 7], ['TLS_PSK_WITH_AES_128_CBC_SHA256', 11]] as const) {
    test(`handshakes and data complete (${suite})`, async (t) => {
      const server = await echoServer({ cipherSuites: [suite] });
      t.after(() => closeServer(server));
      const relay = await LossyRelay.create({
        target: { address: '127.0.0.1', port: server.address().port }, lossToServer: 0.3, lossToClient: 0.3, seed,
      });
      t.after(() => relay.close());
      const n = 8;
      const clients = await Promise.all(Array.from({ length: n }, () => client(relay.port, { cipherSuites: [suite] })));
      t.after(() => Promise.all(clients.map(closeClient)));
      for (let round = 0; round < 3; round++) {
        await Promise.all(clients.map((c, i) => exchange(c, Buffer.from(`r${round}c${i}`), Buffer.from(`dev1:r${round}c${i}`))));
      }
      assert.equal(server.stats().handshakesCompleted, n);
      // loss did happen, in both directions
      assert.ok(relay.dropped.toServer > 0 && relay.dropped.toClient > 0, JSON.stringify(relay.dropped));
      const total = relay.dropped.toServer + relay.forwarded.toServer;
      assert.ok(relay.dropped.toServer / total > 0.15, 'the relay drops about 30%');
    });
  }
});
