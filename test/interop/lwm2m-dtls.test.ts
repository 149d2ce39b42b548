/**
 * LwM2M over DTLS end to end (OMA TS Transport 1.1 5.2: PSK mode; Core 1.1 7.1: the endpoint must match the security
 * credentials of the DTLS session):
 *
 * 1. libcoap's coap-client-openssl and coap-client-gnutls (Debian libcoap3-bin) REGISTER with our Lwm2mServer behind
 *    our DTLS server (PSK taken from the server's InMemorySecurityStore); an identity registering another endpoint
 *    name gets 4.03 and the server reports a securityViolation; a wrong key fails the handshake. Each binary is
 *    skipped with a message when it is absent.
 * 2. Our Lwm2mClient over coaps:// through a seeded relay dropping 30% of the datagrams in each direction: the DTLS
 *    handshake (flight retransmission, RFC 6347 4.2.4) completes, the device registers, and the server reads and writes
 *    it several times (CoAP retransmission, RFC 7252 4.2). `LWM2M_LOSS_SEEDS=1,2,3` runs other relay seeds.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { UdpCoapEndpoint } from '../../src/coap/endpoint';
import { connectDtls, createDtlsServer, DtlsServer, HandshakeFailedEvent } from '../../src/dtls';
import { InMemorySecurityStore, Lwm2mServer, Registration, registrationObjects, SecurityViolationEvent } from '../../src/server';
import { Lwm2mClient } from '../../src/client';
import { findBinary, PeerProcess } from '../dtls/helpers/peer-process';
import { LossyRelay } from '../dtls/helpers/lossy-relay';
import { collect, EventLog, withTimeout } from './helpers/events';

const CLIENTS = ['coap-client-openssl', 'coap-client-gnutls'] as const;

/** libcoap's -k takes the key bytes as typed: printable keys, stored as their bytes. */
const keyText = (name: string): string => `key-of-${name}`;

interface SecureServer {
  server: Lwm2mServer;
  dtls: DtlsServer;
  port: number;
  close(): Promise<void>;
}

async function startSecureServer(security: InMemorySecurityStore, opts: {
  coap?: { ackTimeoutMs?: number; maxRetransmit?: number };
  dtls?: { retransmitInitialMs?: number; retransmitMaxMs?: number; handshakeTimeoutMs?: number };
  requestTimeoutMs?: number;
} = {}): Promise<SecureServer> {
  const server = new Lwm2mServer({ address: '127.0.0.1', port: 0, securityStore: security, requestTimeoutMs: opts.requestTimeoutMs ?? 5000 });
  await server.start();
  const dtls = createDtlsServer({ address: '127.0.0.1', port: 0, pskStore: security, ...opts.dtls });
  await dtls.whenListening();
  server.addEndpoint(new UdpCoapEndpoint(dtls, { ackTimeoutMs: 500, maxRetransmit: 2, ...opts.coap }), { secure: true });
  return {
    server,
    dtls,
    port: dtls.address().port,
    // the server closes its endpoints, and the endpoint its socket (the DTLS server)
    close: () => server.close(),
  };
}

/** Runs a libcoap client to its end (-B bounds its own wait; a hard timeout kills it). */
async function runCoapClient(bin: string, args: string[], killAfterMs = 20_000): Promise<{ output: string; code: number | null }> {
  const peer = new PeerProcess(bin, ['-B', '5', ...args]);
  try {
    const code = await withTimeout(peer.exited, killAfterMs, `${bin} did not exit`);
    return { output: peer.output, code };
  } finally {
    await peer.kill();
  }
}

