/**
 * The bootstrap server against a raw device (node:dgram + coap-packet): exact request sequence, payloads decoded by
 * hand (TLV reader in raw-bs-device.ts, cbor-x for SenML CBOR, JSON.parse for SenML JSON), error paths.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import { decode as cborDecode } from 'cbor-x';
import { BootstrapServer, BootstrapServerOptions, FailedEvent, FinishedEvent } from '../../src/bootstrap/bootstrap-server';
import { BootstrapConfig, InMemoryBootstrapConfigStore } from '../../src/bootstrap/config';
import { BootstrapConfigError, NoBootstrapConfigError } from '../../src/bootstrap/errors';
import { StepEvent } from '../../src/bootstrap/session';
import { InMemorySecurityStore } from '../../src/server/security-store';
import { CancelledError, TimeoutError } from '../../src/errors';
import { DevAnswer, DevRequest, RawBootstrapDevice, readTlv, senmlByName, tlvInt } from './raw-bs-device';

const LWM2M_SERVER = 'coap://127.0.0.1:5683';
const open: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const o of open.splice(0)) await o.close();
});

interface Rig {
  bs: BootstrapServer;
  dev: RawBootstrapDevice;
  steps: StepEvent[];
  finished: FinishedEvent[];
  failed: FailedEvent[];
  requests: unknown[];
  done(): Promise<FinishedEvent | FailedEvent>;
}

async function rig(config: BootstrapConfig | undefined, opts: Partial<BootstrapServerOptions> = {}, endpoint = 'dev-1'): Promise<Rig> {
  const configStore = new InMemoryBootstrapConfigStore();
  if (config) configStore.set(endpoint, config);
  const bs = new BootstrapServer({ address: '127.0.0.1', port: 0, configStore, ...opts });
  await bs.start();
  open.push(bs);
  const dev = await RawBootstrapDevice.create(endpoint, bs.address().port);
  open.push(dev);
  const r: Rig = {
    bs, dev, steps: [], finished: [], failed: [], requests: [],
    done: () => new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('bootstrap session did not end')), 10_000);
      const end = (e: FinishedEvent | FailedEvent): void => { clearTimeout(t); resolve(e); };
      bs.once('finished', end);
      bs.once('failed', end);
    }),
  };
  bs.on('step', (e) => r.steps.push(e));
  bs.on('finished', (e) => r.finished.push(e));
  bs.on('failed', (e) => r.failed.push(e));
  bs.on('bootstrapRequest', (e) => r.requests.push(e));
  return r;
}

/** A well-behaved device: Bootstrap-Discover answers `discover`, everything else succeeds. `over` may answer first. */
function device(discover: string | null, over?: (req: DevRequest) => DevAnswer | null | undefined) {
  return (req: DevRequest): DevAnswer | null => {
    const o = over?.(req);
    if (o !== undefined) return o;
    if (req.method === 'GET' && req.path === '/') return discover === null ? { code: '4.04' } : { code: '2.05', format: 40, payload: discover };
    if (req.method === 'DELETE') return { code: '2.02' };
    if (req.method === 'PUT') return { code: '2.04' };
    if (req.method === 'POST' && req.path === '/bs') return { code: '2.04' };
    return { code: '4.04' };
  };
}

function seq(dev: RawBootstrapDevice): string[] {
  return dev.received.map((r) => `${r.method} ${r.path}${r.contentFormat !== undefined ? ` cf=${r.contentFormat}` : ''}${r.accept !== undefined ? ` accept=${r.accept}` : ''}`);
}

/** SenML CBOR records decoded by cbor-x, with integer labels as string keys. */
function cborRecords(buf: Buffer): Array<Record<string, unknown>> {
  const raw = cborDecode(buf) as unknown[];
  assert.ok(Array.isArray(raw), 'a SenML CBOR pack is an array');
  return raw.map((r) => (r instanceof Map ? Object.fromEntries([...r.entries()].map(([k, v]) => [String(k), v])) : (r as Record<string, unknown>)));
}
const CBOR_LABELS = { bn: '-2', n: '0', v: '2', vs: '3', vb: '4', vd: '8', vlo: 'vlo' };
const JSON_LABELS = { bn: 'bn', n: 'n', v: 'v', vs: 'vs', vb: 'vb', vd: 'vd', vlo: 'vlo' };

const DISCOVER_11 = '</>;lwm2m=1.1,</0/0>;uri="coap://127.0.0.1:5685",</0/1>;ssid=5;uri="coap://old:5683",</1/0>;ssid=5,</3/0>';

