import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryPskStore } from '../../src/dtls/psk-store';
import type { DtlsSessionInfo, HandshakeFailedEvent } from '../../src/dtls/server';
import { closeServer, echoServer, nextEvent } from '../dtls/helpers/dtls-fixtures';

/**
 * node-dtls-client (npm) against our server. It takes the PSK as text (`Buffer.from(psk, 'ascii')`), does not offer the
 * extended master secret, and cannot parse a ServerKeyExchange: our server sends none unless a hint is configured.
 */
interface NdcSocket {
  on(event: string, fn: (...args: unknown[]) => void): void;
  send(data: Buffer): void;
  close(): void;
}
let dtls: { createSocket(opts: unknown): NdcSocket } | undefined;
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  dtls = require('node-dtls-client').dtls;
} catch {
  dtls = undefined;
}

describe('node-dtls-client against our DTLS server', { skip: dtls === undefined ? 'node-dtls-client not installed: skipping' : false }, () => {
  for (const suite of ['TLS_PSK_WITH_AES_128_CCM_8', 'TLS_PSK_WITH_AES_128_CBC_SHA256']) {
    test(`handshake and data with ${suite}`, async (t) => {
      const server = await echoServer({ retransmitInitialMs: 1000 }, new MemoryPskStore({ ndc: Buffer.from('ndc-secret', 'ascii') }));
      t.after(() => closeServer(server));
      const session = nextEvent<[DtlsSessionInfo]>(server, 'session');
      const sock = (dtls as NonNullable<typeof dtls>).createSocket({
        type: 'udp4', address: '127.0.0.1', port: server.address().port, psk: { ndc: 'ndc-secret' }, timeout: 10_000, ciphers: [suite],
      });
      let isClosed = false;
      const closed = new Promise<void>((resolve) => sock.on('close', () => { isClosed = true; resolve(); }));
      t.after(async () => {
        // it closes itself on our close_notify; closing a closed node-dtls-client socket throws
        if (!isClosed) {
          try { sock.close(); } catch { /* already closed */ }
        }
        await closed;
      });
      const answer = new Promise<Buffer>((resolve, reject) => {
        sock.on('message', (m) => resolve(m as Buffer));
        sock.on('error', (e) => reject(e));
      });
      await new Promise<void>((resolve, reject) => {
        sock.on('connected', () => resolve());
        sock.on('error', (e) => reject(e));
      });
      sock.send(Buffer.from('hi from node-dtls-client'));
      assert.equal((await answer).toString(), 'ndc:hi from node-dtls-client');
      const [info] = await session;
      assert.equal(info.cipherSuite, suite);
      assert.equal(info.extendedMasterSecret, false);
    });
  }

  test('a wrong PSK: node-dtls-client gets our fatal decrypt_error, not its handshake timeout; the server says bad_key', async (t) => {
    // node-dtls-client sends its flight 5 once; our flight 4 is not resent before its deadline (retransmitInitialMs):
    // only an alert can end its handshake before the timeout
    const server = await echoServer({ retransmitInitialMs: 10_000 }, new MemoryPskStore({ ndc: Buffer.from('ndc-secret', 'ascii') }));
    t.after(() => closeServer(server));
    const failed = nextEvent<[HandshakeFailedEvent]>(server, 'handshakeFailed', 15_000);
    const sock = (dtls as NonNullable<typeof dtls>).createSocket({
      type: 'udp4', address: '127.0.0.1', port: server.address().port, psk: { ndc: 'not-the-secret' }, timeout: 10_000,
      ciphers: ['TLS_PSK_WITH_AES_128_CCM_8'],
    });
    const err = await new Promise<Error>((resolve, reject) => {
      sock.on('error', (e) => resolve(e as Error));
      sock.on('connected', () => reject(new Error('connected with a wrong key')));
    });
    assert.match(err.message, /fatal alert: decrypt_error/);
    const [ev] = await failed;
    assert.deepEqual([ev.reason, ev.identity, ev.alert], ['bad_key', 'ndc', 51]);
  });
});
