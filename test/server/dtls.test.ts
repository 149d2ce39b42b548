/**
 * The server behind a DTLS endpoint (src/dtls DtlsServer with our InMemorySecurityStore as its PSK store): devices
 * register over DTLS with PSK, the registration records the identity, requests go back through the session; libcoap's
 * coap-client-openssl registers over coaps when installed.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'child_process';
import { nextEvent, startServer, ServerEnv, until } from '../helpers/server-env';
import { RawDevice } from '../helpers/raw-device';
import { UdpCoapEndpoint } from '../../src/coap/endpoint';
import { createDtlsServer, connectDtls, DtlsClientSocket } from '../../src/dtls';
import { InMemorySecurityStore, Registration, SecurityViolationEvent } from '../../src/server';

const KEY1 = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
/** printable: coap-client-openssl takes the key as a string (-k) */
const KEY2 = Buffer.from('secret-key-of-dtls-2');

function hasBinary(name: string): boolean {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('LwM2M over DTLS (PSK)', () => {
  let env: ServerEnv;
  let dtlsPort: number;
  const security = new InMemorySecurityStore([
    { endpoint: 'dtls-1', identity: 'dtls-id-1', key: KEY1 },
    { endpoint: 'dtls-2', identity: 'dtls-id-2', key: KEY2 },
  ]);
  const sockets: DtlsClientSocket[] = [];

  before(async () => {
    env = await startServer({ securityStore: security });
    const dtls = createDtlsServer({ address: '127.0.0.1', port: 0, pskStore: security });
    await dtls.whenListening();
    dtlsPort = dtls.address().port;
    env.server.addEndpoint(new UdpCoapEndpoint(dtls, { ackTimeoutMs: 500, maxRetransmit: 2 }), { secure: true });
  });
  after(async () => {
    for (const s of sockets) await new Promise<void>((r) => s.close(() => r()));
    await env.close();
  });

  async function dtlsDevice(endpoint: string, identity: string, key: Buffer): Promise<RawDevice> {
    const sock = await connectDtls({ host: '127.0.0.1', port: dtlsPort, identity, key, handshakeTimeoutMs: 10_000 });
    sockets.push(sock);
    return RawDevice.onSocket({ endpoint, serverPort: dtlsPort }, sock);
  }

  test('Register over DTLS: psk mode with the identity; a Read goes back through the session', async () => {
    const d = await dtlsDevice('dtls-1', 'dtls-id-1', KEY1);
    d.on('GET', '/3/0/0', { code: '2.05', format: 0, payload: 'over DTLS' });
    const ev = nextEvent<[Registration]>(env.server, 'registered');
    assert.equal((await d.register(['lt=60', 'lwm2m=1.1'])).code, '2.01');
    const [reg] = await ev;
    assert.equal(reg.security, 'psk');
    assert.equal(reg.identity, 'dtls-id-1');
    assert.equal(reg.secure, true);
    assert.equal(reg.transport, 'coaps');
    const r = await env.server.read('dtls-1', '/3/0/0');
    assert.equal(r.value, 'over DTLS');
    assert.equal((await d.update()).code, '2.04');
    assert.equal((await d.deregister()).code, '2.02');
  });

  test('an authenticated identity registering another endpoint -> 4.03 + securityViolation', async () => {
    const d = await dtlsDevice('dtls-1', 'dtls-id-2', KEY2);
    const ev = nextEvent<[SecurityViolationEvent]>(env.server, 'securityViolation');
    assert.equal((await d.register(['lt=60'])).code, '4.03');
    const [v] = await ev;
    assert.equal(v.identity, 'dtls-id-2');
    assert.equal(v.endpoint, 'dtls-1');
  });

  test('coap-client-openssl registers over coaps with PSK', { skip: hasBinary('coap-client-openssl') ? false : 'coap-client-openssl not installed (apt-get install libcoap3-bin)' }, async () => {
    const run = (args: string[]): Promise<string> => new Promise((resolve, reject) => {
      execFile('coap-client-openssl', ['-B', '10', ...args], { timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(err) : resolve(stdout + stderr)));
    });
    const ev = nextEvent<[Registration]>(env.server, 'registered', 15_000);
    await run(['-u', 'dtls-id-2', '-k', KEY2.toString('latin1'), '-m', 'post', `coaps://127.0.0.1:${dtlsPort}/rd?ep=dtls-2&lt=60`, '-e', '</1/0>,</3/0>', '-t', '40']);
    const [reg] = await ev;
    assert.equal(reg.endpoint, 'dtls-2');
    assert.equal(reg.identity, 'dtls-id-2');
    assert.equal(reg.security, 'psk');
    // the same endpoint without DTLS is refused
    const out = await run(['-m', 'post', `coap://127.0.0.1:${env.port}/rd?ep=dtls-2&lt=60`, '-e', '</3/0>', '-t', '40']);
    assert.match(out, /4\.03/);
    await until(() => env.server.getRegistration('dtls-2')?.identity === 'dtls-id-2', 1000, 'registration kept');
  });
});
