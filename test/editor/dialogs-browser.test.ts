/**
 * The editor side of every node of this package, in a real browser: Debian's Chromium (headless, driven by playwright-core;
 * never a downloaded browser) against a real Node-RED started here with this package. The example flows are imported
 * into the editor (not deployed: nothing listens on their fixed ports), and for every node type:
 *  - it is in the palette under the "LwM2M" category with its readable label (config nodes: in the Configuration nodes
 *    sidebar instead),
 *  - its edit dialog opens from the workspace (double-click) and shows no untranslated label or placeholder (no raw
 *    i18n key such as "lwm2m-read.label.server"),
 *  - its help has the sections a Node-RED user expects (Inputs when it has an input, Outputs when it has an output,
 *    Properties for a config node, Details).
 * Also: the path field suggests names (datalist from GET lwm2m/paths), and the toggled sections of the dialogs show
 * and hide as their switch says. Screenshots of every dialog go to test-results/dialogs/.
 *
 * Needs `npm run build` (Node-RED loads dist/) and /usr/bin/chromium (CI: apt-get install chromium).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NodeRedProcess, startNodeRed } from '../../scripts/node-red-runner';
import { projectRoot, waitFor, browserSkipReason, CHROMIUM } from './helpers';

const root = projectRoot();
const UNTRANSLATED = /^lwm2m-[a-z-]+\.(label|placeholder)\./;

const skip = browserSkipReason(root, 'dist/nodes/lwm2m-read/lwm2m-read.html');

type PW = typeof import('playwright-core');
type Page = import('playwright-core').Page;
type BrowserContext = import('playwright-core').BrowserContext;

interface FlowNode { id: string; type: string; z?: string; name?: string; [k: string]: unknown }
/** The editor's globals, as far as these tests use them. */
interface RedWin {
  RED: {
    nodes: {
      getType(t: string): { category: string; inputs?: number; outputs?: number; paletteLabel?: unknown } | undefined;
      node(id: string): unknown;
      filterNodes(f: object): Array<Record<string, unknown>>;
    };
    view: { importNodes(nodes: unknown[], opts: object): void };
    workspaces: { show(id: string): void };
    editor: { editConfig(name: string, type: string, id: string): void };
    sidebar: { show(id: string): void; help: { show(type: string): void } };
    tray: { close(): void };
  };
}

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const NODE_TYPES = Object.keys(pkg['node-red'].nodes);
const EXAMPLES = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json')).sort();
const examples = EXAMPLES.map((f) => ({ file: f, nodes: JSON.parse(fs.readFileSync(path.join(root, 'examples', f), 'utf8')) as FlowNode[] }));

