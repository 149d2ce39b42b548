/**
 * Every flow in examples/ loads and starts in a real Node-RED: 4.1 on this Node (always), and Node-RED 5 on Node 22 when
 * CI has installed it under .ci/nr5 (`npm install --prefix .ci/nr5 node@22 node-red@5`) or LWM2M_NR5_DIR names one.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NodeRedProcess, projectRoot, startNodeRed } from '../../scripts/node-red-runner';

const root = projectRoot();
const examplesDir = path.join(root, 'examples');
const examples = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.json')).sort();
const ourTypes = Object.keys(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))['node-red'].nodes);

/** A free UDP port on 127.0.0.1 (bound to port 0, read back, released). */
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The well-known ports the examples use for users (server, DTLS server, bootstrap server). */
const EXAMPLE_PORTS = { coap: 5683, coaps: 5684, bootstrap: 5685 } as const;

/**
 * The examples are written for users: servers on 5683/5684/5685 and clients pointed at them. Here every one of those
 * ports is replaced by a free ephemeral port (the same replacement in servers, bootstrap tables and client URIs), so
 * the example's own devices talk to the example's own servers and nothing is ever sent to a well-known port where a
 * user's demo or a real server may be listening (scripts/port-guard.js checks this for the whole run).
 */
async function withEphemeralPorts(flow: Array<Record<string, unknown>>): Promise<Array<Record<string, unknown>>> {
  const map = new Map<number, number>();
  for (const p of Object.values(EXAMPLE_PORTS)) map.set(p, await freeUdpPort());
  const port = (p: unknown): number => {
    const n = Number(p);
    const to = map.get(n);
    if (to === undefined) throw new Error(`an example uses port ${String(p)}, which this test does not know how to replace`);
    return to;
  };
  const uri = (u: unknown): unknown => {
    if (typeof u !== 'string' || u === '') return u;
    const m = /^(coaps?):\/\/(\[[^\]]+\]|[^/:]+)(?::(\d+))?(.*)$/.exec(u);
    if (!m) throw new Error(`an example has a server URI this test cannot rewrite: ${u}`);
    const given = m[3] !== undefined ? Number(m[3]) : m[1] === 'coaps' ? EXAMPLE_PORTS.coaps : EXAMPLE_PORTS.coap;
    return `${m[1]}://${m[2]}:${port(given)}${m[4]}`;
  };
  return flow.map((n) => {
    switch (n.type) {
      case 'lwm2m-server':
        // persist off here only: the examples share one server node id and are deployed one after the other into one
        // user directory, so a saved store would hand each example the devices of the one before (gone by then).
        return { ...n, port: port(n.port ?? EXAMPLE_PORTS.coap), dtlsPort: port(n.dtlsPort ?? EXAMPLE_PORTS.coaps), persist: false };
      case 'lwm2m-bootstrap':
        return { ...n, port: port(n.port ?? EXAMPLE_PORTS.bootstrap), table: Array.isArray(n.table) ? (n.table as Array<Record<string, unknown>>).map((row) => ({ ...row, uri: uri(row.uri) })) : n.table };
      case 'lwm2m-client':
        return { ...n, serverUri: uri(n.serverUri), bootstrapUri: uri(n.bootstrapUri) };
      default:
        return n;
    }
  });
}

/** The shared server config node of the examples (examples with only a client import it from another example). */
function sharedServerNode(): Record<string, unknown> {
  for (const file of examples) {
    const s = (JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')) as Array<Record<string, unknown>>).find((n) => n.type === 'lwm2m-server');
    if (s) return s;
  }
  throw new Error('no example has an lwm2m-server node');
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
      test(`${file} deploys and starts without errors, and its devices register with its server`, async () => {
        const original = JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')) as Array<Record<string, unknown>>;
        // An example with a client but no server is meant to be imported beside the server examples: add their server.
        const withServer = original.some((n) => n.type === 'lwm2m-server') ? original : [...original, sharedServerNode()];
        const flow = await withEphemeralPorts(withServer);
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
        // Every client of the example (directly, or through the example's bootstrap server) reaches the example's
        // server on its rewritten port.
        const server = flow.find((n) => n.type === 'lwm2m-server')!;
        const expected = flow.filter((n) => n.type === 'lwm2m-client').map((n) => String(n.endpoint));
        const seen = await waitForDevices(nr, String(server.id), expected, 20000);
        for (const ep of expected) assert.ok(seen.includes(ep), `${ep} registered with the example's server (saw ${seen.join(', ') || 'none'})\n${nr.log.slice(mark).join('\n')}`);
      });
    }
  });
}

/** Polls the sidebar's device list of `serverId` until every endpoint in `want` is there (or the time is up). */
async function waitForDevices(nr: NodeRedProcess, serverId: string, want: string[], timeoutMs: number): Promise<string[]> {
  const until = Date.now() + timeoutMs;
  let seen: string[] = [];
  for (;;) {
    const r = await nr.request('GET', `/lwm2m/sidebar/servers/${encodeURIComponent(serverId)}/devices`);
    if (r.status === 200) seen = (JSON.parse(r.body) as { items: Array<{ endpoint: string }> }).items.map((d) => d.endpoint);
    if (want.every((ep) => seen.includes(ep)) || Date.now() > until) return seen;
    await new Promise((res) => setTimeout(res, 100));
  }
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