describe('bootstrap sequence', () => {
  test('LwM2M 1.1 device: 2.04, Discover, Delete /0 /1, Write Security/Server/ACL in SenML CBOR, Finish', async () => {
    const r = await rig({
      deleteFirst: true,
      servers: [{ uri: LWM2M_SERVER, shortServerId: 101, lifetime: 300 }],
      writes: [{ path: '/2/0', value: { 0: 3, 1: 0, 2: { 101: 15 }, 3: 101 } }],
    });
    r.dev.handler = device(DISCOVER_11);
    const ended = r.done();
    const res = await r.dev.bootstrapRequest();
    assert.equal(res.code, '2.04');
    const end = await ended;
    assert.deepEqual(r.failed, []);
    assert.deepEqual(seq(r.dev), [
      'GET / accept=40',
      'DELETE /0',
      'DELETE /1',
      'PUT /0/1 cf=112',
      'PUT /1/0 cf=112',
      'PUT /2/0 cf=112',
      'POST /bs',
    ]);
    // Security instance 1: the account at /0/0 has no ssid in the Discover answer, so it is the Bootstrap-Server's.
    const sec = senmlByName(cborRecords(r.dev.received[3].payload), CBOR_LABELS);
    assert.equal(sec.get('/0/1/0'), LWM2M_SERVER);
    assert.equal(sec.get('/0/1/1'), false);
    assert.equal(sec.get('/0/1/2'), 3); // NoSec
    assert.equal(Buffer.from(sec.get('/0/1/3') as Uint8Array).length, 0);
    assert.equal(Buffer.from(sec.get('/0/1/5') as Uint8Array).length, 0);
    assert.equal(sec.get('/0/1/10'), 101);
    const srv = senmlByName(cborRecords(r.dev.received[4].payload), CBOR_LABELS);
    assert.deepEqual([...srv.entries()], [['/1/0/0', 101], ['/1/0/1', 300], ['/1/0/6', true], ['/1/0/7', 'U']]);
    const acl = senmlByName(cborRecords(r.dev.received[5].payload), CBOR_LABELS);
    assert.deepEqual([...acl.entries()], [['/2/0/0', 3], ['/2/0/1', 0], ['/2/0/2/101', 15], ['/2/0/3', 101]]);

    assert.ok('servers' in end);
    assert.equal(end.version, '1.1');
    assert.equal(end.pack, false);
    assert.equal(end.format, 112);
    assert.deepEqual(end.servers, [{ uri: LWM2M_SERVER, shortServerId: 101, securityMode: 'nosec', identity: undefined, securityInstance: 1, serverInstance: 0 }]);
    assert.deepEqual(r.steps.map((s) => `${s.step} ${s.path} ${s.code}`), [
      'discover / 2.05', 'delete /0 2.02', 'delete /1 2.02', 'write /0/1 2.04', 'write /1/0 2.04', 'write /2/0 2.04', 'finish /bs 2.04',
    ]);
    assert.deepEqual(r.requests, [{ endpoint: 'dev-1', address: '127.0.0.1', port: r.dev['socket'].address().port, secure: false, kind: 'request' }]);
    assert.deepEqual(r.bs.sessions(), []);
  });

  test('LwM2M 1.0 device without Bootstrap-Discover: TLV writes next to the account configured at /0/0', async () => {
    const r = await rig({ bootstrapAccountInstanceId: 0, servers: [{ uri: LWM2M_SERVER, shortServerId: 7, lifetime: 60, binding: 'UQ' }] });
    r.dev.handler = device(null);
    const ended = r.done();
    assert.equal((await r.dev.bootstrapRequest()).code, '2.04');
    const end = await ended;
    assert.ok('servers' in end, `failed: ${'error' in end ? end.error.message : ''}`);
    assert.equal(end.version, '1.0');
    assert.deepEqual(seq(r.dev), ['GET / accept=40', 'PUT /0/1 cf=11542', 'PUT /1/0 cf=11542', 'POST /bs']);
    const sec = readTlv(r.dev.received[1].payload);
    assert.equal((sec.get(0) as Buffer).toString(), LWM2M_SERVER);
    assert.deepEqual(sec.get(1), Buffer.from([0]));
    assert.equal(tlvInt(sec.get(2) as Buffer), 3);
    assert.equal((sec.get(3) as Buffer).length, 0);
    assert.equal((sec.get(4) as Buffer).length, 0);
    assert.equal((sec.get(5) as Buffer).length, 0);
    assert.equal(tlvInt(sec.get(10) as Buffer), 7);
    const srv = readTlv(r.dev.received[2].payload);
    assert.equal(tlvInt(srv.get(0) as Buffer), 7);
    assert.equal(tlvInt(srv.get(1) as Buffer), 60);
    assert.deepEqual(srv.get(6), Buffer.from([1]));
    assert.equal((srv.get(7) as Buffer).toString(), 'UQ');
    assert.deepEqual([...srv.keys()].sort((a, b) => a - b), [0, 1, 6, 7]);
  });

  test('the device\'s pct=110 makes the writes SenML JSON; PSK credentials go as identity bytes and key', async () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const r = await rig({ discover: false, bootstrapAccountInstanceId: 0, servers: [{ uri: 'coaps://127.0.0.1:5684', shortServerId: 1, identity: 'dev-1-id', key }] });
    r.dev.handler = device(null);
    const ended = r.done();
    assert.equal((await r.dev.bootstrapRequest(['pct=110'])).code, '2.04');
    await ended;
    assert.deepEqual(seq(r.dev), ['PUT /0/1 cf=110', 'PUT /1/0 cf=110', 'POST /bs']);
    const sec = senmlByName(JSON.parse(r.dev.received[0].payload.toString()), JSON_LABELS);
    assert.equal(sec.get('/0/1/2'), 0); // PSK
    assert.equal(Buffer.from(sec.get('/0/1/3') as string, 'base64url').toString(), 'dev-1-id');
    assert.deepEqual(Buffer.from(sec.get('/0/1/5') as string, 'base64url'), key);
    assert.equal(r.requests.length, 1);
    assert.equal((r.requests[0] as { version?: string }).version, '1.1');
    assert.equal((r.requests[0] as { preferredFormat?: number }).preferredFormat, 110);
  });

  test('a write refused with 4.15 goes again in the next format', async () => {
    const r = await rig({ servers: [{ uri: LWM2M_SERVER, shortServerId: 9 }] });
    r.dev.handler = device('</>;lwm2m=1.1,</0/0>', (req) => (req.method === 'PUT' && req.contentFormat === 112 ? { code: '4.15' } : undefined));
    const ended = r.done();
    await r.dev.bootstrapRequest();
    const end = await ended;
    assert.ok('servers' in end);
    assert.equal(end.format, 110);
    assert.deepEqual(seq(r.dev), ['GET / accept=40', 'PUT /0/1 cf=112', 'PUT /0/1 cf=110', 'PUT /1/0 cf=110', 'POST /bs']);
  });

  test('Bootstrap-Read (1.1) results are reported', async () => {
    const r = await rig({ reads: ['/1'], servers: [{ uri: LWM2M_SERVER, shortServerId: 101 }] });
    r.dev.handler = device('</>;lwm2m=1.1,</0/0>,</1/0>;ssid=5', (req) =>
      req.method === 'GET' && req.path === '/1'
        ? { code: '2.05', format: 110, payload: '[{"bn":"/1/0/","n":"0","v":5},{"n":"1","v":300}]' }
        : undefined);
    const ended = r.done();
    await r.dev.bootstrapRequest(['pct=110']);
    const end = await ended;
    assert.ok('reads' in end);
    assert.deepEqual(end.reads, { '/1': { 0: { 0: 5, 1: 300 } } });
    assert.equal(r.dev.received[1].accept, 110);
    // the existing account (ssid 5) is kept: ours goes to /1/1
    assert.deepEqual(end.servers.map((s) => s.serverInstance), [1]);
  });

  test('a Bootstrap-Server account at /0/2 is not written over', async () => {
    const r = await rig({ servers: [{ uri: LWM2M_SERVER, shortServerId: 1 }, { uri: 'coap://127.0.0.2:5683', shortServerId: 2 }, { uri: 'coap://127.0.0.3:5683', shortServerId: 3 }] });
    r.dev.handler = device('</>;lwm2m=1.1,</0/2>;uri="coap://bs"');
    const ended = r.done();
    await r.dev.bootstrapRequest();
    await ended;
    assert.deepEqual(r.dev.received.filter((q) => q.method === 'PUT').map((q) => q.path), ['/0/0', '/1/0', '/0/1', '/1/1', '/0/3', '/1/2']);
  });
});