describe('LwM2M node dialogs, palette and help in the editor (Chromium)', { skip, timeout: 300000 }, () => {
  let nr: NodeRedProcess;
  let userDir: string;
  let browserDir: string;
  let context: BrowserContext;
  let page: Page;
  const shots = path.join(root, 'test-results', 'dialogs');
  const consoleErrors: string[] = [];

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-dialogs-nr-'));
    browserDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-dialogs-chromium-'));
    nr = await startNodeRed({ userDir, flows: [] });
    const pw = require('playwright-core') as PW;
    context = await pw.chromium.launchPersistentContext(browserDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1360, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    await page.goto(`${nr.url}/`);
    await page.waitForSelector('#red-ui-workspace-chart', { timeout: 60000 });
    await page.waitForFunction((t) => (globalThis as unknown as RedWin).RED?.nodes?.getType(t) !== undefined, NODE_TYPES[NODE_TYPES.length - 1], { timeout: 30000 });
    // Import every example flow the way Import > Examples does, each in its own tab; nothing is deployed. The examples
    // share one server config node (so two imported examples never bind udp/5683 twice); a user importing a second
    // example keeps the existing one, as done here.
    const imported = new Set<string>();
    for (const ex of examples) {
      const fresh = ex.nodes.filter((node) => !imported.has(String(node.id)));
      for (const node of fresh) imported.add(String(node.id));
      await page.evaluate((nodes) => (globalThis as unknown as RedWin).RED.view.importNodes(nodes, { generateIds: false, addFlow: false, notify: false }), fresh);
    }
    await page.keyboard.press('Escape');
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await nr?.stop();
    for (const d of [userDir, browserDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  test('the examples cover every node type of the package', () => {
    const used = new Set(examples.flatMap((ex) => ex.nodes.map((n) => n.type)));
    for (const t of NODE_TYPES) assert.ok(used.has(t), `no example uses ${t}`);
  });

  test('every imported example node is valid in the editor (no red triangle, no "invalid properties" on deploy)', async () => {
    const invalid = await page.evaluate(() => {
      type N = Record<string, unknown>;
      const nodes = (globalThis as unknown as { RED: { nodes: { eachNode(f: (n: N) => void): void; eachConfig(f: (n: N) => void): void } } }).RED.nodes;
      const out: string[] = [];
      const check = (n: N) => { if (String(n.type).startsWith('lwm2m-') && n.valid === false) out.push(`${n.type} ${n.id}: ${JSON.stringify(n.validationErrors)}`); };
      nodes.eachNode(check);
      nodes.eachConfig(check);
      return out;
    });
    assert.deepEqual(invalid, []);
  });

  test('every flow node is in the palette under "LwM2M" with a readable label; config nodes in the config sidebar', async () => {
    const header = page.locator('#red-ui-palette-header-LwM2M');
    assert.equal((await header.innerText()).trim(), 'LwM2M');
    for (const type of NODE_TYPES) {
      const def = await page.evaluate((t) => {
        const d = (globalThis as unknown as RedWin).RED.nodes.getType(t)!;
        return { category: d.category, paletteLabel: typeof d.paletteLabel === 'string' ? d.paletteLabel : undefined };
      }, type);
      if (def.category === 'config') {
        await showConfigSidebar();
        for (const n of examples.flatMap((ex) => ex.nodes.filter((x) => x.type === type))) {
          const entry = configEntry(n.id);
          await entry.waitFor({ timeout: 10000 });
          const label = (await entry.locator('.red-ui-palette-label').innerText()).trim();
          assert.equal(label, n.name, `${type} ${n.id} is listed by its name`);
        }
        continue;
      }
      assert.equal(def.category, 'LwM2M', `${type} category`);
      const entry = page.locator(`#red-ui-palette-container-LwM2M .red-ui-palette-node[data-palette-type="${type}"]`);
      assert.equal(await entry.count(), 1, `${type} in the LwM2M palette category`);
      // Long labels wrap on two lines in the palette.
      const label = (await entry.locator('.red-ui-palette-label').innerText()).replace(/\s+/g, ' ').trim();
      assert.equal(label, def.paletteLabel, `${type} palette label`);
      assert.match(label, /^lwm2m [a-z ]+$/, `${type} palette label is readable`);
      assert.equal(await entry.locator('.red-ui-palette-icon').count(), 1, `${type} has an icon`);
    }
    await page.locator('#red-ui-palette-container-LwM2M').scrollIntoViewIfNeeded();
    await page.locator('#red-ui-palette-container-LwM2M').screenshot({ path: path.join(shots, '00-palette.png') });
  });

  /** The entry of config node `id` in the Configuration nodes sidebar (marked so that the browser can click it). */
  function configEntry(id: string): import('playwright-core').Locator {
    return page.locator(`.red-ui-palette-node-config[data-test-id="${id}"]`);
  }
  async function showConfigSidebar(): Promise<void> {
    await page.evaluate(() => {
      const w = globalThis as unknown as RedWin & { $: (s: string) => { each(f: (i: number, e: { parentNode: unknown; setAttribute(k: string, v: string): void }) => void): void; data?: unknown } };
      w.RED.sidebar.show('config');
      // The sidebar keeps each entry's node id as jQuery data of its <li>.
      const jq = (globalThis as unknown as { $: (e: unknown) => { data(k: string): string } }).$;
      w.$('.red-ui-palette-node-config').each((_i, e) => e.setAttribute('data-test-id', jq(e.parentNode).data('data-node-id')));
    });
  }

  /** Opens the edit dialog of `node` like a user: double-click in its tab (config nodes: from the config sidebar). */
  async function openDialog(node: FlowNode, config: boolean): Promise<import('playwright-core').Locator> {
    if (config) {
      await showConfigSidebar();
      await configEntry(node.id).dblclick();
    } else {
      await page.evaluate((z) => (globalThis as unknown as RedWin).RED.workspaces.show(z), node.z!);
      await page.locator(`[id="${node.id}"]`).dblclick();
    }
    const tray = page.locator('.red-ui-tray').last();
    await tray.locator(config ? '#node-config-dialog-edit-form' : '#dialog-form').waitFor({ timeout: 10000 });
    await page.waitForTimeout(300); // the tray slides in
    return tray;
  }

  async function closeDialog(config: boolean): Promise<void> {
    await page.locator(config ? '#node-config-dialog-cancel' : '#node-dialog-cancel').click();
    await waitFor(async () => (await page.locator('.red-ui-tray').count()) === 0, 10000, 'dialog closed');
  }

  /** Every visible text and placeholder of the dialog's form that still reads like an i18n key. */
  async function untranslated(tray: import('playwright-core').Locator): Promise<string[]> {
    // The DOM as far as this check uses it (the project compiles without the DOM library).
    interface El { childNodes: ArrayLike<{ nodeType: number; textContent: string | null }>; textContent: string | null; getAttribute(k: string): string | null }
    return tray.locator('.red-ui-tray-body').evaluate((body, re) => {
      const rx = new RegExp(re);
      const bad: string[] = [];
      for (const el of Array.from((body as unknown as { querySelectorAll(s: string): ArrayLike<El> }).querySelectorAll('*'))) {
        const own = Array.from(el.childNodes).filter((c) => c.nodeType === 3).map((c) => c.textContent ?? '').join('').trim();
        if (own && rx.test(own)) bad.push(`text "${own}"`);
        const ph = el.getAttribute('placeholder');
        if (ph && rx.test(ph)) bad.push(`placeholder "${ph}"`);
        // An element with data-i18n that rendered nothing is as bad as a raw key.
        const key = el.getAttribute('data-i18n');
        if (key && !key.startsWith('[') && (el.textContent ?? '').trim() === '') bad.push(`empty ${key}`);
      }
      return bad;
    }, UNTRANSLATED.source);
  }

  for (const type of NODE_TYPES) {
    test(`${type}: every example's edit dialog opens with translated labels`, async () => {
      const isConfig = await page.evaluate((t) => (globalThis as unknown as RedWin).RED.nodes.getType(t)!.category === 'config', type);
      const nodes = examples.flatMap((ex) => ex.nodes.filter((n) => n.type === type).map((n) => ({ n, file: ex.file })));
      assert.ok(nodes.length > 0);
      for (const { n, file } of nodes) {
        const tray = await openDialog(n, isConfig);
        assert.deepEqual(await untranslated(tray), [], `${type} ${n.id} (${file})`);
        // Every form row's label is visible text (or an icon-only spacer before a checkbox).
        const labels = await tray.locator('.form-row:visible > label:visible').evaluateAll((els) => els.map((e) => (e.textContent ?? '').replace(/\u00a0/g, ' ').trim()));
        assert.ok(labels.some((l) => l.length > 0), `${type}: labels render`);
        await tray.screenshot({ path: path.join(shots, `${file.replace(/\.json$/, '')}-${type}-${n.id.slice(-4)}.png`) });
        await closeDialog(isConfig);
      }
    });
  }

  /** The first example node of `type`. */
  const first = (type: string): FlowNode => examples.flatMap((ex) => ex.nodes).find((n) => n.type === type)!;
  const visible = (tray: import('playwright-core').Locator, sel: string) => tray.locator(sel).first().isVisible();

  test('the path field suggests objects and resources by name (GET lwm2m/paths)', async () => {
    const r = await nr.request('GET', '/lwm2m/paths');
    assert.equal(r.status, 200);
    const items = JSON.parse(r.body) as Array<{ path: string; label: string }>;
    const temp = items.find((i) => i.path === '/3303/0/5700');
    assert.ok(temp, 'the route knows /3303/0/5700');
    for (const type of ['lwm2m-read', 'lwm2m-write', 'lwm2m-execute', 'lwm2m-observe', 'lwm2m-request', 'lwm2m-client-set']) {
      const tray = await openDialog(first(type), false);
      const listId = await tray.locator('#node-input-path').getAttribute('list');
      assert.ok(listId, `${type}: the path field has a datalist`);
      await waitFor(async () => (await tray.locator(`datalist[id="${listId}"] option`).count()) > 10, 10000, `${type} suggestions loaded`);
      const label = await tray.locator(`datalist[id="${listId}"] option[value="/3303/0/5700"]`).textContent();
      assert.equal(label, temp!.label + ((temp as { units?: string }).units ? ` [${(temp as { units?: string }).units}]` : ''), `${type}: suggestion text`);
      await closeDialog(false);
    }
  });

  test('toggled sections follow their switch', async () => {
    // Server: the DTLS rows only with DTLS on.
    let tray = await openDialog(first('lwm2m-server'), true);
    const dtls = tray.locator('#node-config-input-dtls');
    await dtls.setChecked(false);
    assert.equal(await visible(tray, '#node-config-input-dtlsPort'), false);
    assert.equal(await visible(tray, '#node-config-input-psk'), false);
    await dtls.setChecked(true);
    assert.equal(await visible(tray, '#node-config-input-dtlsPort'), true);
    assert.equal(await visible(tray, '#node-config-input-psk'), true);
    await tray.screenshot({ path: path.join(shots, 'toggle-server-dtls-on.png') });
    await closeDialog(true);

    // Client: PSK identity and key only with PSK; the bootstrap URI replaces the server URI in bootstrap mode.
    tray = await openDialog(first('lwm2m-client'), true);
    await tray.locator('#node-config-input-security').selectOption('none');
    assert.equal(await visible(tray, '#node-config-input-identity'), false);
    assert.equal(await visible(tray, '#node-config-input-key'), false);
    await tray.locator('#node-config-input-security').selectOption('psk');
    assert.equal(await visible(tray, '#node-config-input-identity'), true);
    assert.equal(await visible(tray, '#node-config-input-key'), true);
    await tray.locator('#node-config-input-bootstrap').setChecked(false);
    assert.equal(await visible(tray, '#node-config-input-serverUri'), true);
    assert.equal(await visible(tray, '#node-config-input-bootstrapUri'), false);
    await tray.locator('#node-config-input-bootstrap').setChecked(true);
    assert.equal(await visible(tray, '#node-config-input-serverUri'), false);
    assert.equal(await visible(tray, '#node-config-input-bootstrapUri'), true);
    await tray.screenshot({ path: path.join(shots, 'toggle-client-bootstrap-psk.png') });
    await closeDialog(true);

    // Bootstrap: the table, its header, delete-first and keys in table mode; the flow timeout in flow mode.
    tray = await openDialog(first('lwm2m-bootstrap'), false);
    await tray.locator('#node-input-mode').selectOption('table');
    for (const sel of ['#node-input-table-container', '.lwm2m-bs-header', '#node-input-deleteFirst', '#node-input-keys']) assert.equal(await visible(tray, sel), true, sel);
    assert.equal(await visible(tray, '#node-input-timeout'), false);
    assert.match(await tray.locator('.lwm2m-bs-header').innerText(), /Server URI/);
    await tray.locator('#node-input-mode').selectOption('flow');
    for (const sel of ['#node-input-table-container', '.lwm2m-bs-header', '#node-input-deleteFirst', '#node-input-keys']) assert.equal(await visible(tray, sel), false, sel);
    assert.equal(await visible(tray, '#node-input-timeout'), true);
    await tray.screenshot({ path: path.join(shots, 'toggle-bootstrap-flow.png') });
    await closeDialog(false);

    // Request: the rows of the chosen operation only; all of them when msg.operation chooses.
    tray = await openDialog(first('lwm2m-request'), false);
    const rows = { mode: '#node-input-mode', args: '#node-input-args', format: '#node-input-format', keys: '#node-input-keys' };
    const expect: Record<string, string[]> = {
      read: ['format', 'keys'], write: ['mode', 'format'], execute: ['args'], discover: [], create: [], 'write-attributes': [],
      '': ['mode', 'args', 'format', 'keys'],
    };
    for (const [op, shown] of Object.entries(expect)) {
      await tray.locator('#node-input-operation').selectOption(op);
      for (const [name, sel] of Object.entries(rows)) {
        assert.equal(await visible(tray, sel), shown.includes(name), `operation "${op}": ${name} row`);
      }
    }
    await tray.screenshot({ path: path.join(shots, 'toggle-request-any-operation.png') });
    await closeDialog(false);
  });

  test('help of every node type has its Inputs / Outputs / Properties and Details sections', async () => {
    for (const type of NODE_TYPES) {
      const def = await page.evaluate((t) => {
        const d = (globalThis as unknown as RedWin).RED.nodes.getType(t)!;
        return { category: d.category, inputs: d.inputs ?? 0, outputs: d.outputs ?? 0 };
      }, type);
      await page.evaluate((t) => (globalThis as unknown as RedWin).RED.sidebar.help.show(t), type);
      const help = page.locator('#red-ui-sidebar-content .red-ui-help').filter({ visible: true }).first();
      await help.waitFor({ timeout: 10000 });
      await waitFor(async () => (await help.locator('h3').count()) > 0, 5000, `${type} help shown`);
      const sections = (await help.locator('h3').allInnerTexts()).map((s) => s.trim());
      const text = await help.innerText();
      assert.ok(!/^lwm2m-[a-z-]+\./m.test(text), `${type}: no raw keys in the help`);
      const want = def.category === 'config' ? ['Properties'] : [
        ...(def.inputs > 0 ? ['Inputs'] : []),
        ...(def.outputs > 0 ? ['Outputs'] : []),
      ];
      want.push('Details');
      for (const s of want) assert.ok(sections.includes(s), `${type} help lacks "${s}" (has ${sections.join(', ')})`);
      if (def.inputs === 0) assert.ok(!sections.includes('Inputs'), `${type} has no input but documents Inputs`);
      if (def.outputs === 0) assert.ok(!sections.includes('Outputs'), `${type} has no output but documents Outputs`);
    }
    await page.locator('#red-ui-sidebar').screenshot({ path: path.join(shots, '99-help-last.png') });
  });

  test('no editor errors from our nodes', () => {
    assert.deepEqual(consoleErrors.filter((e) => /lwm2m/i.test(e)), []);
  });
});
