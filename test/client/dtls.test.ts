/**
 * coaps:// with PSK: our client (DTLS through src/dtls connectDtls) registers with our server behind a DTLS endpoint,
 * is read through the session, and bootstrapping hands it PSK credentials that it then uses.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { UdpCoapEndpoint } from '../../src/coap/endpoint';
import { createDtlsServer } from '../../src/dtls';
import { InMemorySecurityStore } from '../../src/server';
import { Lwm2mClient } from '../../src/client';
import { startServer } from './helpers';

const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

async function secureServer() {
  const security = new InMemorySecurityStore([{ endpoint: 'psk-dev', identity: 'psk-id', key: KEY }]);
  const server = await startServer({ securityStore: security });
  const dtls = createDtlsServer({ address: '127.0.0.1', port: 0, pskStore: security });
  await dtls.whenListening();
  server.addEndpoint(new UdpCoapEndpoint(dtls, { ackTimeoutMs: 500, maxRetransmit: 2 }), { secure: true });
  return { server, port: dtls.address().port };
}

describe('coaps:// (DTLS PSK)', () => {
  test('registers over DTLS with its identity, is read, de-registers', async () => {
    const { server, port } = await secureServer();
    const client = new Lwm2mClient({ endpoint: 'psk-dev', serverUri: `coaps://127.0.0.1:${port}`, identity: 'psk-id', key: KEY.toString('hex') });
    try {
      await client.start();
      await client.whenRegistered(10_000);
      const reg = server.getRegistration('psk-dev')!;
      assert.equal(reg.security, 'psk');
      assert.equal(reg.identity, 'psk-id');
      assert.equal((await server.read('psk-dev', '/3/0/2')).value, 'psk-dev');
      assert.deepEqual(client.get('/0/0/3'), Buffer.from('psk-id'));
      assert.equal(client.get('/0/0/2'), 0);
      const gone = new Promise<void>((r) => server.once('deregistered', () => r()));
      await client.stop();
      await gone;
    } finally {
      await client.stop();
      await server.close();
    }
  });

  test('a wrong key fails the handshake: error state, no registration', async () => {
    const { server, port } = await secureServer();
    const client = new Lwm2mClient({ endpoint: 'psk-dev', serverUri: `coaps://127.0.0.1:${port}`, identity: 'psk-id',
      key: Buffer.alloc(16, 7), retryInitialMs: 60_000 });
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    try {
      await client.start();
      const deadline = Date.now() + 10_000;
      while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(client.state, 'error');
      assert.equal(server.getRegistration('psk-dev'), undefined);
    } finally {
      await client.stop();
      await server.close();
    }
  });

  test('coaps:// without identity and key is refused at construction', () => {
    assert.throws(() => new Lwm2mClient({ endpoint: 'x', serverUri: 'coaps://127.0.0.1:5684' }), /identity and key/);
  });
});
