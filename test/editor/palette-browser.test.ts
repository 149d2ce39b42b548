/**
 * The palette icons of this package in a real browser: Debian's Chromium (headless, driven by playwright-core; never a
 * downloaded browser) against a real Node-RED started here with this package. Each node family (server/events, read,
 * write, execute, observe, request, bootstrap, client, device test) has its own icon, in Node-RED's style (white glyph
 * on a transparent 40x60 SVG, like the core nodes' icons): every palette entry references its family's file, the editor
 * loads it (HTTP 200, an SVG), and the families' icons differ. Screenshots of the palette and of the example flows on
 * the workspace go to test-results/palette/.
 *
 * Needs `npm run build` (Node-RED loads dist/) and /usr/bin/chromium (CI: apt-get install chromium).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NodeRedProcess, startNodeRed } from '../../scripts/node-red-runner';
import { projectRoot, browserSkipReason, CHROMIUM } from './helpers';

const root = projectRoot();

const skip = browserSkipReason(root, 'dist/nodes/lwm2m-read/lwm2m-read.html');

type PW = typeof import('playwright-core');
type Page = import('playwright-core').Page;
type BrowserContext = import('playwright-core').BrowserContext;

interface RedWin {
  RED: {
    nodes: { getType(t: string): { category: string } | undefined };
    view: { importNodes(nodes: unknown[], opts: object): void };
    workspaces: { show(id: string): void };
  };
}

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; 'node-red': { nodes: Record<string, string> } };
const NODE_TYPES = Object.keys(pkg['node-red'].nodes);

/** The icon family of each node type shown in the palette (config nodes have no palette entry). */
const FAMILY: Record<string, string> = {
  'lwm2m-events': 'lwm2m-server.svg',
  'lwm2m-read': 'lwm2m-read.svg',
  'lwm2m-write': 'lwm2m-write.svg',
  'lwm2m-execute': 'lwm2m-execute.svg',
  'lwm2m-observe': 'lwm2m-observe.svg',
  'lwm2m-request': 'lwm2m-request.svg',
  'lwm2m-bootstrap': 'lwm2m-bootstrap.svg',
  'lwm2m-client-set': 'lwm2m-client.svg',
  'lwm2m-client-events': 'lwm2m-client.svg',
  'lwm2m-device-test': 'lwm2m-device-test.svg',
};