describe('errors end the session with a clear report and leave nothing behind', () => {
  test('no configuration for the endpoint: 4.00 and a failed event', async () => {
    const r = await rig(undefined);
    const ended = r.done();
    const res = await r.dev.bootstrapRequest();
    assert.equal(res.code, '4.00');
    assert.match(res.payload.toString(), /no bootstrap configuration for dev-1/);
    const end = await ended;
    assert.ok('error' in end);
    assert.equal(end.step, 'config');
    assert.ok(end.error.cause instanceof NoBootstrapConfigError);
    assert.match(end.error.message, /"dev-1".*no bootstrap configuration/);
    assert.deepEqual(r.dev.received, []);
    assert.deepEqual(r.bs.sessions(), []);
  });

  test('a provider that does not answer in time: 5.03 and a failed event', async () => {
    const r = await rig(undefined, { configTimeoutMs: 200, configProvider: () => new Promise(() => undefined) });
    const ended = r.done();
    const res = await r.dev.bootstrapRequest();
    assert.equal(res.code, '5.03');
    const end = await ended;
    assert.ok('error' in end);
    assert.equal(end.step, 'config');
    assert.ok(end.error.cause instanceof TimeoutError);
    assert.match(end.error.message, /provider did not answer/);
    assert.deepEqual(r.bs.sessions(), []);
  });

  test('a provider answering an invalid configuration: 5.00 and a failed event naming the field', async () => {
    const r = await rig(undefined, { configProvider: () => ({ servers: [{ uri: 'coaps://x', shortServerId: 3 }] }) });
    const ended = r.done();
    const res = await r.dev.bootstrapRequest();
    assert.equal(res.code, '5.00');
    const end = await ended;
    assert.ok('error' in end);
    assert.ok(end.error.cause instanceof BootstrapConfigError);
    assert.equal((end.error.cause as BootstrapConfigError).field, 'servers[0].identity');
    assert.deepEqual(r.bs.sessions(), []);
  });

  test('a provider that throws: 5.00 and a failed event with its message', async () => {
    const r = await rig(undefined, { configProvider: () => { throw new Error('database down'); } });
    const ended = r.done();
    assert.equal((await r.dev.bootstrapRequest()).code, '5.00');
    const end = await ended;
    assert.ok('error' in end);
    assert.match(end.error.message, /database down/);
    assert.deepEqual(r.bs.sessions(), []);
  });

  test('maxSessions: a Bootstrap-Request beyond it gets 5.03', async () => {
    const r = await rig(undefined, { maxSessions: 1, configProvider: () => ({ servers: [{ uri: LWM2M_SERVER, shortServerId: 1 }] }) });
    r.dev.handler = () => null;
    await r.dev.bootstrapRequest();
    await r.dev.waitFor((q) => q.path === '/');
    const other = await RawBootstrapDevice.create('dev-2', r.bs.address().port);
    open.push(other);
    const res = await other.bootstrapRequest();
    assert.equal(res.code, '5.03');
    assert.match(res.payload.toString(), /too many/);
    assert.deepEqual(r.bs.sessions().map((s) => s.endpoint), ['dev-1']);
    assert.equal(r.bs.cancel('dev-1'), true);
    assert.deepEqual(r.bs.sessions(), []);
    assert.match(r.failed[0].error.message, /cancelled/);
  });

  test('the provider wins over the store; undefined falls back to the store', async () => {
    const seen: string[] = [];
    const r = await rig({ discover: false, servers: [{ uri: LWM2M_SERVER, shortServerId: 4 }] }, {
      configProvider: (q) => {
        seen.push(`${q.endpoint} ${q.kind}`);
        return undefined;
      },
    });
    r.dev.handler = device(null);
    const ended = r.done();
    assert.equal((await r.dev.bootstrapRequest()).code, '2.04');
    assert.ok('servers' in (await ended));
    assert.deepEqual(seen, ['dev-1 request']);
    r.bs.setConfigProvider(() => ({ discover: false, servers: [{ uri: LWM2M_SERVER, shortServerId: 44 }] }));
    const again = r.done();
    await r.dev.bootstrapRequest();
    const end = await again;
    assert.ok('servers' in end);
    assert.equal(end.servers[0].shortServerId, 44);
  });

  test('a device that stops answering mid-sequence: failed at that write, TimeoutError', async () => {
    const r = await rig({ deleteFirst: true, servers: [{ uri: LWM2M_SERVER, shortServerId: 101 }] }, { requestTimeoutMs: 400 });
    r.dev.handler = device(DISCOVER_11, (req) => (req.path === '/1/0' ? null : undefined));
    const ended = r.done();
    await r.dev.bootstrapRequest();
    const end = await ended;
    assert.ok('error' in end);
    assert.equal(end.step, 'write');
    assert.equal(end.error.path, '/1/0');
    assert.ok(end.error.cause instanceof TimeoutError);
    assert.match(end.error.message, /did not answer/);
    assert.deepEqual(r.bs.sessions(), []);
    assert.ok(!r.dev.received.some((q) => q.path === '/bs'), 'no Finish after a failed write');
  });

  for (const code of ['4.06', '4.00']) {
    test(`a device answering ${code} to Finish: failed at finish, provisioned PSK rolled back`, async () => {
      const securityStore = new InMemorySecurityStore();
      const r = await rig({ servers: [{ uri: 'coaps://127.0.0.1:5684', shortServerId: 101, identity: 'psk-dev-1', key: '0102' }] }, { securityStore });
      r.dev.handler = device(DISCOVER_11, (req) => (req.method === 'POST' && req.path === '/bs' ? { code, payload: 'no server account' } : undefined));
      const ended = r.done();
      await r.dev.bootstrapRequest();
      const end = await ended;
      assert.ok('error' in end);
      assert.equal(end.step, 'finish');
      assert.equal(end.error.coapCode, code);
      assert.match(end.error.message, new RegExp(`finish \\(/bs\\): device answered ${code.replace('.', '\\.')}.*no server account`));
      if (code === '4.06') assert.match(end.error.message, /inconsistent/);
      assert.equal(securityStore.getByEndpoint('dev-1'), undefined);
      assert.deepEqual(r.bs.sessions(), []);
    });
  }

  test('a successful Finish leaves the PSK in our LwM2M server\'s security store', async () => {
    const securityStore = new InMemorySecurityStore();
    const r = await rig({ servers: [{ uri: 'coaps://127.0.0.1:5684', shortServerId: 101, identity: 'psk-dev-1', key: '0102' }] }, { securityStore });
    r.dev.handler = device(DISCOVER_11);
    const ended = r.done();
    await r.dev.bootstrapRequest();
    assert.ok('servers' in (await ended));
    assert.deepEqual(securityStore.getByEndpoint('dev-1'), { endpoint: 'dev-1', identity: 'psk-dev-1', key: Buffer.from([1, 2]) });
  });

  test('a NoSec account on our server removes old credentials (restored when Finish fails)', async () => {
    const old = { endpoint: 'dev-1', identity: 'old-id', key: Buffer.from([7]) };
    const securityStore = new InMemorySecurityStore([old]);
    const r = await rig({ servers: [{ uri: LWM2M_SERVER, shortServerId: 101 }] }, { securityStore });
    let finish = '4.06';
    r.dev.handler = device(DISCOVER_11, (req) => (req.path === '/bs' ? { code: finish } : undefined));
    let ended = r.done();
    await r.dev.bootstrapRequest();
    assert.ok('error' in (await ended));
    assert.deepEqual(securityStore.getByEndpoint('dev-1'), old);
    finish = '2.04';
    ended = r.done();
    await r.dev.bootstrapRequest();
    assert.ok('servers' in (await ended));
    assert.equal(securityStore.getByEndpoint('dev-1'), undefined);
  });

  test('servers that are not ours do not go to the security store', async () => {
    const securityStore = new InMemorySecurityStore();
    const r = await rig({ servers: [{ uri: 'coaps://elsewhere:5684', shortServerId: 101, identity: 'x', key: '01' }] },
      { securityStore, isOwnServer: (uri) => uri.includes('127.0.0.1') });
    r.dev.handler = device(DISCOVER_11);
    const ended = r.done();
    await r.dev.bootstrapRequest();
    assert.ok('servers' in (await ended));
    assert.equal(securityStore.size, 0);
  });

  test('a PSK identity that belongs to another endpoint: 5.00 before anything is written', async () => {
    const securityStore = new InMemorySecurityStore([{ endpoint: 'other', identity: 'shared', key: Buffer.from([9]) }]);
    const r = await rig({ servers: [{ uri: 'coaps://127.0.0.1:5684', shortServerId: 101, identity: 'shared', key: '01' }] }, { securityStore });
    const ended = r.done();
    assert.equal((await r.dev.bootstrapRequest()).code, '5.00');
    const end = await ended;
    assert.ok('error' in end);
    assert.match(end.error.message, /already belongs to endpoint "other"/);
    assert.deepEqual(r.dev.received, []);
  });

  test('the session deadline ends a session whose device went silent', async () => {
    const r = await rig({ servers: [{ uri: LWM2M_SERVER, shortServerId: 101 }] }, { sessionTimeoutMs: 300, requestTimeoutMs: 30_000 });
    r.dev.handler = () => null;
    const ended = r.done();
    await r.dev.bootstrapRequest();
    const end = await ended;
    assert.ok('error' in end);
    assert.equal(end.step, 'discover');
    assert.ok(end.error.cause instanceof TimeoutError);
    assert.match(end.error.message, /did not end within 300 ms/);
    assert.deepEqual(r.bs.sessions(), []);
  });

  test('a new Bootstrap-Request replaces the session in progress', async () => {
    const r = await rig({ servers: [{ uri: LWM2M_SERVER, shortServerId: 101 }] });
    let first = true;
    r.dev.handler = device(DISCOVER_11, (req) => {
      if (req.path === '/' && first) {
        first = false;
        return null;
      }
      return undefined;
    });
    const failed = new Promise<FailedEvent>((resolve) => r.bs.once('failed', resolve));
    await r.dev.bootstrapRequest();
    await r.dev.waitFor((q) => q.path === '/');
    assert.equal(r.bs.sessions().length, 1);
    assert.equal(r.bs.sessions()[0].step, 'discover');
    const finished = new Promise<FinishedEvent>((resolve) => r.bs.once('finished', resolve));
    await r.dev.bootstrapRequest();
    const f = await failed;
    assert.match(f.error.message, /replaced by a new Bootstrap-Request/);
    assert.ok(f.error.cause instanceof CancelledError);
    const ok = await finished;
    assert.equal(ok.endpoint, 'dev-1');
    assert.deepEqual(r.bs.sessions(), []);
  });

  test('bootstrapIdentity: a NoSec Bootstrap-Request is refused', async () => {
    const r = await rig({ bootstrapIdentity: 'bs-id', servers: [{ uri: LWM2M_SERVER, shortServerId: 101 }] });
    const ended = r.done();
    const res = await r.dev.bootstrapRequest();
    assert.equal(res.code, '4.00');
    const end = await ended;
    assert.ok('error' in end);
    assert.match(end.error.message, /requires DTLS/);
  });

  test('close() fails the sessions in progress and frees the port', async () => {
    const r = await rig({ servers: [{ uri: LWM2M_SERVER, shortServerId: 101 }] });
    r.dev.handler = () => null;
    const ended = r.done();
    await r.dev.bootstrapRequest();
    await r.dev.waitFor((q) => q.path === '/');
    const port = r.bs.address().port;
    await r.bs.close();
    const end = await ended;
    assert.ok('error' in end);
    assert.match(end.error.message, /closing/);
    assert.deepEqual(r.bs.sessions(), []);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => sock.close(() => resolve()));
  });
});

