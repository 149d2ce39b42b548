/**
 * Helpers of the sidebar tests: our server with our client as the device, on loopback and ephemeral ports; waiting for
 * conditions; finding the shared OMA registry folder when it is present.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Lwm2mServer, Lwm2mServerOptions } from '../../src/server';
import { Lwm2mClient, Lwm2mClientOptions } from '../../src/client';
import { ModelRegistry } from '../../src/model/registry';

let seq = 0;

export const OBJECTS = {
  3303: { 0: { 5700: 21.5, 5701: 'Cel' } },
  3311: { 0: { 5850: true, 5851: 50 } },
};

export async function startServer(opts: Lwm2mServerOptions = {}): Promise<Lwm2mServer> {
  const server = new Lwm2mServer({ address: '127.0.0.1', port: 0, ...opts });
  await server.start();
  return server;
}

export async function startClient(port: number, opts: Partial<Lwm2mClientOptions> = {}): Promise<Lwm2mClient> {
  const client = new Lwm2mClient({
    endpoint: `sidebar-test-${process.pid}-${++seq}`,
    serverUri: `coap://127.0.0.1:${port}`,
    localAddress: '127.0.0.1',
    objects: OBJECTS,
    device: { manufacturer: 'Fleetwire', model: 'FW-1', batteryLevel: 87 },
    ...opts,
  });
  client.on('error', () => undefined);
  await client.start();
  await client.whenRegistered(10000);
  return client;
}

/** Polls `cond` until it is true. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The project root (walking up to our package.json): from test/ under tsx and from dist/test/. */
import { projectRoot } from '../../scripts/node-red-runner';
export { projectRoot };

/** The OMA registry copy beside the project (../shared/lwm2m-registry), or undefined when this machine has none. */
export function sharedRegistryDir(): string | undefined {
  const dir = path.join(projectRoot(), '..', 'shared', 'lwm2m-registry');
  return fs.existsSync(path.join(dir, '3303.xml')) ? dir : undefined;
}

/** A registry with the built-ins plus one object definition from a DDF file (for a client that serves it). */
export function registryWith(file: string): ModelRegistry {
  const r = ModelRegistry.withBuiltins();
  r.loadDdfFile(file);
  return r;
}

/**
 * The simple default values of a node type's editor definition (`defaults: { port: { value: 5683 }, ... }` in its .html),
 * so that the flow written here stays valid in the editor when the node gains settings (an invalid config node makes
 * the editor ask before deploying).
 */
export function editorDefaults(type: string): Record<string, unknown> {
  const html = fs.readFileSync(path.join(projectRoot(), 'nodes', type, `${type}.html`), 'utf8');
  const out: Record<string, unknown> = {};
  const re = /(\w+):\s*\{\s*value:\s*('(?:[^'\\]|\\.)*'|-?\d+(?:\.\d+)?|true|false)/g;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    const v = m[2];
    out[m[1]] = v.startsWith("'") ? v.slice(1, -1) : v === 'true' ? true : v === 'false' ? false : Number(v);
  }
  return out;
}

/** Debian's Chromium, which the browser tests drive through playwright-core (CI installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Why a browser test cannot run here, or false: Chromium absent, a module missing (playwright-core and `modules`), or
 * the built file it serves (`built`, relative to the project root) not there yet.
 */
export function browserSkipReason(root: string, built: string, modules: string[] = []): string | false {
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} is absent (CI installs it: apt-get install chromium)`;
  for (const m of ['playwright-core', ...modules]) {
    try {
      require.resolve(m);
    } catch {
      return `${m.split('/package.json')[0]} is not installed (npm install)`;
    }
  }
  if (!fs.existsSync(path.join(root, built))) return `${built} is missing: run npm run build first`;
  return false;
}