describe('LwM2M palette icons in the editor (Chromium)', { skip, timeout: 300000 }, () => {
  let nr: NodeRedProcess;
  let userDir: string;
  let browserDir: string;
  let context: BrowserContext;
  let page: Page;
  const shots = path.join(root, 'test-results', 'palette');

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-palette-nr-'));
    browserDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-palette-chromium-'));
    nr = await startNodeRed({ userDir, flows: [] });
    const pw = require('playwright-core') as PW;
    context = await pw.chromium.launchPersistentContext(browserDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1360, height: 1000 },
      deviceScaleFactor: 2, // screenshots sharp enough to judge a 20 px glyph
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? await context.newPage();
    await page.goto(`${nr.url}/`);
    await page.waitForSelector('#red-ui-workspace-chart', { timeout: 60000 });
    await page.waitForFunction((t) => (globalThis as unknown as RedWin).RED?.nodes?.getType(t) !== undefined, NODE_TYPES[NODE_TYPES.length - 1], { timeout: 30000 });
    await page.keyboard.press('Escape');
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await nr?.stop();
    for (const d of [userDir, browserDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  test('every flow node of the package has a family icon in this test\'s table', async () => {
    for (const type of NODE_TYPES) {
      const category = await page.evaluate((t) => (globalThis as unknown as RedWin).RED.nodes.getType(t)!.category, type);
      if (category === 'config') assert.equal(FAMILY[type], undefined, `${type} is a config node`);
      else assert.ok(FAMILY[type], `${type} has a family in FAMILY`);
    }
  });

  test('each palette entry shows its family\'s icon file; it loads as a white-on-transparent SVG; families differ', async () => {
    const container = page.locator('#red-ui-palette-container-LwM2M');
    await container.scrollIntoViewIfNeeded();
    const bodies = new Map<string, string>();
    for (const [type, file] of Object.entries(FAMILY)) {
      const icon = container.locator(`.red-ui-palette-node[data-palette-type="${type}"] .red-ui-palette-icon`);
      assert.equal(await icon.count(), 1, `${type} has one palette icon`);
      const bg = await icon.evaluate((e) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundImage: string } }).getComputedStyle(e).backgroundImage);
      const m = /url\("?([^")]+)"?\)/.exec(bg);
      assert.ok(m, `${type} icon has a background image (got ${bg})`);
      const url = m![1];
      assert.ok(url.endsWith(`/icons/${pkg.name}/${file}`), `${type} references ${file} (got ${url})`);
      // Loaded the way the editor loads it: from the page, same origin.
      const res = await page.evaluate(async (u) => {
        const r = await fetch(u);
        return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
      }, url);
      assert.equal(res.status, 200, `${url} loads`);
      assert.match(res.type, /^image\/svg\+xml/, `${url} is served as SVG`);
      assert.match(res.body, /^<svg [^>]*viewBox="0 0 40 60"/, `${file} is a 40x60 SVG like Node-RED's icons`);
      const colours = [...res.body.matchAll(/(?:fill|stroke)="([^"]+)"/g)].map((c) => c[1].toLowerCase());
      assert.ok(colours.length > 0 && colours.every((c) => c === '#fff' || c === 'none'), `${file} draws white on transparent only (${colours.join(', ')})`);
      assert.doesNotMatch(res.body, /<rect [^>]*width="40" height="60"/, `${file} has no background`);
      const known = bodies.get(file);
      if (known !== undefined) assert.equal(res.body, known, `${file} is the same file for every node of its family`);
      bodies.set(file, res.body);
    }
    const files = [...bodies.keys()];
    assert.equal(files.length, new Set(Object.values(FAMILY)).size);
    assert.equal(new Set(bodies.values()).size, files.length, 'every family draws a different icon');
    await container.screenshot({ path: path.join(shots, 'palette.png') });
  });

  test('the example flows on the workspace show the icons (screenshot)', async () => {
    const flow = JSON.parse(fs.readFileSync(path.join(root, 'examples', '01-server-basics.json'), 'utf8')) as Array<{ type: string; z?: string }>;
    await page.evaluate((nodes) => (globalThis as unknown as RedWin).RED.view.importNodes(nodes, { generateIds: false, addFlow: false, notify: false }), flow);
    const tab = flow.find((n) => n.type === 'tab') as { id: string } | undefined;
    const z = tab?.id ?? flow.find((n) => n.z)!.z!;
    await page.evaluate((id) => (globalThis as unknown as RedWin).RED.workspaces.show(id), z);
    await page.keyboard.press('Escape');
    // Every node of ours on the canvas has an icon image pointing at its family file.
    const hrefs = await page.locator('#red-ui-workspace-chart .red-ui-flow-node-icon-group image').evaluateAll((els) =>
      els.map((e) => (e as unknown as { getAttribute(k: string): string | null }).getAttribute('xlink:href') ?? (e as unknown as { getAttribute(k: string): string | null }).getAttribute('href') ?? ''));
    const ours = hrefs.filter((h) => h.includes(`icons/${pkg.name}/`));
    assert.ok(ours.length > 0, `icons of our nodes on the canvas (got ${hrefs.join(', ')})`);
    for (const h of ours) assert.ok(Object.values(FAMILY).some((f) => h.endsWith(`/${f}`)), `${h} is a family icon`);
    await page.locator('#red-ui-workspace-chart').screenshot({ path: path.join(shots, 'workspace-01.png') });
  });
});
