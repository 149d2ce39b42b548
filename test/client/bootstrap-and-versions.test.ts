/**
 * Client-initiated bootstrap against our Bootstrap-Server (src/bootstrap), then registration with our server; and the
 * version fallback against a server that refuses newer versions.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { BootstrapServer, InMemoryBootstrapConfigStore } from '../../src/bootstrap';
import { createUdpEndpoint } from '../../src/coap/endpoint';
import { Lwm2mClient } from '../../src/client';
import { startServer, waitFor } from './helpers';

async function startBootstrap(lwm2mPort: number, extra: Record<string, unknown> = {}) {
  const store = new InMemoryBootstrapConfigStore({
    '*': { deleteFirst: true, servers: [{ uri: `coap://127.0.0.1:${lwm2mPort}`, shortServerId: 101, lifetime: 120 }], ...extra },
  } as never);
  const bs = new BootstrapServer({ address: '127.0.0.1', port: 0, configStore: store });
  await bs.start();
  return bs;
}

describe('bootstrap', () => {
  for (const variant of [
    { name: 'Bootstrap-Request (1.1)', version: '1.1' as const, pack: false },
    { name: 'Bootstrap-Request (1.0)', version: '1.0' as const, pack: false },
    { name: 'Bootstrap-Pack-Request (1.2)', version: '1.2' as const, pack: true },
  ]) {
    test(`${variant.name}, then Register with the server it was given`, async () => {
      const server = await startServer();
      const bs = await startBootstrap(server.address().port);
      const client = new Lwm2mClient({
        endpoint: `bs-${variant.version}-${process.pid}`, version: variant.version, localAddress: '127.0.0.1',
        bootstrap: { uri: `coap://127.0.0.1:${bs.address().port}`, pack: variant.pack },
      });
      const states: string[] = [];
      client.on('state', (s) => states.push(s));
      const finished = new Promise<{ pack: boolean }>((resolve) => bs.once('finished', (e) => resolve(e)));
      try {
        await client.start();
        await client.whenRegistered(10_000);
        assert.equal((await finished).pack, variant.pack);
        assert.deepEqual(states.slice(0, 3), ['bootstrapping', 'registering', 'registered']);
        assert.deepEqual(client.serverAccounts().map((a) => a.ssid), [101]);
        assert.equal(client.get('/1/0/1') ?? client.get('/1/1/1'), 120);
        const reg = server.getRegistration(client.endpointName)!;
        assert.equal(reg.version, variant.version);
        assert.equal(reg.lifetime, 120);
        // the Bootstrap-Server account is still there (Bootstrap-Delete keeps it)
        assert.equal(client.bootstrapInstance() !== undefined, true);
      } finally {
        await client.stop();
        await bs.close();
        await server.close();
      }
    });
  }

  test('two server accounts: the client registers with both and answers each', async () => {
    const a = await startServer();
    const b = await startServer();
    const store = new InMemoryBootstrapConfigStore({
      '*': { deleteFirst: true, servers: [
        { uri: `coap://127.0.0.1:${a.address().port}`, shortServerId: 1, lifetime: 100 },
        { uri: `coap://127.0.0.1:${b.address().port}`, shortServerId: 2, lifetime: 200 },
      ] },
    } as never);
    const bs = new BootstrapServer({ address: '127.0.0.1', port: 0, configStore: store });
    await bs.start();
    const client = new Lwm2mClient({ endpoint: 'two-servers', localAddress: '127.0.0.1', bootstrap: { uri: `coap://127.0.0.1:${bs.address().port}` } });
    try {
      await client.start();
      await waitFor(() => client.servers.length === 2 && client.servers.every((s) => s.state === 'registered'), 10_000, 'both registrations');
      assert.equal(a.getRegistration('two-servers')!.lifetime, 100);
      assert.equal(b.getRegistration('two-servers')!.lifetime, 200);
      await a.writeAttributes('two-servers', '/3/0', { pmax: 50 });
      // attributes belong to the server that wrote them
      assert.match(JSON.stringify(await a.discover('two-servers', '/3/0')), /pmax/);
      assert.doesNotMatch(JSON.stringify(await b.discover('two-servers', '/3/0')), /pmax/);
      assert.equal((await b.read('two-servers', '/1')).code, '2.05');
    } finally {
      await client.stop();
      await bs.close();
      await a.close();
      await b.close();
    }
  });

  test('no answer from the Bootstrap-Server: error state, retry scheduled, stop() ends it', async () => {
    const client = new Lwm2mClient({
      endpoint: 'bs-nobody', localAddress: '127.0.0.1', bootstrap: { uri: 'coap://127.0.0.1:9' },
      requestTimeoutMs: 300, coap: { ackTimeoutMs: 50, maxRetransmit: 1 }, retryInitialMs: 60_000,
    });
    const retries: unknown[] = [];
    client.on('retry', (r) => retries.push(r));
    client.on('error', () => undefined);
    await client.start();
    await waitFor(() => retries.length === 1, 3000, 'retry');
    assert.equal(client.state, 'error');
    await client.stop();
    assert.equal(client.state, 'stopped');
  });
});

describe('version fallback', () => {
  test('1.2 refused with 4.12, 1.1 with 4.00: registers as 1.0', async () => {
    const fake = await createUdpEndpoint({ address: '127.0.0.1', port: 0 });
    const seen: string[] = [];
    fake.setRequestHandler((req) => {
      if (req.method === 'POST' && req.path[0] === 'rd' && req.path.length === 1) {
        const v = req.query.find((q) => q.startsWith('lwm2m='))!.slice(6);
        seen.push(v);
        if (v === '1.2') return { code: '4.12' };
        if (v === '1.1') return { code: '4.00' };
        return { code: '2.01', locationPath: ['rd', 'x'] };
      }
      if (req.method === 'DELETE') return { code: '2.02' };
      return { code: '4.04' };
    });
    const client = new Lwm2mClient({ endpoint: 'old-school', version: '1.2', serverUri: `coap://127.0.0.1:${fake.address().port}`, localAddress: '127.0.0.1' });
    const fallbacks: unknown[] = [];
    client.on('version-fallback', (e) => fallbacks.push(e));
    try {
      await client.start();
      await client.whenRegistered(5000);
      // 1.1 is tried with its full ct list, then with one format (a server may take no list), then 1.0
      assert.deepEqual(seen, ['1.2', '1.1', '1.1', '1.0']);
      assert.equal(client.servers[0].version, '1.0');
      assert.equal(fallbacks.length, 2);
    } finally {
      await client.stop();
      await fake.close();
    }
  });

  test('no fallback when disabled: the refusal is an error', async () => {
    const fake = await createUdpEndpoint({ address: '127.0.0.1', port: 0 });
    fake.setRequestHandler(() => ({ code: '4.12' }));
    const client = new Lwm2mClient({ endpoint: 'strict', version: '1.2', versionFallback: false, retryInitialMs: 60_000,
      serverUri: `coap://127.0.0.1:${fake.address().port}`, localAddress: '127.0.0.1' });
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    try {
      await client.start();
      await waitFor(() => errors.length === 1, 3000, 'error');
      assert.match(errors[0].message, /4\.12/);
      assert.equal(client.state, 'error');
    } finally {
      await client.stop();
      await fake.close();
    }
  });
});