describe('Bootstrap-Request validation', () => {
  test('missing ep, bad pct, unknown path, wrong method', async () => {
    const r = await rig({ servers: [{ uri: LWM2M_SERVER, shortServerId: 101 }] });
    assert.equal((await r.dev.request('POST', ['bs'])).code, '4.00');
    assert.equal((await r.dev.request('POST', ['bs'], { query: ['ep=dev-1', 'pct=0'] })).code, '4.15');
    assert.equal((await r.dev.request('POST', ['bs'], { query: ['ep=dev-1', 'pct=abc'] })).code, '4.00');
    assert.equal((await r.dev.request('GET', ['bs'], { query: ['ep=dev-1'] })).code, '4.05');
    assert.equal((await r.dev.request('POST', ['rd'], { query: ['ep=dev-1'] })).code, '4.04');
    assert.equal((await r.dev.request('GET', ['bspack'], { query: ['ep=dev-1'], accept: 0 })).code, '4.06');
    assert.deepEqual(r.failed, []);
    assert.deepEqual(r.bs.sessions(), []);
  });
});

describe('Bootstrap-Pack (LwM2M 1.2)', () => {
  test('GET /bspack: the whole configuration in one SenML CBOR answer; PSK handed to the security store', async () => {
    const securityStore = new InMemorySecurityStore();
    const r = await rig({
      bootstrapAccountInstanceId: 0,
      servers: [{ uri: 'coaps://127.0.0.1:5684', shortServerId: 101, lifetime: 120, identity: 'pk', key: 'a0a1' }],
      writes: [{ path: '/2/1', value: { 0: 1, 1: 0, 3: 101 } }],
    }, { securityStore });
    const ended = r.done();
    const res = await r.dev.packRequest();
    assert.equal(res.code, '2.05');
    assert.equal(res.contentFormat, 112);
    const pack = senmlByName(cborRecords(res.payload), CBOR_LABELS);
    assert.equal(pack.get('/0/1/0'), 'coaps://127.0.0.1:5684');
    assert.equal(pack.get('/0/1/1'), false);
    assert.equal(pack.get('/0/1/2'), 0);
    assert.equal(Buffer.from(pack.get('/0/1/3') as Uint8Array).toString(), 'pk');
    assert.deepEqual(Buffer.from(pack.get('/0/1/5') as Uint8Array), Buffer.from('a0a1', 'hex'));
    assert.equal(pack.get('/0/1/10'), 101);
    assert.equal(pack.get('/1/0/0'), 101);
    assert.equal(pack.get('/1/0/1'), 120);
    assert.equal(pack.get('/2/1/3'), 101);
    const end = await ended;
    assert.ok('pack' in end);
    assert.equal(end.pack, true);
    assert.equal(end.version, '1.2');
    assert.deepEqual(r.steps.map((s) => `${s.step} ${s.code}`), ['pack 2.05']);
    assert.deepEqual(r.dev.received, [], 'no request to the device in a Bootstrap-Pack exchange');
    assert.deepEqual(securityStore.getByEndpoint('dev-1')?.identity, 'pk');
    assert.deepEqual(r.bs.sessions(), []);
  });

  test('Accept: SenML JSON', async () => {
    const r = await rig({ bootstrapAccountInstanceId: 0, servers: [{ uri: LWM2M_SERVER, shortServerId: 5 }] });
    const res = await r.dev.packRequest(110);
    assert.equal(res.code, '2.05');
    assert.equal(res.contentFormat, 110);
    const pack = senmlByName(JSON.parse(res.payload.toString()), JSON_LABELS);
    assert.equal(pack.get('/0/1/0'), LWM2M_SERVER);
    assert.equal(pack.get('/1/0/0'), 5);
  });

  test('no configuration: 4.00', async () => {
    const r = await rig(undefined);
    const ended = r.done();
    assert.equal((await r.dev.packRequest()).code, '4.00');
    assert.ok('error' in (await ended));
  });
});

