/**
 * End to end on loopback: our embedded client (src/client) bootstraps from our bootstrap server, then registers with our
 * LwM2M server (src/server): LwM2M 1.0, 1.1 and 1.2 (Bootstrap-Request and Bootstrap-Pack), NoSec, and PSK over DTLS
 * (src/dtls) both towards the LwM2M server (credentials provisioned by the bootstrap server into the server's security
 * store) and towards the bootstrap server itself.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { BootstrapServer, FailedEvent, FinishedEvent } from '../../src/bootstrap/bootstrap-server';
import { BootstrapConfig, InMemoryBootstrapConfigStore } from '../../src/bootstrap/config';
import { Lwm2mServer, InMemorySecurityStore, Registration } from '../../src/server';
import { Lwm2mClient } from '../../src/client';
import { UdpCoapEndpoint } from '../../src/coap/endpoint';
import { DatagramSocket } from '../../src/coap/types';
import { createDtlsServer, DtlsServer, MemoryPskStore } from '../../src/dtls';
import { Lwm2mPath } from '../../src/model/path';

let seq = 0;
type Closer = () => Promise<void>;

async function lwm2mServer(secure: boolean): Promise<{ server: Lwm2mServer; uri: string; store: InMemorySecurityStore; close: Closer }> {
  const store = new InMemorySecurityStore();
  const server = new Lwm2mServer({ address: '127.0.0.1', port: 0, securityStore: store });
  let dtls: DtlsServer | undefined;
  if (secure) {
    dtls = createDtlsServer({ address: '127.0.0.1', port: 0, pskStore: store });
    await dtls.whenListening();
    server.addEndpoint(new UdpCoapEndpoint(dtls as unknown as DatagramSocket), { secure: true });
  }
  await server.start();
  const uri = secure ? `coaps://127.0.0.1:${dtls!.address().port}` : `coap://127.0.0.1:${server.address().port}`;
  return { server, uri, store, close: () => server.close() };
}

function outcome(bs: BootstrapServer): Promise<FinishedEvent> {
  return new Promise((resolve, reject) => {
    bs.once('finished', resolve);
    bs.once('failed', (e: FailedEvent) => reject(e.error));
  });
}

function registered(server: Lwm2mServer, ep: string): Promise<Registration> {
  return new Promise((resolve) => {
    const on = (reg: Registration): void => {
      if (reg.endpoint !== ep) return;
      server.off('registered', on);
      resolve(reg);
    };
    server.on('registered', on);
  });
}

async function run(opts: { version: '1.0' | '1.1' | '1.2'; pack?: boolean; secureServer?: boolean }): Promise<void> {
  const ep = `bs-e2e-${process.pid}-${++seq}`;
  const closers: Closer[] = [];
  try {
    const lw = await lwm2mServer(opts.secureServer === true);
    closers.push(lw.close);
    const key = Buffer.from('1122334455667788', 'hex');
    const config: BootstrapConfig = {
      deleteFirst: true,
      servers: [opts.secureServer
        ? { uri: lw.uri, shortServerId: 101, lifetime: 60, identity: `${ep}-psk`, key }
        : { uri: lw.uri, shortServerId: 101, lifetime: 60 }],
      writes: [{ path: '/2/0', value: { 0: 3, 1: 0, 2: { 101: 15 }, 3: 101 } }],
    };
    const bs = new BootstrapServer({
      address: '127.0.0.1', port: 0, configStore: new InMemoryBootstrapConfigStore({ '*': config }), securityStore: lw.store,
    });
    await bs.start();
    closers.unshift(() => bs.close());
    const done = outcome(bs);
    const reg = registered(lw.server, ep);
    const client = new Lwm2mClient({
      endpoint: ep, version: opts.version, localAddress: '127.0.0.1', connectivity: false, firmware: false, location: false,
      bootstrap: { uri: `coap://127.0.0.1:${bs.address().port}`, pack: opts.pack === true },
    });
    closers.unshift(() => client.stop());
    await client.start();
    const fin = await done;
    assert.equal(fin.endpoint, ep);
    assert.equal(fin.pack, opts.pack === true);
    assert.equal(fin.version, opts.version);
    // TLV for 1.0 (Core 1.0.2 6.4), SenML CBOR for 1.1+ (the client's pct=112)
    assert.equal(fin.format, opts.version === '1.0' ? 11542 : 112);
    const r = await reg;
    await client.whenRegistered(10_000);
    assert.equal(r.version, opts.version);
    assert.equal(r.lifetime, 60);
    assert.equal(r.security, opts.secureServer ? 'psk' : 'nosec');
    if (opts.secureServer) assert.equal(r.identity, `${ep}-psk`);
    // what the bootstrap server wrote is in the client's tree: our account, next to the kept bootstrap account
    assert.equal(client.servers.length, 1);
    assert.equal(client.servers[0].ssid, 101);
    assert.equal(client.servers[0].uri, lw.uri);
    assert.equal(client.get(new Lwm2mPath([2, 0, 3])), 101);
    assert.deepEqual(bs.sessions(), []);
  } finally {
    for (const c of closers) await c().catch(() => undefined);
  }
}

describe('our client bootstraps from our bootstrap server, then registers with our server', () => {
  test('LwM2M 1.0 (TLV), NoSec', () => run({ version: '1.0' }));
  test('LwM2M 1.1 (SenML CBOR), NoSec', () => run({ version: '1.1' }));
  test('LwM2M 1.2 Bootstrap-Request, NoSec', () => run({ version: '1.2' }));
  test('LwM2M 1.2 Bootstrap-Pack, NoSec', () => run({ version: '1.2', pack: true }));
  test('LwM2M 1.1, PSK over DTLS to the LwM2M server (credentials handed to its security store)', () => run({ version: '1.1', secureServer: true }));
  test('LwM2M 1.2 Bootstrap-Pack, PSK over DTLS to the LwM2M server', () => run({ version: '1.2', pack: true, secureServer: true }));
  test('LwM2M 1.0, PSK over DTLS to the LwM2M server', () => run({ version: '1.0', secureServer: true }));

  test('bootstrap itself over DTLS (coaps), with the Bootstrap-Request identity checked', async () => {
    const ep = `bs-e2e-dtls-${process.pid}-${++seq}`;
    const closers: Closer[] = [];
    try {
      const lw = await lwm2mServer(false);
      closers.push(lw.close);
      const bsKey = Buffer.from('a1a2a3a4a5a6a7a8', 'hex');
      const dtls = createDtlsServer({ address: '127.0.0.1', port: 0, pskStore: new MemoryPskStore({ 'bs-identity': bsKey }) });
      await dtls.whenListening();
      const bs = new BootstrapServer({
        listen: false,
        configStore: new InMemoryBootstrapConfigStore({ [ep]: { bootstrapIdentity: 'bs-identity', servers: [{ uri: lw.uri, shortServerId: 7 }] } }),
      });
      bs.addEndpoint(new UdpCoapEndpoint(dtls as unknown as DatagramSocket), { secure: true });
      await bs.start();
      closers.unshift(() => bs.close());
      const requests: Array<{ secure: boolean; identity?: string }> = [];
      bs.on('bootstrapRequest', (e) => requests.push({ secure: e.secure, identity: e.identity }));
      const done = outcome(bs);
      const reg = registered(lw.server, ep);
      const client = new Lwm2mClient({
        endpoint: ep, version: '1.1', localAddress: '127.0.0.1', connectivity: false, firmware: false, location: false,
        bootstrap: { uri: `coaps://127.0.0.1:${dtls.address().port}`, identity: 'bs-identity', key: bsKey },
      });
      closers.unshift(() => client.stop());
      await client.start();
      await done;
      assert.deepEqual(requests, [{ secure: true, identity: 'bs-identity' }]);
      assert.equal((await reg).endpoint, ep);
    } finally {
      for (const c of closers) await c().catch(() => undefined);
    }
  });

  /**
   * Our client with a factory server account at /0/0 and its Bootstrap-Server account at /0/1 (`serverUri` plus
   * `bootstrap.always`): the account at /0/1 is untouched, the server accounts land elsewhere, and the client bootstraps
   * again after a restart (issue 11 item 13).
   */
  async function accountAtOne(opts: { version: '1.1' | '1.2'; pack?: boolean }): Promise<void> {
    const ep = `bs-e2e-at1-${process.pid}-${++seq}`;
    const closers: Closer[] = [];
    try {
      const lw = await lwm2mServer(false);
      closers.push(lw.close);
      const bs = new BootstrapServer({
        address: '127.0.0.1', port: 0,
        configStore: new InMemoryBootstrapConfigStore({ [ep]: { deleteFirst: true, servers: [{ uri: lw.uri, shortServerId: 101, lifetime: 60 }] } }),
      });
      await bs.start();
      closers.unshift(() => bs.close());
      const bsUri = `coap://127.0.0.1:${bs.address().port}`;
      const client = new Lwm2mClient({
        endpoint: ep, version: opts.version, localAddress: '127.0.0.1', connectivity: false, firmware: false, location: false,
        serverUri: lw.uri, ssid: 9, lifetime: 60,
        bootstrap: { uri: bsUri, always: true, pack: opts.pack === true },
      });
      closers.unshift(() => client.stop());
      assert.equal(client.get(new Lwm2mPath([0, 1, 1])), true, 'the client keeps its Bootstrap-Server account at /0/1');
      for (let round = 1; round <= 2; round++) {
        const done = outcome(bs);
        const reg = registered(lw.server, ep);
        await client.start();
        const fin = await done;
        await reg;
        await client.whenRegistered(10_000);
        // the account at /0/1 is the one the client was configured with
        assert.equal(client.get(new Lwm2mPath([0, 1, 0])), bsUri);
        assert.equal(client.get(new Lwm2mPath([0, 1, 1])), true);
        assert.equal(client.servers.length, 1);
        assert.equal(client.servers[0].ssid, 101);
        assert.notEqual(client.servers[0].securityInstance, 1);
        assert.ok(!fin.servers.some((s) => s.securityInstance === 1));
        if (opts.pack) {
          // no Bootstrap-Discover in a Bootstrap-Pack exchange: /0/0 and /0/1 kept clear, and the result says why
          assert.equal(fin.bootstrapInstanceSource, 'assumed');
          assert.deepEqual(fin.servers.map((s) => s.securityInstance), [2]);
          assert.equal(fin.warnings.length, 1);
        } else {
          assert.equal(fin.bootstrapInstance, 1);
          assert.equal(fin.bootstrapInstanceSource, 'discover');
          assert.deepEqual(fin.servers.map((s) => s.securityInstance), [0]);
          assert.deepEqual(fin.warnings, []);
        }
        await client.stop();
      }
    } finally {
      for (const c of closers) await c().catch(() => undefined);
    }
  }

  test('our 1.1 client keeping its Bootstrap-Server account at /0/1 keeps it through two bootstraps', () => accountAtOne({ version: '1.1' }));
  test('our 1.2 client keeping it at /0/1 keeps it through two Bootstrap-Packs (with a warning in the result)', () => accountAtOne({ version: '1.2', pack: true }));
});

