/**
 * "Test device" in the LwM2M sidebar, in a real browser (Debian's Chromium, headless, through playwright-core) against a
 * real Node-RED with this package: our client registers, the user opens it in the sidebar, runs the qualification
 * suite, reads the report as a table (a row opens its evidence), and exports it as JSON and as an HTML page.
 * Screenshots go to test-results/editor/.
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

const root = projectRoot();
const ADMIN = '/red';
const skip = browserSkipReason(root, 'dist/nodes/lwm2m-device-test/lwm2m-device-test.js');

type PW = typeof import('playwright-core');
type Page = import('playwright-core').Page;
type BrowserContext = import('playwright-core').BrowserContext;

const IDS = { tab: 'dtbtab0000000001', server: 'dtbsrv0000000001', events: 'dtbevt0000000001' };
const FLOW = [
  { id: IDS.tab, type: 'tab', label: 'LwM2M device test' },
  { ...editorDefaults('lwm2m-server'), id: IDS.server, type: 'lwm2m-server', name: 'test server', address: '127.0.0.1', port: 0, dtls: false, persist: false, requestTimeout: 3 },
  { id: IDS.events, type: 'lwm2m-events', z: IDS.tab, name: '', server: IDS.server, endpoint: '', events: ['registered'], x: 160, y: 160, wires: [[]] },
];

describe('Test device in the LwM2M sidebar (Chromium)', { skip, timeout: 240000 }, () => {
  let nr: NodeRedProcess;
  let userDir: string;
  let browserDir: string;
  let context: BrowserContext;
  let page: Page;
  let client: Lwm2mClient;
  const shots = path.join(root, 'test-results', 'editor');
  const consoleErrors: string[] = [];
  const EP = 'qual-sensor-01';

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-dt-nr-'));
    browserDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-dt-chromium-'));
    nr = await startNodeRed({ userDir, flows: FLOW, settings: { httpAdminRoot: ADMIN } });
    await nr.waitForLog(/LwM2M server listening/, 20000);
    const servers = JSON.parse((await nr.request('GET', `${ADMIN}/lwm2m/sidebar/servers`)).body) as Array<{ id: string; port: number }>;
    const port = servers.find((s) => s.id === IDS.server)!.port;
    client = await startClient(port, {
      endpoint: EP,
      // A value a web page must not run: the report table and the HTML export show it as text.
      device: { manufacturer: '<img src=x onerror=alert(1)>ACME', model: 'T-1', serial: 'SN-42', firmwareVersion: '2.0.1' },
    });
    const pw = require('playwright-core') as PW;
    context = await pw.chromium.launchPersistentContext(browserDir, {
      executablePath: CHROMIUM,
      headless: true,
      acceptDownloads: true,
      viewport: { width: 1360, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('dialog', (d) => { consoleErrors.push(`dialog: ${d.message()}`); void d.dismiss(); });
    await page.goto(`${nr.url}${ADMIN}/`);
    await page.waitForSelector('#red-ui-workspace-chart', { timeout: 60000 });
    await page.waitForFunction(() => (globalThis as unknown as { RED: { nodes: { getType(t: string): unknown } } }).RED?.nodes?.getType('lwm2m-device-test') !== undefined, undefined, { timeout: 30000 });
    const sep = (await page.locator('#red-ui-sidebar-separator').boundingBox())!;
    await page.mouse.move(sep.x + sep.width / 2, sep.y + sep.height / 2);
    await page.mouse.down();
    await page.mouse.move(sep.x - 300, sep.y + sep.height / 2, { steps: 8 });
    await page.mouse.up();
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await client?.stop().catch(() => undefined);
    await nr?.stop();
    for (const d of [userDir, browserDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  test('select a device, run the suite, read the report, export it as JSON and HTML', async () => {
    await page.evaluate(() => (globalThis as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show('lwm2m'));
    await page.locator(`.lwm2m-sb-row[data-endpoint="${EP}"]`).click();
    await page.locator('.lwm2m-sb-tab-test').click();
    await page.locator('.lwm2m-sb-test-run').click();
    // Progress while it runs, then the table.
    await waitFor(async () => /\d+\/\d+/.test(await page.locator('.lwm2m-sb-test-progress').innerText()) || (await page.locator('tr.lwm2m-sb-test-case').count()) > 0, 30000, 'progress shown');
    await page.locator('tr.lwm2m-sb-test-case').first().waitFor({ timeout: 90000 });
    const verdicts = await page.locator('tr.lwm2m-sb-test-case').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-id'), r.getAttribute('data-verdict')]));
    const failed = verdicts.filter((v) => v[1] === 'fail');
    assert.deepEqual(failed, [], 'our client passes every applicable case');
    assert.ok(verdicts.some((v) => v[0] === 'LightweightM2M-1.1-int-101' && v[1] === 'pass'));
    assert.ok(verdicts.some((v) => v[0] === 'FW-IR-001' && v[1] === 'pass'));
    assert.ok(verdicts.some((v) => v[0] === 'FW-DM-008' && v[1] === 'na'), 'reboot left out without the destructive box');
    assert.match(await page.locator('.lwm2m-sb-test-progress').innerText(), /pass · 0 fail/);
    assert.match(await page.locator('.lwm2m-sb-test-ident').innerText(), /<img src=x onerror=alert\(1\)>ACME · T-1 · SN-42 · 2\.0\.1/, 'shown as text');
    // A row opens its evidence: the exchanges with codes and times.
    await page.locator('tr.lwm2m-sb-test-case[data-id="FW-DM-002"]').click();
    const ev = page.locator('tr.lwm2m-sb-test-case[data-id="FW-DM-002"] + tr.lwm2m-sb-test-ev');
    await ev.waitFor({ state: 'visible' });
    assert.match(await ev.innerText(), /read\s+\/3\/0\/16\s+GET.*2\.05/);
    await page.locator('.lwm2m-sb-test').evaluate((el) => { el.scrollTop = 0; });
    await page.screenshot({ path: path.join(shots, '07-device-test-report.png') });

    const jsonDl = page.waitForEvent('download');
    await page.locator('.lwm2m-sb-test-json').click();
    const jsonFile = await (await jsonDl).path();
    const report = JSON.parse(fs.readFileSync(jsonFile!, 'utf8')) as { endpoint: string; summary: { fail: number; pass: number }; cases: unknown[] };
    assert.equal(report.endpoint, EP);
    assert.equal(report.summary.fail, 0);
    assert.equal(report.cases.length, verdicts.length);

    const htmlDl = page.waitForEvent('download');
    await page.locator('.lwm2m-sb-test-html').click();
    const htmlFile = await (await htmlDl).path();
    const html = fs.readFileSync(htmlFile!, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;ACME'), 'device value escaped in the page');
    assert.ok(!html.includes('<img'), 'no element from the device');
    // The exported page, opened on its own: what a supplier receives.
    const view = await context.newPage();
    // (The download's temporary file has no .html name: load its text as the page.)
    await view.setContent(html);
    await view.screenshot({ path: path.join(shots, '08-device-test-export.png'), fullPage: false });
    assert.match(await view.locator('h1').innerText(), /LwM2M device test report/);
    await view.close();
    assert.deepEqual(consoleErrors.filter((e) => /lwm2m|dialog/i.test(e)), [], 'no editor errors, no script from the device');
  });
});