/**
 * A stateful raw device that keeps its Bootstrap-Server account where it was told (`bsInstance`), the way Anjay keeps it
 * at /0/1 behind a factory server account at /0/0. It answers Bootstrap-Discover from its state (1.1+: the Security
 * instance without `ssid` is the account, Core 1.1 6.1.7.3), keeps the account on a Delete of `/` or `/0`
 * (Core 1.1 6.1.7.5), refuses a Delete of its instance, and records a write over it instead of failing, so a test sees it.
 */
class AccountKeepingDevice {
  /** Security instances: ssid (undefined for the Bootstrap-Server account) and URI. */
  readonly security = new Map<number, { ssid?: number; uri: string; bootstrap: boolean }>();
  readonly server = new Map<number, number>();
  readonly overwritten: string[] = [];
  readonly deletedAccount: string[] = [];
  finishes = 0;

  constructor(readonly version: '1.0' | '1.1', readonly bsInstance: number) {
    this.security.set(bsInstance, { uri: 'coap://127.0.0.1:5685', bootstrap: true });
    // a factory LwM2M Server account next to it
    const factory = bsInstance === 0 ? 1 : 0;
    this.security.set(factory, { ssid: 9, uri: 'coap://factory.example', bootstrap: false });
    this.server.set(0, 9);
  }

