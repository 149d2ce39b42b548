/**
 * The sidebar plugin inside a real Node-RED (no browser): its admin routes under httpAdminRoot and behind adminAuth
 * (a read-only user may browse but not act on devices; no token, no access), and the settings.js switch that downloads
 * an unknown object's model from "the OMA registry" (a local HTTP server on 127.0.0.1) into <userDir>/lwm2m/models.
 *
 * Needs `npm run build` (Node-RED loads dist/).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { AddressInfo } from 'net';
import { NodeRedProcess, startNodeRed } from '../../scripts/node-red-runner';
import { Lwm2mClient } from '../../src/client';
import { ModelRegistry } from '../../src/model/registry';
import { projectRoot, registryWith, sharedRegistryDir, startClient, waitFor } from './helpers';

const root = projectRoot();
const registryDir = sharedRegistryDir();
function skipReason(): string | false {
  if (!fs.existsSync(path.join(root, 'dist', 'nodes', 'lwm2m-sidebar', 'lwm2m-sidebar.js'))) return 'dist/ has no sidebar plugin: run npm run build first';
  if (!registryDir) return 'the OMA registry copy (../shared/lwm2m-registry) is not on this machine';
  return false;
}
const skip = skipReason();
const ADMIN = '/admin';
const PASSWORD = 'local-test-only';

describe('sidebar plugin in Node-RED', { skip, timeout: 120000 }, () => {
  let nr: NodeRedProcess;
  let userDir: string;
  let registry: http.Server;
  let registryBase: string;
  const requests: string[] = [];
  let client: Lwm2mClient | undefined;
  let objectId: number;
  const tokens: Record<string, string> = {};

  before(async () => {
    const builtins = ModelRegistry.withBuiltins();
    objectId = fs.readdirSync(registryDir!).map((n) => /^(\d+)\.xml$/.exec(n)).filter(Boolean).map((m) => Number(m![1]))
      .sort((a, b) => a - b).find((i) => i >= 10000 && !builtins.has(i))!;
    registry = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      const m = /^\/reg\/(\d+)\.xml$/.exec(req.url ?? '');
      const file = m ? path.join(registryDir!, `${m[1]}.xml`) : '';
      if (!m || !fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'Content-Type': 'application/xml' });
      res.end(fs.readFileSync(file));
    });
    await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
    registryBase = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/reg/`;

    const nrDir = path.join(root, 'node_modules', 'node-red');
    const bcrypt = require(require.resolve('bcryptjs', { paths: [nrDir] })) as { hashSync(s: string, rounds: number): string };
    const hash = bcrypt.hashSync(PASSWORD, 4);
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-plugin-nr-'));
    nr = await startNodeRed({
      userDir,
      flows: [
        { id: 'ptab', type: 'tab', label: 'plugin' },
        { id: 'psrv', type: 'lwm2m-server', name: 'plugin server', address: '127.0.0.1', port: 0, minLifetime: '', maxLifetime: '', persist: false, queueAwakeTime: 93, requestTimeout: 10, modelsDir: '' },
        { id: 'pevt', type: 'lwm2m-events', z: 'ptab', server: 'psrv', endpoint: '', events: ['registered'], x: 100, y: 100, wires: [[]] },
      ],
      settings: {
        httpAdminRoot: ADMIN,
        adminAuth: {
          type: 'credentials',
          users: [
            { username: 'admin', password: hash, permissions: '*' },
            { username: 'viewer', password: hash, permissions: 'read' },
          ],
        },
        lwm2m: { downloadModels: true, modelRegistryUrl: registryBase },
      },
    });
    await nr.waitForLog(/LwM2M server listening/, 20000);
    for (const user of ['admin', 'viewer']) {
      const r = await nr.request('POST', `${ADMIN}/auth/token`, { client_id: 'node-red-admin', grant_type: 'password', scope: user === 'admin' ? '*' : 'read', username: user, password: PASSWORD });
      assert.equal(r.status, 200, r.body);
      tokens[user] = JSON.parse(r.body).access_token;
    }
  });

  after(async () => {
    await client?.stop();
    await nr?.stop();
    await new Promise<void>((r) => (registry ? registry.close(() => r()) : r()));
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  const as = (user: string) => ({ Authorization: `Bearer ${tokens[user]}` });

  test('routes need a login; a read-only user browses but cannot act on devices', async () => {
    const anon = await nr.request('GET', `${ADMIN}/lwm2m/sidebar/servers`);
    assert.equal(anon.status, 401);
    const viewer = await nr.request('GET', `${ADMIN}/lwm2m/sidebar/servers`, undefined, as('viewer'));
    assert.equal(viewer.status, 200);
    const servers = JSON.parse(viewer.body) as Array<{ id: string; port: number }>;
    assert.equal(servers[0].id, 'psrv');
    const file = path.join(registryDir!, `${objectId}.xml`);
    client = await startClient(servers[0].port, { endpoint: 'plugin-dev', registry: registryWith(file), objects: { [objectId]: { 0: {} } } });
    const url = `${ADMIN}/lwm2m/sidebar/servers/psrv/devices/plugin-dev/operations`;
    const denied = await nr.request('POST', url, { op: 'read', path: '/3/0/0' }, as('viewer'));
    assert.equal(denied.status, 401);
    const allowed = await nr.request('POST', url, { op: 'read', path: '/3/0/0' }, as('admin'));
    assert.equal(allowed.status, 200, allowed.body);
    assert.deepEqual(JSON.parse(allowed.body).values, { '/3/0/0': 'Fleetwire' });
    const settings = await nr.request('GET', `${ADMIN}/lwm2m/sidebar/settings`, undefined, as('viewer'));
    assert.deepEqual(JSON.parse(settings.body), { modelDownload: true });
    // Nothing is served outside httpAdminRoot.
    assert.equal((await nr.request('GET', '/lwm2m/sidebar/servers', undefined, as('admin'))).status, 404);
  });

  test('an unknown object announced by a device is downloaded once, cached in the user directory and named', async () => {
    const detail = async () => JSON.parse((await nr.request('GET', `${ADMIN}/lwm2m/sidebar/servers/psrv/devices/plugin-dev`, undefined, as('viewer'))).body) as {
      objects: Array<{ id: number; known: boolean; name?: string }>;
    };
    await waitFor(async () => (await detail()).objects.find((o) => o.id === objectId)?.known === true, 15000, 'model downloaded');
    const obj = (await detail()).objects.find((o) => o.id === objectId)!;
    assert.equal(obj.name, registryWith(path.join(registryDir!, `${objectId}.xml`)).getObject(objectId)!.name);
    assert.deepEqual(requests.filter((u) => u === `/reg/${objectId}.xml`).length, 1);
    assert.ok(fs.existsSync(path.join(userDir, 'lwm2m', 'models', `${objectId}.xml`)));
    // The editor's path fields (the lwm2m-server node's suggestions route) know the name too.
    const paths = JSON.parse((await nr.request('GET', `${ADMIN}/lwm2m/paths?server=psrv`, undefined, as('viewer'))).body) as Array<{ path: string; label: string }>;
    assert.ok(paths.some((p) => p.path === `/${objectId}` && p.label === obj.name), 'path suggestions include the downloaded object');
  });
});
