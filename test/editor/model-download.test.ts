/**
 * Object models fetched on demand from "the OMA registry", here a local HTTP server on 127.0.0.1 serving the registry
 * copy in ../shared/lwm2m-registry (never the network): download, the cache in the user directory, refusals, and a device
 * announcing an unknown object getting names in the sidebar once its model arrives.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { AddressInfo } from 'net';
import { ModelDownloader, httpFetch } from '../../nodes/lwm2m-sidebar/model-download';
import { ModelDownloadError } from '../../nodes/lwm2m-sidebar/errors';
import { SidebarService, ServerHandle, TOPIC } from '../../nodes/lwm2m-sidebar/service';
import { ModelRegistry } from '../../src/model/registry';
import { sharedRegistryDir, startClient, startServer, waitFor, registryWith } from './helpers';

const registryDir = sharedRegistryDir();
const skip = registryDir ? false : 'the OMA registry copy (../shared/lwm2m-registry) is not on this machine';

/** A local stand-in for the registry's web server; counts requests; `/big.xml` is endless, `/404` missing. */
async function registryServer(dir: string) {
  const requests: string[] = [];
  const srv = http.createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    if (url === '/huge/1.xml') {
      res.writeHead(200, { 'Content-Type': 'application/xml' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 8 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => { sent = Infinity; });
      pump();
      return;
    }
    if (url.startsWith('/swapped/')) {
      res.writeHead(200, { 'Content-Type': 'application/xml' });
      res.end(fs.readFileSync(path.join(dir, '3303.xml')));
      return;
    }
    const m = /^\/reg\/(\d+)\.xml$/.exec(url);
    const file = m ? path.join(dir, `${m[1]}.xml`) : '';
    if (!m || !fs.existsSync(file)) {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/xml' });
    res.end(fs.readFileSync(file));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return { requests, base, close: () => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }) };
}

/** An object id the registry copy has and the built-in model does not know. */
function unknownObjectId(dir: string): number {
  const builtins = ModelRegistry.withBuiltins();
  const ids = fs.readdirSync(dir).map((n) => /^(\d+)\.xml$/.exec(n)).filter(Boolean).map((m) => Number(m![1])).sort((a, b) => a - b);
  const id = ids.find((i) => i >= 10000 && !builtins.has(i));
  assert.ok(id !== undefined, 'the registry copy has objects the built-ins lack');
  return id!;
}