  discover(): string {
    const links = [`</>;lwm2m="${this.version}"`];
    for (const [i, s] of [...this.security].sort((a, b) => a[0] - b[0])) links.push(s.bootstrap ? `</0/${i}>` : `</0/${i}>;ssid=${s.ssid}`);
    for (const [i, ssid] of [...this.server].sort((a, b) => a[0] - b[0])) links.push(`</1/${i}>;ssid=${ssid}`);
    links.push('</3/0>');
    return links.join(',');
  }

  /** Security resources 0 (URI), 1 (bootstrap flag) and 10 (ssid) of a write, decoded by hand (TLV or SenML CBOR). */
  private securityOf(req: DevRequest, i: number): { uri: string; bootstrap: boolean; ssid?: number } {
    if (req.contentFormat === 11542) {
      const t = readTlv(req.payload);
      return { uri: (t.get(0) as Buffer).toString(), bootstrap: (t.get(1) as Buffer)[0] === 1, ssid: t.has(10) ? tlvInt(t.get(10) as Buffer) : undefined };
    }
    const m = senmlByName(cborRecords(req.payload), CBOR_LABELS);
    return { uri: m.get(`/0/${i}/0`) as string, bootstrap: m.get(`/0/${i}/1`) === true, ssid: m.get(`/0/${i}/10`) as number | undefined };
  }

