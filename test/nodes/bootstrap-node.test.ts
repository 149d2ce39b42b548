/**
 * lwm2m-bootstrap (OMA TS Core 1.1 6.1, client-initiated bootstrap). Table mode: the `*` row gives each device a PSK
 * account on the server node's DTLS endpoint with a generated key (handed to the server node's security store), or the
 * key entered in the credentials; our client and the lwm2m-client node in bootstrap mode then register over DTLS.
 * Flow mode: a `request` message per Bootstrap-Request, answered by sending it back with a configuration; no answer
 * within the timeout, or a null answer, gives a `failed` message.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import type { BootstrapServer } from '../../src/bootstrap';
import type { Lwm2mClient } from '../../src/client';
import type { NodeMessage } from '../../nodes/lib/red';
import {
  helper, load, deploy, serverConfig, serverNodeOf, startDevice, nextMessage, messages, nextError, waitFor, spyNodes,
  FlowNode, TestNode, closeAll, endpointName, clientNodeOf, freeUdpPort, canBind,
} from './helper';

const n = (id: string) => helper.getNode(id) as TestNode;

async function bootstrapPort(id: string): Promise<number> {
  let port = 0;
  await waitFor(() => {
    const bs = (helper.getNode(id) as unknown as { bootstrapServer?: BootstrapServer }).bootstrapServer;
    try {
      port = bs?.address().port ?? 0;
    } catch {
      port = 0;
    }
    return port > 0;
  }, 5000, 'the bootstrap server to listen');
  return port;
}

/** The Security object instance (/0/x) of the client that holds `uri`, as { identity, key }. */
function securityFor(client: Lwm2mClient, uri: string): { identity: string; key: string } | undefined {
  for (let i = 0; i < 10; i++) {
    if (client.get(`/0/${i}/0`) !== uri) continue;
    return { identity: String(client.get(`/0/${i}/3`)), key: (client.get(`/0/${i}/5`) as Buffer).toString('hex') };
  }
  return undefined;
}

