/**
 * The package as a user gets it. `npm pack` runs on a copy of the source tree as a fresh clone has it (no dist/; test/
 * and bench/ left out, which the package must not need, so that the build on pack takes half the time), so the
 * tarball exists only if the build on pack works; its contents are checked; then the tarball is installed with
 * `npm install <tarball> --omit=dev` into fresh Node-RED user directories (Node-RED 4.1 from devDependencies on this
 * Node, and Node-RED 5 on Node 22 when CI has installed it under .ci/nr5 or LWM2M_NR5_DIR names one), and Node-RED
 * must list every node type, the sidebar plugin, the icons and the examples; the library loads from the package root.
 * Skipped (with the reason) only when npm cannot run or the registry cannot be reached.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NodeRedProcess, projectRoot } from '../../scripts/node-red-runner';
import { copyAsClone, readmeLinks, run, startNodeRedIn } from './pack-helpers';

const root = projectRoot();
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string; main: string; types: string; license: string; dependencies?: Record<string, string>;
  'node-red': { version: string; nodes: Record<string, string>; plugins?: Record<string, string> };
};
const nodeTypes = Object.keys(pkg['node-red'].nodes);
const pluginIds = Object.keys(pkg['node-red'].plugins ?? {});
const examples = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json')).sort();
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
/** Where a README shown on npm or in the flow library can load a file of the published package from. */
const packageCdn = new RegExp(`^https://cdn\\.jsdelivr\\.net/npm/${pkg.name.replace(/[/.]/g, '\\$&')}(?:@[^/]+)?/(.+)$`);

interface Install { name: string; nodeRedDir: string; nodeBinary: string; userDir?: string; nr?: NodeRedProcess; error?: unknown }
const installs: Install[] = [{ name: `Node-RED 4.1 on Node ${process.version}`, nodeRedDir: path.join(root, 'node_modules', 'node-red'), nodeBinary: process.execPath }];
const nr5 = process.env.LWM2M_NR5_DIR ?? path.join(root, '.ci', 'nr5');
if (fs.existsSync(path.join(nr5, 'node_modules', 'node-red', 'red.js'))) {
  installs.push({ name: 'Node-RED 5 on Node 22', nodeRedDir: path.join(nr5, 'node_modules', 'node-red'), nodeBinary: path.join(nr5, 'node_modules', 'node', 'bin', 'node') });
} else {
  test('the tarball in Node-RED 5 on Node 22', { skip: `Node-RED 5 not installed under ${nr5} (CI installs it; LWM2M_NR5_DIR names another)` }, () => undefined);
}

let work = '';
let npmMissing: string | undefined;
let registryDown: string | undefined;
let tarball = '';
let packed: string[] = [];