describe('libcoap coap-client registers with our LwM2M server over DTLS (PSK)', () => {
  for (const bin of CLIENTS) {
    const path = findBinary(bin);
    const skip = path === undefined ? `${bin} not installed (apt-get install libcoap3-bin): skipping` : false;
    describe(bin, { skip }, () => {
      const ep = `${bin}-dev`;
      const identity = `${bin}-id`;
      const other = `${bin}-other`;
      const security = new InMemorySecurityStore([
        { endpoint: ep, identity, key: Buffer.from(keyText(ep)) },
        { endpoint: other, identity: `${other}-id`, key: Buffer.from(keyText(other)) },
      ]);
      let env: SecureServer;
      let log: EventLog;
      before(async () => {
        env = await startSecureServer(security);
        log = collect(env.server, ['registered', 'securityViolation']);
        log.add(env.dtls, ['handshakeFailed']);
      });
      after(async () => {
        log.stop();
        await env.close();
      });
      const uri = (endpoint: string): string => `coaps://127.0.0.1:${env.port}/rd?ep=${endpoint}&lt=60&lwm2m=1.1`;
      const register = (id: string, key: string, endpoint: string) => runCoapClient(path as string,
        ['-m', 'post', '-u', id, '-k', key, '-t', '40', '-e', '</1/0>,</3/0>', uri(endpoint)]);

      test('Register: psk security with the identity of the DTLS session', async () => {
        log.clear();
        const { output, code } = await register(identity, keyText(ep), ep);
        assert.equal(code, 0, output);
        const [reg] = await log.wait<[Registration]>('registered', 5000);
        assert.equal(reg.endpoint, ep);
        assert.equal(reg.security, 'psk');
        assert.equal(reg.identity, identity);
        assert.equal(reg.secure, true);
        assert.equal(reg.version, '1.1');
        assert.equal(reg.lifetime, 60);
        assert.deepEqual(Object.keys(registrationObjects(reg)).sort(), ['1', '3']);
        assert.equal(env.server.getRegistration(ep)?.identity, identity);
        assert.doesNotMatch(output, /^[45]\.\d\d\b/m, 'no error response');
        assert.equal(log.count('securityViolation'), 0);
      });

      test('the same identity registering another endpoint name: 4.03 and securityViolation', async () => {
        log.clear();
        const own = env.server.getRegistration(ep);
        const { output } = await register(identity, keyText(ep), other);
        assert.match(output, /^4\.03\b/m);
        const [v] = await log.wait<[SecurityViolationEvent]>('securityViolation', 5000);
        assert.equal(v.identity, identity);
        assert.equal(v.endpoint, other);
        assert.equal(env.server.getRegistration(other), undefined);
        assert.equal(log.count('registered'), 0);
        assert.equal(env.server.getRegistration(ep), own, 'the registration of the identity\'s own endpoint is untouched');
      });

      test('a wrong key fails the handshake: no registration', async () => {
        log.clear();
        const { output } = await register(`${other}-id`, 'not-the-key', other);
        const [ev] = await log.wait<[HandshakeFailedEvent]>('handshakeFailed', 5000);
        assert.equal(ev.identity, `${other}-id`);
        assert.equal(ev.reason, 'bad_key');
        assert.match(output, /decrypt error/i, 'the client got our decrypt_error alert');
        assert.doesNotMatch(output, /^2\.01\b/m);
        assert.equal(log.count('registered'), 0);
        assert.equal(env.server.getRegistration(other), undefined);
      });
    });
  }
});

/*
 * Shortened timers, both sides (RFC values: ACK_TIMEOUT 2 s, ACK_RANDOM_FACTOR 1.5, MAX_RETRANSMIT 4; DTLS flight
 * timer 1 s doubling up to 60 s). At 30% loss each way an attempt of a CoAP exchange fails with p = 1 - 0.7 * 0.7 =
 * 0.51 (a lost request, or a lost answer: the retransmitted request then gets the deduplicated answer again, RFC 7252
 * 4.5), independently. The back-off doubles (RFC 7252 4.2), so the attempts that fit in a deadline T number only
 * log2(T / ACK_TIMEOUT) + 1: from 2 ms, 15 attempts fit in 40 s and an exchange fails with p ~ 0.51^15 ~ 4e-5 (from
 * 10 ms it would be 12 attempts, 3e-4: seeds 13 and 36 of the relay hold such a run of 12 failing attempts, a real
 * timeout, not a bug). The expected time of an exchange stays a few ms per attempt. The DTLS flight timer is capped at
 * 800 ms, so a handshake gets dozens of attempts within its 30 s; a failed handshake or Register is retried by the
 * client (retryInitialMs).
 */
const LOSSY_COAP = { ackTimeoutMs: 2, ackRandomFactor: 1, maxRetransmit: 16 };
const LOSSY_DTLS = { retransmitInitialMs: 100, retransmitMaxMs: 800, handshakeTimeoutMs: 30_000 };
const LOSSY_REQUEST_TIMEOUT_MS = 40_000;