describe('bootstrap node, table mode, PSK over DTLS', () => {
  const keyed = endpointName('keyed');
  const key = '11223344556677889900aabbccddeeff';
  let base: FlowNode[];
  let coapsUri: string;
  const clients: Lwm2mClient[] = [];

  before(async () => {
    base = [
      { id: 'tab', type: 'tab' },
      serverConfig('srv', { dtls: true, dtlsPort: 0 }),
      { id: 'ev', type: 'lwm2m-events', z: 'tab', server: 'srv', events: ['registered'], wires: [['regOut']] },
      { id: 'regOut', type: 'helper', z: 'tab' },
      { id: 'bsOut', type: 'helper', z: 'tab' },
    ];
    await load(base);
    const srv = await serverNodeOf('srv');
    const dtls = srv.server.endpoints().find((e) => e.secure)!;
    coapsUri = `coaps://127.0.0.1:${dtls.address.port}`;
    // The DTLS port is known now: add the bootstrap node (a "nodes" deploy keeps the server running).
    base.push({
      id: 'bs', type: 'lwm2m-bootstrap', z: 'tab', address: '127.0.0.1', port: 0, server: 'srv', mode: 'table', deleteFirst: true,
      timeout: 5,
      table: [
        { endpoint: '*', uri: coapsUri, ssid: 1, lifetime: 300, binding: 'U', security: 'psk', identity: '' },
        { endpoint: keyed, uri: coapsUri, ssid: 1, lifetime: 120, binding: 'U', security: 'psk', identity: `${keyed}-identity` },
      ],
      wires: [['bsOut']],
    });
    await deploy(base, 'nodes', { bs: { keys: `${keyed}=${key}` } });
  });

  after(async () => {
    await closeAll(...clients);
    await helper.unload();
  });

  test('our client bootstraps, gets a generated PSK, registers with the server node over DTLS', async () => {
    const bsPort = await bootstrapPort('bs');
    const ep = endpointName('bs-dev');
    const finished = nextMessage(n('bsOut'), (m) => m.topic === 'finished' && m.endpoint === ep, 15000);
    const steps = messages(n('bsOut'), 1, (m) => m.topic === 'step' && m.endpoint === ep, 15000);
    const requested = nextMessage(n('bsOut'), (m) => m.topic === 'requested' && m.endpoint === ep, 15000);
    const registered = nextMessage(n('regOut'), (m) => m.endpoint === ep, 15000);
    const statuses = spyNodes('status');
    const client = await startDevice(0, { endpoint: ep, serverUri: undefined, bootstrap: { uri: `coap://127.0.0.1:${bsPort}` } }).catch((e) => {
      throw new Error(`bootstrap + register failed: ${(e as Error).message}`);
    });
    clients.push(client);
    const fin = await finished;
    const provisioned = (fin.payload as { servers: Array<Record<string, unknown>> }).servers;
    assert.equal(provisioned.length, 1);
    assert.ok(!JSON.stringify(fin.payload).includes('"key"'), 'no key in the finished message');
    assert.ok((await steps)[0]);
    assert.equal(((await requested).payload as { endpoint: string }).endpoint, ep, 'table mode reports each Bootstrap-Request');
    const reg = await registered;
    assert.equal((reg.payload as { security: string }).security, 'psk');
    assert.equal((reg.payload as { identity: string }).identity, ep, 'the identity defaults to the endpoint name');
    const sec = securityFor(client, coapsUri);
    assert.ok(sec, 'the client holds the coaps account');
    assert.equal(sec.key.length, 32, 'a 16-byte generated key');
    try {
      // While the session runs: "1 bootstrapping"; once it finished: "listening" again.
      await waitFor(() => statuses.texts('bs').at(-1) === 'listening', 5000, 'the listening status');
      assert.ok(statuses.texts('bs').includes('1 bootstrapping'), statuses.texts('bs').join(', '));
    } finally {
      statuses.restore();
    }
  });

  test('the key entered in the credentials and the row\'s identity are used for that endpoint', async () => {
    const bsPort = await bootstrapPort('bs');
    const registered = nextMessage(n('regOut'), (m) => m.endpoint === keyed, 15000);
    const client = await startDevice(0, { endpoint: keyed, serverUri: undefined, bootstrap: { uri: `coap://127.0.0.1:${bsPort}` } });
    clients.push(client);
    const reg = await registered;
    assert.equal((reg.payload as { identity: string }).identity, `${keyed}-identity`);
    assert.equal((reg.payload as { lifetime: number }).lifetime, 120);
    assert.deepEqual(securityFor(client, coapsUri), { identity: `${keyed}-identity`, key });
  });

  test('the lwm2m-client node in bootstrap mode bootstraps and registers', async () => {
    const bsPort = await bootstrapPort('bs');
    const ep = endpointName('nr-bs');
    const registered = nextMessage(n('regOut'), (m) => m.endpoint === ep, 15000);
    await deploy([
      ...base,
      { id: 'cli', type: 'lwm2m-client', endpoint: ep, bootstrap: true, bootstrapUri: `coap://127.0.0.1:${bsPort}`, security: 'none', lifetime: 60 },
      { id: 'set', type: 'lwm2m-client-set', z: 'tab', client: 'cli', wires: [] },
    ], 'nodes', { bs: { keys: `${keyed}=${key}` } });
    const reg = await registered;
    assert.equal((reg.payload as { security: string }).security, 'psk');
    await waitFor(() => clientNodeOf('cli').clientStatus().text === 'registered', 10000);
  });
});

