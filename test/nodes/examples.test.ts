/**
 * Every flow in examples/ loads and starts in a real Node-RED: 4.1 on this Node (always), and Node-RED 5 on Node 22 when
 * CI has installed it under .ci/nr5 (`npm install --prefix .ci/nr5 node@22 node-red@5`) or LWM2M_NR5_DIR names one.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NodeRedProcess, projectRoot, startNodeRed } from '../../scripts/node-red-runner';

const root = projectRoot();
const examplesDir = path.join(root, 'examples');
const examples = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.json')).sort();
const ourTypes = Object.keys(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))['node-red'].nodes);

/** Servers in examples listen on 5683/5685; here on ephemeral ports so runs never collide. */
function withEphemeralPorts(flow: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return flow.map((n) => (n.type === 'lwm2m-server' ? { ...n, port: 0, dtlsPort: 0 } : n.type === 'lwm2m-bootstrap' ? { ...n, port: 0 } : n));
}

interface Install { name: string; nodeRedDir?: string; nodeBinary?: string }
const installs: Install[] = [{ name: 'Node-RED 4 (devDependency) on Node ' + process.version }];
const nr5 = process.env.LWM2M_NR5_DIR ?? path.join(root, '.ci', 'nr5');
if (fs.existsSync(path.join(nr5, 'node_modules', 'node-red', 'red.js'))) {
  installs.push({
    name: 'Node-RED 5 on Node 22',
    nodeRedDir: path.join(nr5, 'node_modules', 'node-red'),
    nodeBinary: path.join(nr5, 'node_modules', 'node', 'bin', 'node'),
  });
} else {
  test('Node-RED 5 on Node 22', { skip: `not installed under ${nr5} (CI installs it)` }, () => undefined);
}

for (const inst of installs) {
  describe(`examples load in ${inst.name}`, { timeout: 180000 }, () => {
    let nr: NodeRedProcess;
    let dir: string;
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-nr-'));
      nr = await startNodeRed({ userDir: dir, nodeRedDir: inst.nodeRedDir, nodeBinary: inst.nodeBinary });
    });
    after(async () => {
      await nr?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('every node type of the package is registered', async () => {
      const r = await nr.request('GET', '/nodes');
      assert.equal(r.status, 200);
      const sets = JSON.parse(r.body) as Array<{ module: string; types: string[]; enabled: boolean; err?: string }>;
      const ours = sets.filter((s) => s.module === '@fleetwire/node-red-contrib-lwm2m');
      for (const s of ours) assert.equal(s.err, undefined, `node set error: ${s.err}`);
      const types = ours.flatMap((s) => s.types);
      for (const t of ourTypes) assert.ok(types.includes(t), `${t} registered (got ${types.join(', ')})`);
    });

    for (const file of examples) {
      test(`${file} deploys and starts without errors`, async () => {
        const flow = withEphemeralPorts(JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')));
        const nonConfig = flow.filter((n) => typeof n.type === 'string' && (n.type as string).startsWith('lwm2m-') && !['lwm2m-server', 'lwm2m-client'].includes(n.type as string));
        assert.ok(flow.some((n) => n.type === 'comment'), `${file} explains itself with a comment node`);
        assert.ok(nonConfig.length > 0, `${file} uses LwM2M nodes`);
        const mark = nr.log.length;
        await nr.deploy(flow);
        const log = nr.log.slice(mark).join('\n');
        assert.doesNotMatch(log, /Waiting for missing types/);
        assert.doesNotMatch(log, /\[error\]/, `errors while starting ${file}:\n${log}`);
        const r = await nr.request('GET', '/flows');
        const body = JSON.parse(r.body) as Array<{ id: string }> | { flows: Array<{ id: string }> };
        const deployed = Array.isArray(body) ? body : body.flows;
        for (const n of flow) assert.ok(deployed.some((d) => d.id === n.id), `node ${String(n.id)} deployed`);
      });
    }
  });
}

test('every non-config node of the package appears in an example', () => {
  const used = new Set<string>();
  for (const file of examples) for (const n of JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8'))) used.add(n.type);
  const configTypes = ourTypes.filter((t) => fs.readFileSync(path.join(root, 'nodes', t, `${t}.html`), 'utf8').includes("category: 'config'"));
  for (const t of ourTypes) if (!configTypes.includes(t)) assert.ok(used.has(t), `${t} is used in an example`);
});

test('the examples share one server config node, so importing several does not bind udp/5683 twice', () => {
  const servers = examples.flatMap((file) => (JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')) as Array<Record<string, unknown>>)
    .filter((n) => n.type === 'lwm2m-server'));
  assert.ok(servers.length > 1);
  for (const s of servers) assert.deepEqual(s, servers[0], 'the same id and the same settings in every example');
});