describe('Lwm2mClient over coaps:// through 30% loss in each direction', () => {
  // LWM2M_LOSS_SEEDS=1,2,3 runs other seeds (to hunt flakiness)
  const seeds = (process.env.LWM2M_LOSS_SEEDS ?? '3,17').split(',').map(Number);
  for (const seed of seeds) {
    test(`handshake, Register, then Reads and Writes from the server (seed ${seed})`, async (t) => {
      const key = Buffer.from('lossy-psk-key-0123');
      const security = new InMemorySecurityStore([{ endpoint: 'lossy-dev', identity: 'lossy-id', key }]);
      // closed last opened first (the client's De-register goes out while the relay and the server are still there);
      // node:test runs after-hooks in the order they were added, hence one hook
      const cleanup: Array<() => Promise<void>> = [];
      t.after(async () => {
        for (const close of cleanup.reverse()) await close();
      });
      const env = await startSecureServer(security, { coap: LOSSY_COAP, dtls: LOSSY_DTLS, requestTimeoutMs: LOSSY_REQUEST_TIMEOUT_MS });
      cleanup.push(() => env.close());
      const relay = await LossyRelay.create({
        target: { address: '127.0.0.1', port: env.port }, lossToServer: 0.3, lossToClient: 0.3, seed,
      });
      cleanup.push(() => relay.close());
      const handshakeMs: number[] = [];
      const client = new Lwm2mClient({
        endpoint: 'lossy-dev',
        serverUri: `coaps://127.0.0.1:${relay.port}`,
        identity: 'lossy-id',
        key,
        lifetime: 300,
        device: { manufacturer: 'Lossy Inc.', timezone: 'UTC' },
        coap: LOSSY_COAP,
        requestTimeoutMs: LOSSY_REQUEST_TIMEOUT_MS,
        retryInitialMs: 200,
        retryMaxMs: 1000,
        dtlsConnector: async (o) => {
          const start = Date.now();
          const socket = await connectDtls({ ...o, ...LOSSY_DTLS });
          handshakeMs.push(Date.now() - start);
          return socket;
        },
      });
      cleanup.push(() => client.stop());
      const failures: string[] = [];
      client.on('error', (e: Error) => failures.push(e.message));
      const registered = new Promise<Registration>((resolve) => env.server.once('registered', resolve));
      const t0 = Date.now();
      await client.start();
      await client.whenRegistered(45_000);
      const registeredMs = Date.now() - t0;
      const reg = await withTimeout(registered, 5000, 'registered event');
      assert.equal(reg.endpoint, 'lossy-dev');
      assert.equal(reg.security, 'psk');
      assert.equal(reg.identity, 'lossy-id');

      for (let round = 0; round < 3; round++) {
        const device = await env.server.read('lossy-dev', '/3/0');
        assert.equal(device.code, '2.05');
        const tree = device.value as Record<number, unknown>;
        assert.equal(tree[0], 'Lossy Inc.');
        assert.equal(tree[2], 'lossy-dev', 'serial number: the endpoint name');
        const manufacturer = await env.server.read('lossy-dev', '/3/0/0');
        assert.equal(manufacturer.value, 'Lossy Inc.');
        const zone = `Etc/GMT+${round}`;
        const w = await env.server.write('lossy-dev', '/3/0/15', zone);
        assert.equal(w.code, '2.04');
        assert.equal(client.get('/3/0/15'), zone);
      }
      assert.equal((await env.server.read('lossy-dev', '/3/0/15')).value, 'Etc/GMT+2');
      // loss did happen, both ways (the relay draws 30% each way; a lower bound far from 30% so it cannot misfire)
      assert.ok(relay.dropped.toServer > 0 && relay.dropped.toClient > 0, JSON.stringify(relay.dropped));
      const sent = relay.dropped.toServer + relay.forwarded.toServer + relay.dropped.toClient + relay.forwarded.toClient;
      const rate = (relay.dropped.toServer + relay.dropped.toClient) / sent;
      assert.ok(rate > 0.1, `drop rate ${rate}`);
      t.diagnostic(`seed ${seed}: handshake ${handshakeMs.join(', ')} ms, registered after ${registeredMs} ms`
        + `${failures.length > 0 ? ` (after failures: ${failures.join('; ')})` : ''}, operations took ${Date.now() - t0 - registeredMs} ms`);
      t.diagnostic(`seed ${seed}: dropped ${JSON.stringify(relay.dropped)}, forwarded ${JSON.stringify(relay.forwarded)}, `
        + `dtls ${JSON.stringify({ hs: env.dtls.stats().handshakesCompleted, flights: env.dtls.stats().flightRetransmissions })}`);
    });
  }
});