describe('model download', { skip }, () => {
  let reg: Awaited<ReturnType<typeof registryServer>>;
  let tmp: string;
  let objectId: number;

  before(async () => {
    reg = await registryServer(registryDir!);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-models-'));
    objectId = unknownObjectId(registryDir!);
  });
  after(async () => {
    await reg.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('is off by default: nothing is fetched', async () => {
    let fetched = 0;
    const d = new ModelDownloader({ cacheDir: path.join(tmp, 'off'), fetch: async () => { fetched++; return Buffer.alloc(0); } });
    assert.equal(d.enabled, false);
    assert.equal(d.status(objectId), 'off');
    await assert.rejects(d.ensure(objectId), (e: unknown) => e instanceof ModelDownloadError && /off/.test((e as Error).message));
    assert.equal(fetched, 0);
  });

  test('downloads once, caches the file, and a new process reads the cache without the network', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const d = new ModelDownloader({ cacheDir, enabled: true, baseUrl: `${reg.base}/reg/` });
    const mark = reg.requests.length;
    const [a, b] = await Promise.all([d.ensure(objectId), d.ensure(objectId)]);
    assert.equal(a, b, 'concurrent calls share one download');
    assert.equal(a[0].id, objectId);
    assert.ok(a[0].name.length > 0);
    assert.deepEqual(reg.requests.slice(mark), [`/reg/${objectId}.xml`]);
    assert.ok(fs.existsSync(path.join(cacheDir, `${objectId}.xml`)));
    assert.deepEqual(fs.readdirSync(cacheDir), [`${objectId}.xml`], 'no temporary file left');
    await d.ensure(objectId);
    assert.equal(reg.requests.length, mark + 1, 'served from memory the second time');

    let fetched = 0;
    const later = new ModelDownloader({ cacheDir, enabled: false, fetch: async () => { fetched++; return Buffer.alloc(0); } });
    await later.loadCache();
    assert.equal(later.status(objectId), 'cached');
    assert.equal(later.all()[0].name, a[0].name);
    assert.equal((await later.ensure(objectId))[0].id, objectId);
    assert.equal(fetched, 0);
  });

  test('a missing object fails once and is not asked for again at once', async () => {
    let t = 0;
    const d = new ModelDownloader({ cacheDir: path.join(tmp, 'missing'), enabled: true, baseUrl: `${reg.base}/reg/`, now: () => t, retryAfterMs: 1000 });
    const mark = reg.requests.length;
    await assert.rejects(d.ensure(65000), /404/);
    assert.equal(d.status(65000), 'failed');
    assert.match(d.failure(65000)!, /404/);
    await assert.rejects(d.ensure(65000), /not retried before/);
    assert.equal(reg.requests.length, mark + 1);
    t = 5000;
    await assert.rejects(d.ensure(65000), /404/);
    assert.equal(reg.requests.length, mark + 2, 'retried after the delay');
  });

  test('refuses wrong files, oversized answers and bad ids', async () => {
    const swapped = new ModelDownloader({ cacheDir: path.join(tmp, 'swapped'), enabled: true, baseUrl: `${reg.base}/swapped/` });
    await assert.rejects(swapped.ensure(objectId), /defines object 3303/);
    assert.equal(fs.existsSync(path.join(tmp, 'swapped', `${objectId}.xml`)), false, 'nothing cached');
    await assert.rejects(httpFetch(`${reg.base}/huge/1.xml`, { timeoutMs: 5000, maxBytes: 1024 * 1024 }), /larger than/);
    const d = new ModelDownloader({ cacheDir: path.join(tmp, 'ids'), enabled: true, baseUrl: `${reg.base}/reg/` });
    await assert.rejects(d.ensure(-1), ModelDownloadError);
    await assert.rejects(d.ensure(70000), ModelDownloadError);
    await assert.rejects(d.ensure(1.5), ModelDownloadError);
    await assert.rejects(httpFetch('ftp://127.0.0.1/x', { timeoutMs: 1000, maxBytes: 10 }), /not http/);
  });

  test('a device announcing an unknown object gets its name in the sidebar once the model is downloaded', async () => {
    const server = await startServer();
    const registry = server.registry as ModelRegistry;
    const published: Array<{ topic: string; data: unknown }> = [];
    const models = new ModelDownloader({ cacheDir: path.join(tmp, 'live'), enabled: true, baseUrl: `${reg.base}/reg/` });
    const handle: ServerHandle = { id: 's', server, registry };
    const service = new SidebarService({ servers: () => [handle], models, publish: (topic, data) => published.push({ topic, data }) });
    service.reconcile();
    const file = path.join(registryDir!, `${objectId}.xml`);
    const client = await startClient(server.address().port, { registry: registryWith(file), objects: { [objectId]: { 0: {} } } });
    try {
      assert.equal(registry.has(objectId), false);
      await waitFor(() => registry.has(objectId), 5000, 'model downloaded into the server model');
      const obj = service.device('s', client.endpointName).objects.find((o) => o.id === objectId)!;
      assert.equal(obj.known, true);
      assert.equal(obj.name, registryWith(file).getObject(objectId)!.name);
      assert.ok(registry.pathSuggestions(`/${objectId}`).length > 0, 'path fields suggest it');
      assert.ok(published.some((m) => m.topic === TOPIC.models));
    } finally {
      service.stop();
      await client.stop();
      await server.close();
    }
  });
});
