/**
 * The FlowFuse Dashboard 2.0 example (examples/dashboard-devices.json) end to end: a real Node-RED with this package and
 * @flowfuse/node-red-dashboard runs the example as a user imports it, except that its LwM2M server and the demo
 * device's server URI use an ephemeral UDP port on 127.0.0.1 (the example itself uses udp/5683, like the others). Debian's
 * Chromium (headless, through playwright-core) opens /dashboard/lwm2m at 1400x900 and waits for the device table to show
 * the demo device and the temperature chart to have points; the Light on / Reboot buttons reach the device. Screenshot in
 * test-results/editor/dashboard-1400x900.png.
 *
 * Needs `npm run build`, /usr/bin/chromium and the dashboard module (a devDependency).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NodeRedProcess, startNodeRed } from '../../scripts/node-red-runner';
import { projectRoot, waitFor, browserSkipReason, CHROMIUM } from './helpers';

const root = projectRoot();
const EXAMPLE = path.join(root, 'examples', 'dashboard-devices.json');
const EP = 'dashboard-demo';

const skip = browserSkipReason(root, 'dist/nodes/lwm2m-server/lwm2m-server.js', ['@flowfuse/node-red-dashboard/package.json']);

type PW = typeof import('playwright-core');
type Page = import('playwright-core').Page;
type BrowserContext = import('playwright-core').BrowserContext;
type Flow = Array<Record<string, unknown>>;
/** What the test reads of a canvas in the page (the project compiles without the DOM library). */
type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null };

/** A UDP port nobody uses on 127.0.0.1 now (bound, read, released), for the server and the client's URI alike. */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The example with its LwM2M ports moved to `port` on loopback (and no DTLS listener). */
export function withTestPorts(flow: Flow, port: number): Flow {
  return flow.map((n) => {
    if (n.type === 'lwm2m-server') return { ...n, address: '127.0.0.1', port, dtls: false, dtlsPort: 0 };
    if (n.type === 'lwm2m-client') return { ...n, serverUri: `coap://127.0.0.1:${port}` };
    return n;
  });
}

describe('Dashboard 2.0 example in Chromium', { skip, timeout: 240000 }, () => {
  let nr: NodeRedProcess;
  let userDir: string;
  let browserDir: string;
  let context: BrowserContext;
  let page: Page;
  const shots = path.join(root, 'test-results', 'editor');
  const pageErrors: string[] = [];
  const original = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')) as Flow;

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-dash-nr-'));
    browserDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-dash-chromium-'));
    const port = await freeUdpPort();
    const flow = withTestPorts(original, port);
    // Nothing of the example's own ports (udp/5683, 5684, 5685, Node-RED's 1880) is left for the test to contact.
    const text = JSON.stringify(flow.filter((n) => n.type !== 'comment'));
    assert.doesNotMatch(text, /:(5683|5684|1880)\b|"port":\s*(5683|5684)\b/);
    nr = await startNodeRed({ userDir, flows: flow });
    await nr.waitForLog(/LwM2M server listening/, 30000);
    const pw = require('playwright-core') as PW;
    context = await pw.chromium.launchPersistentContext(browserDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await nr?.stop();
    for (const d of [userDir, browserDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  test('the example is what users import: ports of the other examples, a comment that explains it', () => {
    const server = original.find((n) => n.type === 'lwm2m-server')!;
    const client = original.find((n) => n.type === 'lwm2m-client')!;
    assert.equal(server.port, 5683);
    assert.equal(client.serverUri, 'coap://127.0.0.1:5683');
    assert.equal(client.endpoint, EP);
    assert.ok(JSON.parse(client.objects as string)['3303'], 'the demo device has a Temperature object');
    const comment = original.find((n) => n.type === 'comment')!;
    assert.match(comment.info as string, /\/dashboard\/lwm2m/);
    for (const t of ['ui-table', 'ui-chart', 'ui-button', 'lwm2m-write', 'lwm2m-execute', 'lwm2m-observe']) {
      assert.ok(original.some((n) => n.type === t), `uses ${t}`);
    }
  });

  test('the dashboard shows the demo device in the table and its temperature as a chart with points', async () => {
    await page.goto(`${nr.url}/dashboard/lwm2m`);
    const table = page.locator('.lwm2m-device-table');
    await table.waitFor({ timeout: 60000 });
    const deviceRow = table.locator('tbody tr').filter({ hasText: EP });
    await deviceRow.first().waitFor({ timeout: 30000 });
    const cells = await deviceRow.first().locator('td').allInnerTexts();
    assert.ok(cells.includes(EP), `endpoint cell: ${cells.join(' | ')}`);
    assert.ok(cells.includes('awake'), `state cell: ${cells.join(' | ')}`);
    assert.ok(cells.some((c) => /^127\.0\.0\.1:\d+$/.test(c)), `address cell: ${cells.join(' | ')}`);

    // The chart: ECharts draws on a canvas. Its points are where the series colour (#0095FF) is painted: the line spans
    // many pixel rows when the temperature changes (a flat line at the initial 20.0 would not), and the picture changes
    // as notifications come (every 2 s; the time axis rescales, so the line keeps the plot's width).
    const chart = page.locator('.lwm2m-temperature-chart');
    await chart.waitFor({ timeout: 30000 });
    const painted = () => chart.evaluate((el) => {
      const rows = new Set<number>();
      let pixels = 0;
      for (const c of Array.from(el.querySelectorAll('canvas'))) {
        const cv = c as unknown as Canvas;
        const ctx = cv.getContext('2d');
        if (!ctx) continue;
        const w = cv.width;
        const d = ctx.getImageData(0, 0, w, cv.height).data;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i] < 40 && Math.abs(d[i + 1] - 149) < 40 && d[i + 2] > 215 && d[i + 3] > 200) {
            rows.add(Math.floor(i / 4 / w));
            pixels++;
          }
        }
      }
      return { rows: rows.size, pixels };
    });
    let first = { rows: 0, pixels: 0 };
    await waitFor(async () => (first = await painted()).rows > 20, 40000, 'the chart to draw a line through changing values');
    await waitFor(async () => (await painted()).pixels !== first.pixels, 60000, 'the chart to change with new notifications');
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(shots, 'dashboard-1400x900.png') });
    assert.deepEqual(pageErrors, [], 'no errors in the dashboard page');
  });

  test('the buttons write to and execute on the device', async () => {
    const mark = nr.log.length;
    await page.locator('.lwm2m-light-on button').click();
    const answer = page.locator('.lwm2m-answer');

    await waitFor(async () => /^write \/3311\/0\/5850 = true on dashboard-demo: ok$/.test((await answer.innerText()).replace(/^Last answer\s*/, '').trim()), 15000, 'the write answer');
    await page.locator('.lwm2m-reboot button').click();
    await waitFor(async () => /^execute \/3\/0\/4 on dashboard-demo: ok$/.test((await answer.innerText()).replace(/^Last answer\s*/, '').trim()), 15000, 'the execute answer');
    await page.screenshot({ path: path.join(shots, 'dashboard-after-buttons.png') });
    assert.doesNotMatch(nr.log.slice(mark).join('\n'), /\[error\]/);
  });
});
