/**
 * Starts a real Node-RED (4.x from devDependencies, or another install such as Node-RED 5 on Node 22) with this package
 * installed in a user directory, deploys flows through the admin API and collects its log. Used by the demo, by the
 * tests that load the examples, and by the editor end-to-end tests.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';

export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).name === '@fleetwire/node-red-contrib-lwm2m') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('project root not found above ' + __dirname);
    dir = up;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface NodeRedOptions {
  /** User directory (created; our package is linked into its node_modules). */
  userDir: string;
  /** Editor/admin port on 127.0.0.1 (0 = a free one). */
  port?: number;
  /** node-red package folder (default: this project's devDependency). */
  nodeRedDir?: string;
  /** Node binary (default: this process's). */
  nodeBinary?: string;
  /** Flows to start with (written to flows.json). */
  flows?: unknown[];
  /** Echo Node-RED's output to this process's stdout. */
  echo?: boolean;
  /** More settings.js entries (JSON values), e.g. `{ httpAdminRoot: '/red', lwm2m: { ... } }`. */
  settings?: Record<string, unknown>;
}

export class NodeRedProcess {
  readonly log: string[] = [];
  private exited = false;
  constructor(readonly child: ChildProcess, readonly port: number, readonly userDir: string) {
    child.on('exit', () => { this.exited = true; });
  }

  get url(): string { return `http://127.0.0.1:${this.port}`; }

  request(method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = http.request(`${this.url}${urlPath}`, {
        method,
        headers: { Accept: 'application/json', ...(data ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {}), ...headers },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.setTimeout(15000, () => req.destroy(new Error(`${method} ${urlPath}: timeout`)));
      if (data) req.write(data);
      req.end();
    });
  }

  /** Deploys flows (full deployment) and waits until Node-RED has started them. */
  async deploy(flows: unknown[]): Promise<void> {
    const mark = this.log.length;
    const r = await this.request('POST', '/flows', flows, { 'Node-RED-Deployment-Type': 'full' });
    if (r.status !== 204 && r.status !== 200) throw new Error(`deploy failed: ${r.status} ${r.body}`);
    await this.waitForLog(/Started flows|Waiting for missing types/, 20000, mark);
  }

  /** Resolves with the first log line (after index `from`) matching `re`. */
  async waitForLog(re: RegExp, timeoutMs = 20000, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.log.slice(from).find((l) => re.test(l));
      if (line) return line;
      if (this.exited) throw new Error(`Node-RED exited; log:\n${this.log.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`no log line matching ${re} within ${timeoutMs} ms; log:\n${this.log.slice(-40).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  stop(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => this.child.kill('SIGKILL'), 10000);
      this.child.once('exit', () => { clearTimeout(t); resolve(); });
      this.child.kill('SIGINT');
    });
  }
}

/** Links this package into `<userDir>/node_modules` the way `npm install <folder>` does. */
export function installInto(userDir: string): void {
  const root = projectRoot();
  const scopeDir = path.join(userDir, 'node_modules', '@fleetwire');
  fs.mkdirSync(scopeDir, { recursive: true });
  const link = path.join(scopeDir, 'node-red-contrib-lwm2m');
  try { fs.rmSync(link, { recursive: true, force: true }); } catch { /* absent */ }
  fs.symlinkSync(root, link, 'dir');
}

export async function startNodeRed(opts: NodeRedOptions): Promise<NodeRedProcess> {
  const root = projectRoot();
  const userDir = path.resolve(opts.userDir);
  fs.mkdirSync(userDir, { recursive: true });
  installInto(userDir);
  const port = opts.port || await freePort();
  const settings = path.join(userDir, 'settings.js');
  fs.writeFileSync(settings, `module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${port},
  flowFile: 'flows.json',
  credentialSecret: 'lwm2m-demo-local-only',
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { tours: false, projects: { enabled: false } },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  telemetry: { enabled: false },
  diagnostics: { enabled: false },
  ...${JSON.stringify(opts.settings ?? {})},
};
`);
  if (opts.flows) fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(opts.flows, null, 2));
  const nrDir = opts.nodeRedDir ?? path.join(root, 'node_modules', 'node-red');
  const child = spawn(opts.nodeBinary ?? process.execPath, [path.join(nrDir, 'red.js'), '--userDir', userDir, '--settings', settings], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' },
  });
  const nr = new NodeRedProcess(child, port, userDir);
  let partial = '';
  const onData = (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      nr.log.push(l);
      if (opts.echo) process.stdout.write(l + '\n');
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  await nr.waitForLog(/Server now running at|Started flows/, 60000);
  return nr;
}
