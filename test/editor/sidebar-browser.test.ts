/**
 * End to end, in a real browser: Debian's Chromium (headless, driven by playwright-core; never a downloaded browser)
 * against a real Node-RED started here with this package, its admin under httpAdminRoot /red. Our LwM2M client plays
 * the device on loopback. A device registers and appears in the LwM2M sidebar; a read, a write and an observe from the
 * sidebar work; a read node dragged from the object tree into the workspace reads the value in the deployed flow. At
 * 1400x900 the LwM2M tab's button is in the tab bar (not only in the overflow menu) and ctrl-g l opens it; observed
 * numbers are charted; the device list is sorted and saved as CSV.
 * Screenshots go to test-results/editor/ (and to docs/sidebar.png with LWM2M_DOCS_SCREENSHOT=1).
 *
 * Needs `npm run build` (Node-RED loads dist/) and /usr/bin/chromium (CI: apt-get install chromium).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NodeRedProcess, startNodeRed } from '../../scripts/node-red-runner';
import { Lwm2mClient } from '../../src/client';
import { editorDefaults, projectRoot, startClient, waitFor, browserSkipReason, CHROMIUM } from './helpers';
import { bulkRegister } from './bulk-register';

const root = projectRoot();
const ADMIN = '/red';

const skip = browserSkipReason(root, 'dist/nodes/lwm2m-sidebar/lwm2m-sidebar.html');

// Types of playwright-core, loaded lazily so that a machine without it only skips.
type PW = typeof import('playwright-core');
type Page = import('playwright-core').Page;
type BrowserContext = import('playwright-core').BrowserContext;

const IDS = { tab: 'e2etab0000000001', server: 'e2esrv0000000001', events: 'e2eevt0000000001', inject: 'e2einj0000000001', debug: 'e2edbg0000000001' };
const FLOW = [
  { id: IDS.tab, type: 'tab', label: 'LwM2M e2e' },
  { ...editorDefaults('lwm2m-server'), id: IDS.server, type: 'lwm2m-server', name: 'e2e server', address: '127.0.0.1', port: 0, dtlsPort: 0, persist: false },
  { id: IDS.events, type: 'lwm2m-events', z: IDS.tab, name: '', server: IDS.server, endpoint: '', events: ['registered'], x: 160, y: 260, wires: [[]] },
  { id: IDS.inject, type: 'inject', z: IDS.tab, name: 'go', props: [{ p: 'payload' }], repeat: '', once: false, topic: '', payload: '', payloadType: 'date', x: 130, y: 120, wires: [[]] },
  { id: IDS.debug, type: 'debug', z: IDS.tab, name: 'result', active: true, tosidebar: true, console: false, complete: 'payload', targetType: 'msg', x: 610, y: 120, wires: [] },
];

describe('LwM2M sidebar in the editor (Chromium)', { skip, timeout: 240000 }, () => {
  let nr: NodeRedProcess;
  let userDir: string;
  let browserDir: string;
  let context: BrowserContext;
  let page: Page;
  let client: Lwm2mClient;
  let lwm2mPort = 0;
  const shots = path.join(root, 'test-results', 'editor');
  const consoleErrors: string[] = [];

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: path.join(shots, name) });
  }
  const row = (p: string) => page.locator(`.lwm2m-sb-res[data-path="${p}"]`);

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-e2e-nr-'));
    browserDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-e2e-chromium-'));
    nr = await startNodeRed({ userDir, flows: FLOW, settings: { httpAdminRoot: ADMIN } });
    await nr.waitForLog(/LwM2M server listening/, 20000);
    const servers = JSON.parse((await nr.request('GET', `${ADMIN}/lwm2m/sidebar/servers`)).body) as Array<{ id: string; port: number }>;
    lwm2mPort = servers.find((s) => s.id === IDS.server)!.port;
    client = await startClient(lwm2mPort, { endpoint: 'e2e-sensor-01' });
    const pw = require('playwright-core') as PW;
    context = await pw.chromium.launchPersistentContext(browserDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      acceptDownloads: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    await page.goto(`${nr.url}${ADMIN}/`);
    await page.waitForSelector('#red-ui-workspace-chart', { timeout: 60000 });
    await page.waitForFunction(() => (globalThis as unknown as { RED: { nodes: { getType(t: string): unknown } } }).RED?.nodes?.getType('lwm2m-read') !== undefined, undefined, { timeout: 30000 });
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await client?.stop().catch(() => undefined);
    await nr?.stop();
    for (const d of [userDir, browserDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  test('at 1400x900 the LwM2M tab is in the tab bar, in the View menu and on ctrl-g l', async () => {
    // The editor as it opens, with the sidebar at its default width and every tab the installed modules add.
    await page.waitForSelector('#red-ui-tab-lwm2m-link-button', { state: 'attached', timeout: 15000 });
    await page.waitForTimeout(300);
    const tabs = await page.locator('.red-ui-tab-link-buttons a').evaluateAll((els) => els.map((e) => ({
      id: e.id, shown: (e as unknown as { offsetParent: unknown }).offsetParent !== null })));
    const lwm2m = tabs.find((t) => t.id === 'red-ui-tab-lwm2m-link-button');
    assert.ok(lwm2m?.shown, `the LwM2M button is on screen, not only in the overflow menu: ${JSON.stringify(tabs)}`);
    const icon = await page.locator('#red-ui-tab-lwm2m-link-button i').getAttribute('class');
    assert.match(icon ?? '', /fa-microchip/);
    await shot('00-tab-bar-1400x900.png');

    // Keyboard shortcut, as ctrl-g d for Debug (keys go to the editor, not to a text field).
    await page.locator('#red-ui-workspace-chart').click({ position: { x: 600, y: 500 } });
    await page.keyboard.press('Control+g');
    await page.keyboard.press('l');
    await page.locator('.lwm2m-sb').waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await page.locator('#red-ui-tab-lwm2m').evaluate((el) => el.classList.contains('active')), true, 'the LwM2M tab is selected');
    assert.match(await page.locator('#red-ui-tab-lwm2m').innerText(), /LwM2M/, 'a short label');
    // View menu entry (Node-RED adds one per sidebar tab) and the action with its shortcut.
    assert.equal(await page.locator('#menu-item-view-menu-lwm2m').count(), 1);
    const key = await page.evaluate(() => (globalThis as unknown as { RED: { keyboard: { getShortcut(a: string): { key: string } | undefined } } }).RED.keyboard.getShortcut('lwm2m:show-lwm2m-tab'));
    assert.equal(key?.key, 'ctrl-g l');
    await page.evaluate(() => (globalThis as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show('debug'));
    await page.locator('#red-ui-tab-lwm2m-link-button').click();
    await page.locator('.lwm2m-sb').waitFor({ state: 'visible', timeout: 5000 });

    // A wider sidebar, as a user looking at devices would have it (and for readable screenshots).
    const sep = (await page.locator('#red-ui-sidebar-separator').boundingBox())!;
    await page.mouse.move(sep.x + sep.width / 2, sep.y + sep.height / 2);
    await page.mouse.down();
    await page.mouse.move(sep.x - 180, sep.y + sep.height / 2, { steps: 8 });
    await page.mouse.up();
  });

  test('a registered device appears in the LwM2M sidebar', async () => {
    await page.evaluate(() => (globalThis as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show('lwm2m'));
    const item = page.locator('.lwm2m-sb-row[data-endpoint="e2e-sensor-01"]');
    await item.waitFor({ timeout: 15000 });
    const text = await item.innerText();
    assert.match(text, /e2e-sensor-01/);
    assert.match(text, /1\.1/);
    assert.match(text, /127\.0\.0\.1/);
    assert.match(await page.locator('.lwm2m-sb-count').innerText(), /1 device/);
    await shot('01-device-list.png');

    // A second device registering shows up live (RED.comms), without reloading anything.
    const other = await startClient(lwm2mPort, { endpoint: 'e2e-sensor-02' });
    try {
      await page.locator('.lwm2m-sb-row[data-endpoint="e2e-sensor-02"]').waitFor({ timeout: 15000 });
      await page.locator('.lwm2m-sb-search').fill('sensor-02');
      await waitFor(async () => (await page.locator('.lwm2m-sb-row[data-endpoint]').count()) === 1, 10000, 'search filters the list');
      assert.equal(await page.locator('.lwm2m-sb-row[data-endpoint="e2e-sensor-02"]').count(), 1);
      await page.locator('.lwm2m-sb-search').fill('');
    } finally {
      await other.stop();
    }
    await waitFor(async () => (await page.locator('.lwm2m-sb-row[data-endpoint="e2e-sensor-02"]').count()) === 0, 15000, 'deregistered device leaves the list');
  });

  test('the device shows its object tree with names from the model', async () => {
    await page.locator('.lwm2m-sb-row[data-endpoint="e2e-sensor-01"]').click();
    await row('/3303/0/5700').waitFor({ timeout: 15000 });
    assert.match(await page.locator('.lwm2m-sb-obj[data-path="/3303"] > .lwm2m-sb-node .name').innerText(), /Temperature/);
    assert.match(await row('/3303/0/5700').innerText(), /Sensor Value/);
    assert.match(await row('/3/0/9').innerText(), /Battery Level\s+%/, 'units');
    assert.match(await row('/3/0/0').innerText(), /Manufacturer/);
  });

  test('read from the sidebar', async () => {
    await row('/3303/0/5700').locator('button[data-op="read"]').click();
    await waitFor(async () => (await row('/3303/0/5700').locator('.val').innerText()) === '21.5', 10000, 'read value shown');
    await row('/3/0/0').locator('button[data-op="read"]').click();
    await waitFor(async () => (await row('/3/0/0').locator('.val').innerText()) === 'Fleetwire', 10000, 'manufacturer shown');
    assert.match(await page.locator('.lwm2m-sb-status').innerText(), /2\.05/);
  });

  test('write from the sidebar, with a form fitted to the resource type', async () => {
    await row('/3311/0/5851').locator('button[data-op="write"]').click();
    const form = page.locator('.lwm2m-sb-form[data-path="/3311/0/5851"]');
    await form.waitFor();
    assert.match(await form.innerText(), /integer/);
    await form.locator('.f-value').fill('7x');
    await form.locator('.f-submit').click();
    await waitFor(async () => /not an integer/.test(await page.locator('.lwm2m-sb-status').innerText()), 10000, 'typed error shown');
    assert.equal(client.get('/3311/0/5851'), 50, 'nothing written');
    await form.locator('.f-value').fill('75');
    await form.locator('.f-submit').click();
    await waitFor(() => client.get('/3311/0/5851') === 75, 10000, 'device received the write');
    await waitFor(async () => (await row('/3311/0/5851').locator('.val').innerText()) === '75', 10000, 'written value shown');
    // A boolean resource gets a true/false choice.
    await row('/3311/0/5850').locator('button[data-op="write"]').click();
    const bform = page.locator('.lwm2m-sb-form[data-path="/3311/0/5850"]');
    await bform.locator('select.f-value').selectOption('false');
    await bform.locator('.f-submit').click();
    await waitFor(() => client.get('/3311/0/5850') === false, 10000, 'boolean written');
  });

  test('execute with arguments, write-attributes and discover from the sidebar', async () => {
    const got = new Promise<{ path: string; raw: string }>((resolve) => client.once('execute', resolve));
    await row('/3/0/4').locator('button[data-op="execute"]').click();
    const form = page.locator('.lwm2m-sb-form[data-path="/3/0/4"]');
    await form.locator('.f-args').fill("0='soon'");
    await form.locator('.f-submit').click();
    const ev = await got;
    assert.equal(ev.path, '/3/0/4');
    assert.equal(ev.raw, "0='soon'");
    await row('/3303/0/5700').locator('button[data-op="write-attributes"]').click();
    const attrs = page.locator('.lwm2m-sb-form[data-path="/3303/0/5700"]');
    await attrs.locator('.f-pmin').fill('2');
    await attrs.locator('.f-pmax').fill('30');
    await attrs.locator('.f-submit').click();
    await attrs.waitFor({ state: 'detached', timeout: 10000 });
    await page.locator('.lwm2m-sb-node[data-path="/3303/0"] button[data-op="discover"]').click();
    await waitFor(async () => /pmin=2 pmax=30/.test(await row('/3303/0/5700').locator('.attrs').innerText()), 10000, 'discovered attributes shown');
  });

  test('observe from the sidebar: values update live', async () => {
    await row('/3303/0/5700').locator('button[data-op="observe"]').click();
    await waitFor(async () => (await row('/3303/0/5700').locator('button.op-observe.active').count()) === 1, 10000, 'observing');
    client.set('/3303/0/5700', 30.5);
    await waitFor(async () => (await row('/3303/0/5700').locator('.val').innerText()) === '30.5', 10000, 'notification shown');
    client.set('/3303/0/5700', 31.25);
    await waitFor(async () => (await row('/3303/0/5700').locator('.val').innerText()) === '31.25', 10000, 'second notification shown');
    client.set('/3303/0/5700', 29.75);
    await waitFor(async () => (await row('/3303/0/5700').locator('.val').innerText()) === '29.75', 10000, 'third notification shown');
    // A sparkline beside the value, drawn from the points the runtime kept.
    await waitFor(async () => Number(await row('/3303/0/5700').locator('svg.lwm2m-sb-spark').getAttribute('data-points').catch(() => '0')) >= 3, 10000, 'sparkline');
    // Pinned: the observation stays when the editor is closed.
    await row('/3303/0/5700').locator('button.op-pin').click();
    await waitFor(async () => (await row('/3303/0/5700').locator('button.op-pin.active').count()) === 1, 10000, 'pinned');
    await shot('02-device-tree.png');
    await page.locator('.lwm2m-sb-tab-charts').click();
    const chart = page.locator('.lwm2m-sb-chart[data-path="/3303/0/5700"]');
    await chart.waitFor({ timeout: 10000 });
    assert.match(await chart.locator('.ch').innerText(), /Sensor Value[\s\S]*29\.75/);
    const circles = await chart.locator('svg circle').evaluateAll((els) => els.map((e) => Number(e.getAttribute('cy'))));
    assert.ok(circles.length >= 3, `one dot per value (${circles.length})`);
    // 30.5, 31.25, 29.75 (and the 21.5 of the first read/observe): the highest value is drawn highest.
    const texts = await chart.locator('svg text').evaluateAll((els) => els.map((e) => e.textContent ?? ''));
    assert.ok(texts.includes('31.25'), `the value axis shows the maximum: ${texts.join(' ')}`);
    assert.ok(texts.some((t) => /^\d\d:\d\d:\d\d$/.test(t)), 'the time axis shows clock times');
    await shot('02b-charts.png');
    await page.locator('.lwm2m-sb-tab-objects').click();
    await page.locator('.lwm2m-sb-tab-log').click();
    const log = page.locator('.lwm2m-sb-log-lines');
    await waitFor(async () => /notify/.test(await log.innerText()), 10000, 'notifications in the log');
    const text = await log.innerText();
    assert.match(text, /read/);
    assert.match(text, /write/);
    assert.match(text, /register/);
    await shot('03-traffic-log.png');
    await page.locator('.lwm2m-sb-tab-objects').click();
  });

  test('a read node dragged from the tree reads the value in a deployed flow', async () => {
    await row('/3/0/0').dragTo(page.locator('#red-ui-workspace-chart'), { targetPosition: { x: 240, y: 120 } });
    type RedWin = { RED: { nodes: { filterNodes(f: object): Array<Record<string, unknown>> } } };
    await waitFor(async () => (await page.evaluate(() => (globalThis as unknown as RedWin).RED.nodes.filterNodes({ type: 'lwm2m-read' }).length)) === 1, 10000, 'node dropped');
    const dropped = await page.evaluate(() => {
      const n = (globalThis as unknown as RedWin).RED.nodes.filterNodes({ type: 'lwm2m-read' })[0];
      return { id: n.id as string, server: n.server, endpoint: n.endpoint, path: n.path, x: n.x as number, w: n.w as number, z: n.z };
    });
    assert.equal(dropped.server, IDS.server);
    assert.equal(dropped.endpoint, 'e2e-sensor-01');
    assert.equal(dropped.path, '/3/0/0');
    assert.equal(dropped.z, IDS.tab);
    // Node-RED keeps a node's left edge where it was placed when its label makes it wider than the default 100 px.
    const left = dropped.x - dropped.w / 2;
    assert.ok(Math.abs(left + 50 - 240) < 40, `dropped where the mouse was (x=${dropped.x}, w=${dropped.w})`);

    // Dragging the eye (observe) button makes an observe node instead (then removed: only the read node is deployed).
    await row('/3303/0/5700').locator('button.op-observe').dragTo(page.locator('#red-ui-workspace-chart'), { targetPosition: { x: 240, y: 330 } });
    const observeNode = await page.evaluate(() => {
      const RED = (globalThis as unknown as RedWin & { RED: { nodes: { remove(id: string): unknown }; view: { redraw(b: boolean): void } } }).RED;
      const n = RED.nodes.filterNodes({ type: 'lwm2m-observe' })[0];
      if (!n) return undefined;
      const out = { endpoint: n.endpoint, path: n.path, server: n.server };
      RED.nodes.remove(n.id as string);
      RED.view.redraw(true);
      return out;
    });
    assert.deepEqual(observeNode, { endpoint: 'e2e-sensor-01', path: '/3303/0/5700', server: IDS.server });

    // Wire inject -> read -> debug with the mouse, like a user.
    const port = async (nodeId: string, kind: 'output' | 'input') => {
      const b = (await page.locator(`[id="${nodeId}"] .red-ui-flow-port-${kind} .red-ui-flow-port`).first().boundingBox())!;
      return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
    };
    const wire = async (from: string, to: string) => {
      const a = await port(from, 'output');
      const b = await port(to, 'input');
      await page.mouse.move(a.x, a.y);
      await page.mouse.down();
      await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
      await page.mouse.move(b.x, b.y, { steps: 5 });
      await page.mouse.up();
    };
    await wire(IDS.inject, dropped.id);
    await wire(dropped.id, IDS.debug);
    type LinkWin = { RED: { nodes: { filterLinks(f: object): Array<{ source: { id: string }; target: { id: string } }> } } };
    const links = await page.evaluate(() => (globalThis as unknown as LinkWin).RED.nodes.filterLinks({}).map((l) => `${l.source.id}>${l.target.id}`));
    assert.ok(links.includes(`${IDS.inject}>${dropped.id}`), links.join(' '));
    assert.ok(links.includes(`${dropped.id}>${IDS.debug}`), links.join(' '));

    // "Modified nodes" deploy: the server config node (on an ephemeral port) keeps running with the device registered.
    await page.locator('#red-ui-header-button-deploy-options').click();
    await page.locator('#deploymenu-item-node').click();
    await page.locator('#red-ui-header-button-deploy').click();
    await waitFor(async () => {
      const r = await nr.request('GET', `${ADMIN}/flows`);
      const flows = JSON.parse(r.body) as Array<{ id: string; wires?: string[][] }> | { flows: Array<{ id: string; wires?: string[][] }> };
      const list = Array.isArray(flows) ? flows : flows.flows;
      return list.some((n) => n.id === dropped.id) && list.some((n) => n.id === IDS.inject && n.wires?.[0]?.includes(dropped.id));
    }, 20000, 'deployed');
    await nr.waitForLog(/Started flows/, 20000, 0);
    await page.waitForTimeout(500);

    await page.evaluate(() => (globalThis as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show('debug'));
    await page.locator(`[id="${IDS.inject}"] .red-ui-flow-node-button`).click();
    const msg = page.locator('.red-ui-debug-msg').filter({ hasText: 'Fleetwire' });
    await msg.first().waitFor({ timeout: 15000 });
    await shot('04-dragged-read-node.png');

    // The picture for the README: the flow built by dragging, and the device in the sidebar with its values.
    await page.evaluate(() => (globalThis as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show('lwm2m'));
    await page.locator('.lwm2m-sb-node[data-path="/3/0"] button[data-op="read"]').click();
    await waitFor(async () => (await row('/3/0/9').locator('.val').innerText()) === '87', 10000, 'device instance read');
    await page.locator('.lwm2m-sb-pane').first().evaluate((el) => { el.scrollTop = 0; });
    await page.mouse.move(5, 300);
    await waitFor(async () => (await page.locator('.red-ui-notification:visible').count()) === 0, 15000, 'notifications closed');
    await page.waitForTimeout(1500);
    await shot('05-sidebar-and-flow.png');
    if (process.env.LWM2M_DOCS_SCREENSHOT === '1') {
      fs.mkdirSync(path.join(root, 'docs'), { recursive: true });
      await page.screenshot({ path: path.join(root, 'docs', 'sidebar.png'), clip: { x: 180, y: 0, width: 1180, height: 820 } });
    }
    assert.deepEqual(consoleErrors.filter((e) => /lwm2m/i.test(e)), [], 'no editor errors from the plugin');
  });

  test('thousands of devices: the list stays small in the page, pages and searches on the server', async () => {
    const N = 3000;
    assert.equal(await bulkRegister(lwm2mPort, 'bulk-', N), N);
    await page.locator('.lwm2m-sb-back').click();
    await waitFor(async () => /3001 devices/.test(await page.locator('.lwm2m-sb-count').innerText()), 15000, 'live count');
    const rows = await page.locator('.lwm2m-sb-row').count();
    assert.ok(rows > 5 && rows < 60, `only the visible rows are in the page (${rows})`);
    // Scroll to the end: the last page is fetched and shown.
    await page.locator('.lwm2m-sb-list').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await page.locator('.lwm2m-sb-row[data-endpoint="bulk-02999"]').waitFor({ timeout: 10000 });
    assert.ok((await page.locator('.lwm2m-sb-row').count()) < 60);
    // Past the height a browser can scroll (lowered here to 40,000 px), the scrollbar maps proportionally onto the rows.
    await page.evaluate(() => { (globalThis as unknown as { LWM2M_SIDEBAR_MAX_PX: number }).LWM2M_SIDEBAR_MAX_PX = 40000; });
    await page.locator('.lwm2m-sb-list').evaluate((el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); });
    await waitFor(async () => (await page.locator('.lwm2m-sb-spacer').evaluate((el) => (el as unknown as { offsetHeight: number }).offsetHeight)) === 40000, 5000, 'scroll area capped');
    await page.locator('.lwm2m-sb-list').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await page.locator('.lwm2m-sb-row[data-endpoint="bulk-02999"]').waitFor({ timeout: 10000 });
    await page.locator('.lwm2m-sb-list').evaluate((el) => { el.scrollTop = (el.scrollHeight - el.clientHeight) / 2; });
    await waitFor(async () => {
      const eps = await page.locator('.lwm2m-sb-row[data-endpoint]').evaluateAll((els) => els.map((e) => e.getAttribute('data-endpoint')));
      return eps.some((e) => /^bulk-01[45]\d\d$/.test(e ?? ''));
    }, 10000, 'the middle of the fleet in the middle of the scrollbar');
    await page.evaluate(() => { (globalThis as unknown as { LWM2M_SIDEBAR_MAX_PX?: number }).LWM2M_SIDEBAR_MAX_PX = undefined; });
    await page.locator('.lwm2m-sb-search').fill('bulk-0123');
    await waitFor(async () => /10 of 3001/.test(await page.locator('.lwm2m-sb-count').innerText()), 10000, 'server-side search');
    assert.equal(await page.locator('.lwm2m-sb-row[data-endpoint^="bulk-0123"]').count(), 10);
    await shot('06-thousands-of-devices.png');
    await page.locator('.lwm2m-sb-search').fill('');
  });

  test('the device list is sorted on the server and saved as CSV', async () => {
    await page.locator('.lwm2m-sb-sort').selectOption('endpoint');
    await page.locator('.lwm2m-sb-dir').click();
    await waitFor(async () => (await page.locator('.lwm2m-sb-row[data-endpoint]').first().getAttribute('data-endpoint')) === 'e2e-sensor-01', 10000, 'descending by endpoint');
    await page.locator('.lwm2m-sb-dir').click();
    await waitFor(async () => (await page.locator('.lwm2m-sb-row[data-endpoint]').first().getAttribute('data-endpoint')) === 'bulk-00000', 10000, 'ascending by endpoint');
    await page.locator('.lwm2m-sb-search').fill('e2e-');
    await waitFor(async () => (await page.locator('.lwm2m-sb-row[data-endpoint]').count()) === 1, 10000, 'filtered');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('.lwm2m-sb-export-csv').click()]);
    assert.match(download.suggestedFilename(), /^lwm2m-devices-.*\.csv$/);
    const file = await download.path();
    const lines = fs.readFileSync(file!, 'utf8').trim().split('\r\n');
    assert.equal(lines.length, 2, 'header and the one device the filter shows');
    assert.match(lines[0], /^endpoint,state,address,port,/);
    assert.match(lines[1], /^e2e-sensor-01,awake,127\.0\.0\.1,/);
    await shot('07-sorted-list.png');
    await page.locator('.lwm2m-sb-search').fill('');
  });
});