after(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function get(nr: NodeRedProcess, urlPath: string, accept = 'application/json'): Promise<string> {
  const r = await nr.request('GET', urlPath, undefined, { Accept: accept });
  assert.equal(r.status, 200, `GET ${urlPath}: ${r.status} ${r.body.slice(0, 200)}`);
  return r.body;
}

describe('npm pack of a fresh clone', { timeout: 300000 }, () => {
  before(async () => {
    const v = await run('npm', ['--version'], { cwd: os.tmpdir(), timeoutMs: 30000 });
    if (v.code !== 0) { npmMissing = `npm cannot run here: ${(v.stderr || v.stdout).trim().slice(0, 200)}`; return; }
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-pack-'));
    const clone = path.join(work, 'clone');
    copyAsClone(root, clone, ['test', 'bench']);
    assert.ok(!fs.existsSync(path.join(clone, 'dist')), 'the copy has no dist/, as a fresh clone');
    const ping = run('npm', ['ping', '--fetch-timeout=20000', '--fetch-retries=0'], { cwd: work, timeoutMs: 40000 });
    const r = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: clone, timeoutMs: 240000 });
    assert.equal(r.code, 0, `npm pack failed:\n${r.stderr.slice(-3000)}`);
    const info = JSON.parse(r.stdout.slice(r.stdout.search(/^\[/m))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(work, info[0].filename);
    packed = info[0].files.map((f) => f.path);
    const p = await ping;
    if (p.code !== 0) {
      const why = (p.stderr || p.stdout).split('\n').map((l) => l.replace(/^npm error\s*/, '').trim()).filter((l) => l && !/complete log/i.test(l));
      registryDown = `the npm registry cannot be reached (npm ping: ${why.find((l) => /reason:/.test(l)) ?? why.slice(0, 2).join('; ')})`;
    }
  });
  test('the build runs on pack: every file the node-red section, main and types name is in the package', (t) => {
    if (npmMissing) return t.skip(npmMissing);
    assert.ok(fs.existsSync(tarball), tarball);
    const named = [...Object.values(pkg['node-red'].nodes), ...Object.values(pkg['node-red'].plugins ?? {}), pkg.main, pkg.types];
    for (const f of named) assert.ok(packed.includes(f), `${f} in the package`);
    // Node-RED loads a node's editor side from the .html beside its .js; the locales and icons come with it.
    for (const f of [...Object.values(pkg['node-red'].nodes), ...Object.values(pkg['node-red'].plugins ?? {})]) {
      assert.ok(packed.includes(f.replace(/\.js$/, '.html')), `${f.replace(/\.js$/, '.html')} in the package`);
    }
    for (const dir of fs.readdirSync(path.join(root, 'nodes'))) {
      for (const sub of ['locales', 'icons']) {
        const src = path.join(root, 'nodes', dir, sub);
        if (!fs.existsSync(src)) continue;
        for (const f of fs.readdirSync(src, { recursive: true }) as string[]) {
          if (fs.statSync(path.join(src, f)).isFile()) assert.ok(packed.includes(`dist/nodes/${dir}/${sub}/${f.split(path.sep).join('/')}`), `dist/nodes/${dir}/${sub}/${f} in the package`);
        }
      }
    }
  });

  test('the examples, README, LICENSE and package.json are in the package; tests, sources and benchmarks are not', (t) => {
    if (npmMissing) return t.skip(npmMissing);
    for (const f of examples) assert.ok(packed.includes(`examples/${f}`), `examples/${f} in the package`);
    for (const f of ['README.md', 'LICENSE', 'package.json']) assert.ok(packed.includes(f), `${f} in the package`);
    const stray = packed.filter((f) => /^(src|nodes|test|bench|scripts)\/|^dist\/(test|bench|scripts)\/|\.ts$(?<!\.d\.ts)|\.tgz$/.test(f));
    assert.deepEqual(stray, [], 'only what a user runs');
  });

  test('LICENSE is the Apache License 2.0 that package.json declares', () => {
    assert.equal(pkg.license, 'Apache-2.0');
    const text = fs.readFileSync(path.join(root, 'LICENSE'), 'utf8');
    assert.match(text, /^\s*Apache License\s+Version 2\.0, January 2004\s+http:\/\/www\.apache\.org\/licenses\//);
    assert.match(text, /TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION/);
    assert.match(text, /9\. Accepting Warranty or Additional Liability\./);
    assert.match(text, /END OF TERMS AND CONDITIONS/);
  });

  test('README links and images work where the README is shown outside the repository (npm, the flow library)', (t) => {
    if (npmMissing) return t.skip(npmMissing);
    const links = readmeLinks(readme);
    assert.ok(links.length > 0, 'the README has links or images');
    for (const l of links) {
      if (l.startsWith('#')) continue;
      assert.match(l, /^(https:\/\/|mailto:)/, `${l}: a relative link resolves only inside the repository`);
      const m = packageCdn.exec(l);
      if (m) assert.ok(packed.includes(m[1]), `${l}: ${m[1]} must be in the package for this link to resolve`);
    }
  });
});

describe('the tarball installed into fresh Node-RED user directories', { timeout: 300000 }, () => {
  before(async () => {
    if (npmMissing || registryDown || !tarball) return;
    await Promise.all(installs.map(async (inst) => {
      try {
        inst.userDir = fs.mkdtempSync(path.join(work, 'userdir-'));
        // What Node-RED writes into a new user directory, so that npm installs here and not in a folder above.
        fs.writeFileSync(path.join(inst.userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true }));
        const r = await run('npm', ['install', tarball, '--omit=dev', '--no-audit', '--no-fund', '--prefix', inst.userDir], { cwd: inst.userDir, timeoutMs: 180000 });
        assert.equal(r.code, 0, `npm install of the tarball failed:\n${r.stderr.slice(-3000)}`);
        inst.nr = await startNodeRedIn(inst.userDir, inst.nodeRedDir, inst.nodeBinary);
      } catch (err) {
        inst.error = err;
      }
    }));
  });
  after(async () => {
    await Promise.all(installs.map((i) => i.nr?.stop()));
  });

  function skipReason(): string | undefined {
    return npmMissing ?? registryDown ?? (tarball ? undefined : 'no tarball (npm pack failed above)');
  }

  test('the install holds the package and its runtime dependencies only', (t) => {
    const skip = skipReason();
    if (skip) return t.skip(skip);
    const userDir = installs[0].userDir!;
    if (installs[0].error) throw installs[0].error;
    const installed = path.join(userDir, 'node_modules', ...pkg.name.split('/'));
    assert.ok(fs.statSync(installed).isDirectory() && !fs.lstatSync(installed).isSymbolicLink(), 'a copy, not a link to the project');
    const top = fs.readdirSync(path.join(userDir, 'node_modules')).flatMap((d) => (d.startsWith('@') ? fs.readdirSync(path.join(userDir, 'node_modules', d)).map((s) => `${d}/${s}`) : [d]));
    for (const d of Object.keys(pkg.dependencies ?? {})) assert.ok(top.includes(d), `runtime dependency ${d} installed`);
    for (const dev of ['node-red', 'typescript', 'coap', 'node-dtls-client', 'playwright-core']) assert.ok(!top.includes(dev), `devDependency ${dev} not installed`);
  });

  test('require() of the package root gives the library, with the errors the README quotes', async (t) => {
    const skip = skipReason();
    if (skip) return t.skip(skip);
    if (installs[0].error) throw installs[0].error;
    const script = `
      const lib = require(${JSON.stringify(pkg.name)});
      const out = { resolved: require.resolve(${JSON.stringify(pkg.name)}), exports: Object.keys(lib) };
      const server = new lib.Lwm2mServer({ address: '127.0.0.1', port: 0 });
      server.start()
        .then(() => server.read('sensor-9', '/3/0'))
        .then(() => { out.read = 'resolved'; }, (e) => { out.error = { isLwm2mError: e instanceof lib.Lwm2mError, code: e.code, message: e.message }; })
        .finally(() => server.close())
        .then(() => console.log(JSON.stringify(out)));`;
    const r = await run(process.execPath, ['-e', script], { cwd: installs[0].userDir!, timeoutMs: 30000 });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { resolved: string; exports: string[]; error?: { isLwm2mError: boolean; code: string; message: string } };
    assert.equal(out.resolved, fs.realpathSync(path.join(installs[0].userDir!, 'node_modules', ...pkg.name.split('/'), pkg.main)));
    for (const name of ['Lwm2mServer', 'Lwm2mClient', 'BootstrapServer', 'createFleet', 'ContentFormat', 'Lwm2mError']) assert.ok(out.exports.includes(name), `${name} exported`);
    // Every name the README's library example imports from the package root exists there.
    const imports = [...readme.matchAll(/import\s*\{([^}]+)\}\s*from\s*'([^']+)'/g)];
    assert.ok(imports.length > 0, 'the README shows the library');
    for (const [, names, from] of imports) {
      assert.equal(from, pkg.name, 'the README imports from the package root');
      for (const n of names.split(',').map((s) => s.trim().replace(/^type\s+/, '')).filter(Boolean)) assert.ok(out.exports.includes(n), `${n} (README) exported`);
    }
    assert.equal(out.error?.isLwm2mError, true, `read of an unknown endpoint fails with an Lwm2mError: ${JSON.stringify(out)}`);
    assert.equal(out.error?.code, 'UNKNOWN_ENDPOINT');
    assert.ok(readme.includes('`' + out.error!.message.replace('sensor-9', 'x') + '`'), `the README quotes the real text: ${out.error!.message}`);
  });

  for (const inst of installs) {
    describe(`in ${inst.name}`, () => {
      function ready(t: { skip(msg?: string): void }): NodeRedProcess | undefined {
        const skip = skipReason();
        if (skip) { t.skip(skip); return undefined; }
        if (inst.error) throw inst.error;
        return inst.nr!;
      }

      test('every node type and the plugin are registered, without errors', async (t) => {
        const nr = ready(t);
        if (!nr) return;
        const sets = JSON.parse(await get(nr, '/nodes')) as Array<{ module: string; types: string[]; enabled: boolean; err?: string; plugins?: Array<{ id: string }> }>;
        const ours = sets.filter((s) => s.module === pkg.name);
        assert.ok(ours.length > 0, `${pkg.name} in /nodes`);
        for (const s of ours) {
          assert.equal(s.err, undefined, `node set error: ${JSON.stringify(s.err)}`);
          assert.equal(s.enabled, true);
        }
        assert.deepEqual(ours.flatMap((s) => s.types).sort(), [...nodeTypes].sort());
        const plugins = JSON.parse(await get(nr, '/plugins')) as Array<{ module: string; plugins: Array<{ id: string }> }>;
        assert.deepEqual(plugins.filter((p) => p.module === pkg.name).flatMap((p) => p.plugins.map((x) => x.id)).sort(), [...pluginIds].sort());
        const errors = nr.log.filter((l) => /\[(error|warn)\]/.test(l) && /lwm2m|fleetwire/i.test(l));
        assert.deepEqual(errors, [], 'no error or warning about the package while loading');
      });

      test('the editor gets every node\'s definition, help, messages and icons', async (t) => {
        const nr = ready(t);
        if (!nr) return;
        const html = await get(nr, '/nodes', 'text/html');
        for (const type of nodeTypes) {
          assert.ok(html.includes(`RED.nodes.registerType('${type}'`), `${type} editor definition served`);
          assert.ok(html.includes(`data-help-name="${type}"`), `${type} help served`);
        }
        const messages = {
          ...JSON.parse(await get(nr, '/nodes/messages?lng=en-US')) as Record<string, unknown>,
          ...JSON.parse(await get(nr, '/plugins/messages?lng=en-US')) as Record<string, unknown>,
        };
        for (const dir of fs.readdirSync(path.join(root, 'nodes'))) {
          if (!fs.existsSync(path.join(root, 'nodes', dir, 'locales', 'en-US', `${dir}.json`))) continue;
          assert.ok(messages[`${pkg.name}/${dir}`], `message catalog of ${dir} served (got ${Object.keys(messages).filter((k) => k.startsWith(pkg.name)).join(', ')})`);
        }
        const icons = JSON.parse(await get(nr, '/icons')) as Record<string, string[]>;
        const expected = new Set(fs.readdirSync(path.join(root, 'nodes')).flatMap((d) => (fs.existsSync(path.join(root, 'nodes', d, 'icons')) ? fs.readdirSync(path.join(root, 'nodes', d, 'icons')) : [])));
        assert.ok(expected.size > 0);
        for (const icon of expected) {
          assert.ok((icons[pkg.name] ?? []).includes(icon), `icon ${icon} listed`);
          const r = await nr.request('GET', `/icons/${pkg.name}/${icon}`, undefined, { Accept: '*/*' });
          assert.equal(r.status, 200, `icon ${icon} served`);
        }
      });

      test('every example is in the import menu and imports as shipped', async (t) => {
        const nr = ready(t);
        if (!nr) return;
        const modules = JSON.parse(await get(nr, '/library/examples/flows/')) as string[];
        assert.ok(modules.includes(pkg.name), `${pkg.name} has examples (got ${modules.join(', ')})`);
        const listed = JSON.parse(await get(nr, `/library/examples/flows/${pkg.name}`)) as Array<{ fn: string } | string>;
        const names = listed.map((e) => (typeof e === 'string' ? e : e.fn)).sort();
        assert.deepEqual(names, examples.map((f) => f.replace(/\.json$/, '')));
        for (const f of examples) {
          const body = await get(nr, `/library/examples/flows/${pkg.name}/${f.replace(/\.json$/, '')}`);
          assert.deepEqual(JSON.parse(body), JSON.parse(fs.readFileSync(path.join(root, 'examples', f), 'utf8')), `${f} as shipped`);
        }
      });
    });
  }
});