  applyPack(payload: Buffer): void {
    const m = senmlByName(cborRecords(payload), CBOR_LABELS);
    for (const [name, v] of m) {
      const [, o, i, r] = name.split('/').map(Number);
      if (o === 0 && this.security.get(i)?.bootstrap && !this.overwritten.includes(`/0/${i}`)) this.overwritten.push(`/0/${i}`);
      if (o === 0) {
        const s = this.security.get(i) ?? { uri: '', bootstrap: false };
        if (r === 0) s.uri = v as string;
        if (r === 1) s.bootstrap = v === true;
        if (r === 10) s.ssid = v as number;
        this.security.set(i, s);
      }
      if (o === 1 && r === 0) this.server.set(i, v as number);
    }
  }

  handler = (req: DevRequest): DevAnswer => {
    const seg = req.path.split('/').filter((x) => x !== '').map(Number);
    if (req.method === 'GET' && req.path === '/') {
      return this.version === '1.0' ? { code: '4.04' } : { code: '2.05', format: 40, payload: this.discover() };
    }
    if (req.method === 'DELETE') {
      if (seg.length === 2 && seg[0] === 0 && this.security.get(seg[1])?.bootstrap) {
        this.deletedAccount.push(req.path);
        return { code: '4.00' };
      }
      if (seg.length === 0 || seg[0] === 0) for (const [i, s] of [...this.security]) if (!s.bootstrap && (seg.length < 2 || seg[1] === i)) this.security.delete(i);
      if (seg.length === 0 || seg[0] === 1) for (const i of [...this.server.keys()]) if (seg.length < 2 || seg[1] === i) this.server.delete(i);
      return { code: '2.02' };
    }
    if (req.method === 'PUT' && seg.length === 2) {
      const [o, i] = seg;
      if (o === 0) {
        if (this.security.get(i)?.bootstrap) this.overwritten.push(req.path);
        this.security.set(i, this.securityOf(req, i));
      }
      if (o === 1) {
        const ssid = req.contentFormat === 11542 ? tlvInt(readTlv(req.payload).get(0) as Buffer) : senmlByName(cborRecords(req.payload), CBOR_LABELS).get(`/1/${i}/0`) as number;
        this.server.set(i, ssid);
      }
      return { code: '2.04' };
    }
    if (req.method === 'POST' && req.path === '/bs') {
      this.finishes++;
      return { code: '2.04' };
    }
    return { code: '4.04' };
  };

  /** The Bootstrap-Server account the device would bootstrap from next time. */
  account(): { uri: string; bootstrap: boolean; ssid?: number } | undefined {
    return this.security.get(this.bsInstance);
  }
}

