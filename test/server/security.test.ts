import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { nextEvent, startServer, ServerEnv } from '../helpers/server-env';
import { IdentitySocket } from '../helpers/server-identity-socket';
import { RawDevice } from '../helpers/raw-device';
import { UdpCoapEndpoint } from '../../src/coap/endpoint';
import { InMemorySecurityStore, SecurityViolationEvent } from '../../src/server';

describe('InMemorySecurityStore', () => {
  test('lookups by endpoint and identity, getKey for DTLS, changes at run time', () => {
    const s = new InMemorySecurityStore([{ endpoint: 'a', identity: 'id-a', key: Buffer.from('0102', 'hex') }]);
    assert.equal(s.getByEndpoint('a')?.identity, 'id-a');
    assert.equal(s.getByIdentity('id-a')?.endpoint, 'a');
    assert.deepEqual(s.getKey('id-a'), Buffer.from('0102', 'hex'));
    assert.equal(s.getKey('nobody'), undefined);
    s.add({ endpoint: 'a', identity: 'id-a2', key: Buffer.from('03', 'hex') });
    assert.equal(s.getKey('id-a'), undefined, 'old identity released');
    assert.deepEqual(s.getKey('id-a2'), Buffer.from('03', 'hex'));
    assert.throws(() => s.add({ endpoint: 'b', identity: 'id-a2', key: Buffer.from('04', 'hex') }), /already belongs to endpoint a/);
    assert.throws(() => s.add({ endpoint: 'b', identity: 'id-b', key: Buffer.alloc(0) }), /non-empty Buffer/);
    assert.equal(s.remove('a'), true);
    assert.equal(s.size, 0);
    assert.equal(s.getKey('id-a2'), undefined);
  });
});

describe('security rules on the registration interface', () => {
  let env: ServerEnv;
  let secureSocket: IdentitySocket;
  let securePort: number;
  const store = new InMemorySecurityStore([
    { endpoint: 'sec-1', identity: 'id-1', key: Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex') },
    { endpoint: 'sec-2', identity: 'id-2', key: Buffer.from('0f0e', 'hex') },
  ]);

  before(async () => {
    env = await startServer({ securityStore: store });
    secureSocket = await IdentitySocket.open();
    securePort = secureSocket.address().port;
    const name = env.server.addEndpoint(new UdpCoapEndpoint(secureSocket, { ackTimeoutMs: 200, maxRetransmit: 1 }), { secure: true });
    assert.equal(name, 'coaps');
  });
  after(async () => {
    await env.close();
  });

  async function secureDevice(ep: string, identity: string | undefined): Promise<RawDevice> {
    const d = await RawDevice.create({ endpoint: ep, serverPort: securePort });
    if (identity !== undefined) secureSocket.identities.set(d.port, identity);
    return d;
  }

  test('a device registers over the secure endpoint with its own identity: psk mode, requests go back through it', async () => {
    const d = await secureDevice('sec-1', 'id-1');
    try {
      d.on('GET', '/3/0/0', { code: '2.05', format: 0, payload: 'secure' });
      assert.equal((await d.register(['lt=60', 'lwm2m=1.1'])).code, '2.01');
      const reg = env.server.getRegistration('sec-1')!;
      assert.equal(reg.security, 'psk');
      assert.equal(reg.identity, 'id-1');
      assert.equal(reg.secure, true);
      assert.equal(reg.transport, 'coaps');
      assert.equal((await env.server.read('sec-1', '/3/0/0')).value, 'secure');
      assert.equal(d.received.length, 1);
      // Update from the same session: fine; from plain UDP with the same location: 4.03
      assert.equal((await d.update()).code, '2.04');
      const plain = await env.device('sec-1');
      plain.location = d.location;
      const ev = nextEvent<[SecurityViolationEvent]>(env.server, 'securityViolation');
      assert.equal((await plain.update()).code, '4.03');
      assert.match((await ev)[0].reason, /another security context/);
      assert.equal((await plain.deregister()).code, '4.03');
      assert.equal((await d.deregister()).code, '2.02');
    } finally {
      await d.close();
    }
  });

  test('an identity registering another endpoint -> 4.03 and a securityViolation event', async () => {
    const d = await secureDevice('sec-2', 'id-1');
    try {
      const ev = nextEvent<[SecurityViolationEvent]>(env.server, 'securityViolation');
      const res = await d.register(['lt=60']);
      assert.equal(res.code, '4.03');
      const [v] = await ev;
      assert.equal(v.endpoint, 'sec-2');
      assert.equal(v.identity, 'id-1');
      assert.equal(v.port, d.port);
      assert.match(v.reason, /belongs to endpoint sec-1, not sec-2/);
      assert.equal(env.server.getRegistration('sec-2'), undefined);
    } finally {
      await d.close();
    }
  });

  test('an unknown identity -> 4.03', async () => {
    const d = await secureDevice('sec-3', 'who-knows');
    try {
      assert.equal((await d.register(['lt=60'])).code, '4.03');
    } finally {
      await d.close();
    }
  });

  test('an endpoint with credentials may not register without security; others may', async () => {
    const plain = await env.device('sec-2');
    const ev = nextEvent<[SecurityViolationEvent]>(env.server, 'securityViolation');
    assert.equal((await plain.register(['lt=60'])).code, '4.03');
    assert.match((await ev)[0].reason, /must register over DTLS/);
    const open = await env.device('nosec-1');
    assert.equal((await open.register(['lt=60'])).code, '2.01');
    assert.equal(env.server.getRegistration('nosec-1')!.security, 'nosec');
    // credentials added at run time apply to the next Register
    store.add({ endpoint: 'nosec-1', identity: 'id-n', key: Buffer.from('aa', 'hex') });
    assert.equal((await open.register(['lt=60'])).code, '4.03');
    store.remove('nosec-1');
    assert.equal((await open.register(['lt=60'])).code, '2.01');
  });

  test('Send from a secure device with another identity on the same address -> 4.03', async () => {
    const d = await secureDevice('sec-1', 'id-1');
    try {
      assert.equal((await d.register(['lt=60', 'lwm2m=1.1'])).code, '2.01');
      secureSocket.identities.set(d.port, 'id-2');
      assert.equal((await d.send(JSON.stringify([{ n: '/3/0/9', v: 1 }]), 110)).code, '4.03');
      secureSocket.identities.set(d.port, 'id-1');
      assert.equal((await d.send(JSON.stringify([{ n: '/3/0/9', v: 1 }]), 110)).code, '2.04');
    } finally {
      await d.close();
    }
  });
});