describe('bootstrap node, flow mode', () => {
  const clients: Lwm2mClient[] = [];
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab' },
    serverConfig('srv'),
    { id: 'ev', type: 'lwm2m-events', z: 'tab', server: 'srv', events: ['registered'], wires: [['regOut']] },
    { id: 'bs', type: 'lwm2m-bootstrap', z: 'tab', address: '127.0.0.1', port: 0, mode: 'flow', timeout: 1, wires: [['bsOut']] },
    { id: 'regOut', type: 'helper', z: 'tab' },
    { id: 'bsOut', type: 'helper', z: 'tab' },
  ];
  before(() => load(flow));
  after(async () => {
    await closeAll(...clients);
    await helper.unload();
  });

  async function bootstrapping(ep: string): Promise<{ client: Lwm2mClient; request: NodeMessage }> {
    const bsPort = await bootstrapPort('bs');
    const request = nextMessage(n('bsOut'), (m) => m.topic === 'request' && m.endpoint === ep, 10000);
    const { Lwm2mClient: Client } = await import('../../src/client');
    const client = new Client({ endpoint: ep, localAddress: '127.0.0.1', bootstrap: { uri: `coap://127.0.0.1:${bsPort}` }, retryInitialMs: 60_000 });
    client.on('error', () => undefined);
    clients.push(client);
    await client.start();
    return { client, request: await request };
  }

  test('the flow answers the request message with a configuration: the device registers with the server node', async () => {
    const ep = endpointName('flow-bs');
    const { client, request } = await bootstrapping(ep);
    assert.equal(typeof request.lwm2mBootstrap, 'string');
    assert.equal((request.payload as { endpoint: string }).endpoint, ep);
    const port = (await serverNodeOf('srv')).server.address().port;
    const registered = nextMessage(n('regOut'), (m) => m.endpoint === ep, 15000);
    const finished = nextMessage(n('bsOut'), (m) => m.topic === 'finished' && m.endpoint === ep, 15000);
    n('bs').receive({ ...request, payload: { servers: [{ uri: `coap://127.0.0.1:${port}`, shortServerId: 3, lifetime: 77 }] } });
    await finished;
    const reg = await registered;
    assert.equal((reg.payload as { lifetime: number }).lifetime, 77);
    await client.whenRegistered(5000);
  });

  test('no answer within the timeout: a failed message naming the endpoint', async () => {
    const ep = endpointName('silent');
    const failed = nextMessage(n('bsOut'), (m) => m.topic === 'failed' && m.endpoint === ep, 15000);
    const { client } = await bootstrapping(ep);
    const f = await failed;
    assert.match((f.payload as { error: string }).error, /no configuration within 1000 ms \(provider did not answer\)/);
    assert.equal((f.payload as { step: string }).step, 'config');
    await client.stop();
  });

  test('a null answer refuses the device', async () => {
    const ep = endpointName('refused');
    const failed = nextMessage(n('bsOut'), (m) => m.topic === 'failed' && m.endpoint === ep, 15000);
    const { client, request } = await bootstrapping(ep);
    n('bs').receive({ ...request, payload: null });
    assert.ok(await failed);
    await client.stop();
  });

  test('answers that cannot be used reach done(err)', async () => {
    const e1 = nextError(n('bs'));
    n('bs').receive({ payload: { servers: [] } });
    assert.match((await e1).error.message, /no Bootstrap-Request waits for this answer/);

    const ep = endpointName('badcfg');
    const failed = nextMessage(n('bsOut'), (m) => m.topic === 'failed' && m.endpoint === ep, 15000);
    const { client, request } = await bootstrapping(ep);
    const e2 = nextError(n('bs'));
    n('bs').receive({ ...request, payload: 'coap://somewhere' });
    assert.match((await e2).error.message, /the bootstrap configuration must be an object/);
    assert.ok(await failed, 'the device is refused');
    await client.stop();
  });
});

describe('bootstrap node, redeploy and a port in use', () => {
  after(() => helper.unload());

  test('a fixed port, deployed three times: each bootstrap server listens, the port is free after unload', async () => {
    const port = await freeUdpPort();
    const flow = (name: string): FlowNode[] => [
      { id: 'tab', type: 'tab' },
      { id: 'bs', type: 'lwm2m-bootstrap', z: 'tab', name, address: '127.0.0.1', port, mode: 'table', table: [], wires: [[]] },
    ];
    const errors = spyNodes('error');
    try {
      await load(flow('first'));
      assert.equal(await bootstrapPort('bs'), port);
      for (const name of ['second', 'third']) {
        const before1 = helper.getNode('bs');
        await deploy(flow(name), 'full');
        assert.notEqual(helper.getNode('bs'), before1);
        assert.equal(await bootstrapPort('bs'), port);
      }
      assert.deepEqual(errors.texts('bs'), []);
    } finally {
      errors.restore();
    }
    await helper.unload();
    assert.ok(await canBind(port), 'the bootstrap port is free after unload');
  });

  test('a port in use: red status and an error', async () => {
    const port = await freeUdpPort();
    const blocker = dgram.createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(port, '127.0.0.1', () => r()));
    const errors = spyNodes('error');
    const statuses = spyNodes('status');
    try {
      await load([
        { id: 'tab', type: 'tab' },
        { id: 'bs', type: 'lwm2m-bootstrap', z: 'tab', address: '127.0.0.1', port, mode: 'table', table: [], wires: [[]] },
      ]);
      await waitFor(() => statuses.texts('bs').includes(`port ${port} in use`), 5000, 'the red status');
      assert.ok(errors.texts('bs').some((t) => /LwM2M bootstrap server cannot listen/.test(t) && /EADDRINUSE/.test(t)), errors.texts().join('; '));
    } finally {
      errors.restore();
      statuses.restore();
      await helper.unload();
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  test('keys that are not hex: an error naming the endpoint', async () => {
    const errors = spyNodes('error');
    try {
      await load([
        { id: 'tab', type: 'tab' },
        { id: 'bs', type: 'lwm2m-bootstrap', z: 'tab', address: '127.0.0.1', port: 0, mode: 'table', table: [], wires: [[]] },
      ], { bs: { keys: 'dev-a=0011, dev-b=xyz' } });
    } finally {
      errors.restore();
    }
    assert.ok(errors.texts('bs').some((t) => t === 'PSK keys: the key of dev-b is not hex'), errors.texts().join('; '));
    await helper.unload();
  });
});