describe('the device\'s Bootstrap-Server account is never written over (issue 11 item 13)', () => {
  const servers = [{ uri: LWM2M_SERVER, shortServerId: 101 }, { uri: 'coap://127.0.0.2:5683', shortServerId: 102 }];

  async function bootstrapOnce(r: Rig, d: AccountKeepingDevice): Promise<FinishedEvent> {
    const ended = r.done();
    assert.equal((await r.dev.bootstrapRequest(d.version === '1.0' ? [] : ['pct=112'])).code, '2.04');
    const end = await ended;
    assert.ok('servers' in end, `failed: ${'error' in end ? end.error.message : ''}`);
    return end;
  }

  test('LwM2M 1.1, account at /0/1: Discover finds it, Delete / Write leave it alone, the device bootstraps again', async () => {
    const r = await rig({ deleteFirst: true, deletes: ['/0/1'], servers });
    const d = new AccountKeepingDevice('1.1', 1);
    r.dev.handler = d.handler;
    for (let round = 1; round <= 2; round++) {
      const end = await bootstrapOnce(r, d);
      assert.deepEqual(d.overwritten, [], 'no write over the Bootstrap-Server account');
      assert.deepEqual(d.deletedAccount, [], 'no Delete of the Bootstrap-Server account\'s instance');
      assert.deepEqual(d.account(), { uri: 'coap://127.0.0.1:5685', bootstrap: true });
      assert.equal(end.bootstrapInstance, 1);
      assert.equal(end.bootstrapInstanceSource, 'discover');
      assert.deepEqual(end.servers.map((s) => s.securityInstance), [0, 2]);
      assert.deepEqual([...d.security.keys()].sort(), [0, 1, 2]);
      assert.equal(d.security.get(0)!.ssid, 101);
      assert.equal(d.security.get(2)!.ssid, 102);
      // the configured Delete of /0/1 is left out, and said so
      assert.equal(end.warnings.length, 1);
      assert.match(end.warnings[0], /Bootstrap-Delete \/0\/1 was left out/);
      assert.equal(d.finishes, round);
    }
    assert.ok(!r.dev.received.some((q) => q.path === '/0/1'), 'no request to /0/1 at all');
  });

  test('LwM2M 1.1 without deleteFirst: the accounts are added around it, the factory account is kept', async () => {
    const r = await rig({ servers });
    const d = new AccountKeepingDevice('1.1', 1);
    r.dev.handler = d.handler;
    const end = await bootstrapOnce(r, d);
    assert.deepEqual(d.overwritten, []);
    assert.deepEqual(end.servers.map((s) => [s.securityInstance, s.serverInstance]), [[2, 1], [3, 2]]);
    assert.equal(d.security.get(0)!.ssid, 9);
    assert.deepEqual(end.warnings, []);
  });

  test('LwM2M 1.0 (no Discover), account at /0/1: /0/0 and /0/1 kept clear, a warning in the result', async () => {
    const r = await rig({ deleteFirst: true, servers });
    const d = new AccountKeepingDevice('1.0', 1);
    r.dev.handler = d.handler;
    for (let round = 1; round <= 2; round++) {
      const end = await bootstrapOnce(r, d);
      assert.equal(end.version, '1.0');
      assert.deepEqual(d.overwritten, []);
      assert.deepEqual(d.account(), { uri: 'coap://127.0.0.1:5685', bootstrap: true });
      assert.deepEqual(end.servers.map((s) => s.securityInstance), [2, 3]);
      assert.equal(end.bootstrapInstanceSource, 'assumed');
      assert.equal(end.warnings.length, 1);
      assert.match(end.warnings[0], /not known \(the device answered Bootstrap-Discover 4\.04.*\/0\/0, \/0\/1 were left alone.*bootstrapAccountInstanceId/);
      assert.equal(d.finishes, round);
    }
  });

  test('LwM2M 1.0 with bootstrapAccountInstanceId: the configured instance is kept, the others used, no warning', async () => {
    const r = await rig({ version: '1.0', bootstrapAccountInstanceId: 1, deleteFirst: true, servers });
    const d = new AccountKeepingDevice('1.0', 1);
    r.dev.handler = d.handler;
    const end = await bootstrapOnce(r, d);
    assert.ok(!r.dev.received.some((q) => q.method === 'GET'), 'no Bootstrap-Discover for a device configured as 1.0');
    assert.deepEqual(d.overwritten, []);
    assert.deepEqual(end.servers.map((s) => s.securityInstance), [0, 2]);
    assert.equal(end.bootstrapInstance, 1);
    assert.equal(end.bootstrapInstanceSource, 'config');
    assert.deepEqual(end.warnings, []);
  });

  test('Bootstrap-Pack, account at /0/1: the pack holds nothing for /0/0 or /0/1 and the result warns', async () => {
    const r = await rig({ servers });
    const d = new AccountKeepingDevice('1.1', 1);
    for (let round = 1; round <= 2; round++) {
      const ended = r.done();
      const res = await r.dev.packRequest();
      assert.equal(res.code, '2.05');
      const end = await ended;
      assert.ok('servers' in end);
      const names = [...senmlByName(cborRecords(res.payload), CBOR_LABELS).keys()];
      assert.ok(!names.some((n) => n.startsWith('/0/0/') || n.startsWith('/0/1/')), `pack names: ${names.join(' ')}`);
      d.applyPack(res.payload);
      assert.deepEqual(d.overwritten, []);
      assert.deepEqual(d.account(), { uri: 'coap://127.0.0.1:5685', bootstrap: true });
      assert.deepEqual(end.servers.map((s) => s.securityInstance), [2, 3]);
      assert.equal(end.warnings.length, 1);
      assert.match(end.warnings[0], /Bootstrap-Pack-Request comes without Bootstrap-Discover/);
    }
  });

  test('Bootstrap-Pack with bootstrapAccountInstanceId: 1 writes /0/0 and /0/2, no warning', async () => {
    const r = await rig({ bootstrapAccountInstanceId: 1, servers });
    const d = new AccountKeepingDevice('1.1', 1);
    const ended = r.done();
    const res = await r.dev.packRequest();
    const end = await ended;
    assert.ok('servers' in end);
    d.applyPack(res.payload);
    assert.deepEqual(d.overwritten, []);
    assert.deepEqual(end.servers.map((s) => s.securityInstance), [0, 2]);
    assert.deepEqual(end.warnings, []);
  });
});
