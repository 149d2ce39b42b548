/**
 * The qualification suite against raw test devices (test/helpers/raw-device.ts: hand-built answers, an independent
 * code path) that break one behaviour each: every broken behaviour is caught by the case that names it, and the same
 * device without the fault passes that case.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, ServerEnv } from '../helpers/server-env';
import { RawDevice, Route } from '../helpers/raw-device';
import { runDeviceTest, renderReportHtml, DeviceTestReport } from '../../src/qualification';
import { UnknownEndpointError } from '../../src/server';

const SENML_JSON = 110;

interface Faults {
  /** Per `METHOD path`, a route replacing the good one. */
  routes?: Record<string, Route>;
  manufacturer?: string;
  /** Register query (default LwM2M 1.1, lifetime 60 s). */
  query?: string[];
  /** Send notifications for the observation of /1/0/1 (ms between them); undefined: never. */
  notifyEveryMs?: number;
}

/** A well-behaved LwM2M 1.1 device announcing SenML JSON (`ct=110`), with hand-written answers; then its faults. */
async function rawDevice(env: ServerEnv, name: string, faults: Faults = {}): Promise<RawDevice> {
  const d = await env.device(name, { links: '</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>' });
  const manufacturer = faults.manufacturer ?? 'ACME';
  const text = (s: string): Route => ({ code: '2.05', format: 0, payload: s });
  const senml = (records: unknown[]): Route => (req) => (req.accept === undefined || req.accept === SENML_JSON
    ? { code: '2.05', format: SENML_JSON, payload: JSON.stringify(records) }
    : { code: '4.06' });
  const timers: NodeJS.Timeout[] = [];
  const routes: Record<string, Route> = {
    'GET /3/0': senml([{ bn: '/3/0/', n: '0', vs: manufacturer }, { n: '11/0', v: 0 }, { n: '16', vs: 'U' }]),
    'GET /1/0': senml([{ bn: '/1/0/', n: '0', v: 1 }, { n: '1', v: 60 }, { n: '6', vb: false }, { n: '7', vs: 'U' }]),
    'GET /3/0/0': text(manufacturer),
    'GET /3/0/16': text('U'),
    'GET /1/0/0': text('1'),
    'GET /1/0/1': (req) => {
      if (req.observe !== 0) return { code: '2.05', format: 0, payload: '60' };
      if (faults.notifyEveryMs !== undefined) {
        const key = req.token.toString('hex');
        for (let i = 1; i <= 5; i++) {
          timers.push(setTimeout(() => { void d.notify(key, '60', 0, { confirmable: false }).catch(() => undefined); }, i * faults.notifyEveryMs));
        }
      }
      return { code: '2.05', format: 0, payload: '60', observe: true };
    },
    'GET /1/0/6': text('0'),
    'GET /1/0/7': text('U'),
    'PUT /1/0/1': { code: '2.04' },
    'POST /3/0/16': { code: '4.05' },
    ...faults.routes,
  };
  for (const [key, route] of Object.entries(routes)) {
    const [method, path] = key.split(' ');
    d.on(method, path, route);
  }
  const close = d.close.bind(d);
  d.close = () => { for (const t of timers) clearTimeout(t); return close(); };
  const res = await d.register(faults.query ?? ['lwm2m=1.1', 'lt=60', 'b=U']);
  assert.equal(res.code, '2.01');
  return d;
}

function caseOf(r: DeviceTestReport, id: string) {
  const c = r.cases.find((x) => x.id === id);
  assert.ok(c, `case ${id} in the report: ${r.cases.map((x) => x.id).join(', ')}`);
  return c;
}

async function withEnv(run: (env: ServerEnv) => Promise<void>): Promise<void> {
  const env = await startServer({ requestTimeoutMs: 1500 });
  try {
    await run(env);
  } finally {
    await env.close();
  }
}

const CASES = ['FW-DM-001-110', 'FW-DM-002', 'FW-DM-004', 'FW-IR-001'];

describe('device test against broken devices', () => {
  test('the well-behaved raw device passes the cases the faults below break', async () => {
    await withEnv(async (env) => {
      await rawDevice(env, 'good', { notifyEveryMs: 2000 });
      const r = await runDeviceTest(env.server, 'good', { cases: CASES });
      assert.deepEqual(r.cases.map((c) => [c.id, c.verdict, c.verdict === 'pass' ? '' : c.reason]), CASES.map((id) => [id, 'pass', '']));
    });
  });

  test('wrong code: 2.04 to a Read fails FW-DM-002, naming the path and the code', async () => {
    await withEnv(async (env) => {
      await rawDevice(env, 'wrong-code', { routes: { 'GET /3/0/16': { code: '2.04' } } });
      const c = caseOf(await runDeviceTest(env.server, 'wrong-code', { cases: ['FW-DM-002'] }), 'FW-DM-002');
      assert.equal(c.verdict, 'fail');
      assert.match(c.reason, /\/3\/0\/16 .*answered 2\.04.*expected 2\.05/);
      assert.ok(c.evidence.some((e) => e.path === '/3/0/16' && e.code === '2.04'), JSON.stringify(c.evidence));
    });
  });

  test('wrong type: text "abc" for the Integer Lifetime fails FW-DM-002, naming the type', async () => {
    await withEnv(async (env) => {
      await rawDevice(env, 'wrong-type', { routes: { 'GET /1/0/1': { code: '2.05', format: 0, payload: 'abc' } } });
      const c = caseOf(await runDeviceTest(env.server, 'wrong-type', { cases: ['FW-DM-002'] }), 'FW-DM-002');
      assert.equal(c.verdict, 'fail');
      assert.match(c.reason, /\/1\/0\/1 \(Lifetime\).*"abc".*integer/);
    });
  });

  test('wrong type inside an instance: a string Lifetime in SenML JSON fails the per-format read', async () => {
    await withEnv(async (env) => {
      await rawDevice(env, 'wrong-type-senml', {
        routes: { 'GET /1/0': { code: '2.05', format: SENML_JSON, payload: JSON.stringify([{ bn: '/1/0/', n: '0', v: 1 }, { n: '1', vs: 'sixty' }, { n: '6', vb: false }, { n: '7', vs: 'U' }]) } },
      });
      const c = caseOf(await runDeviceTest(env.server, 'wrong-type-senml', { cases: ['FW-DM-001-110'] }), 'FW-DM-001-110');
      assert.equal(c.verdict, 'fail');
      assert.match(c.reason, /\/1\/0/);
    });
  });

  test('a device refusing its own announced format (4.06 to SenML JSON) fails FW-DM-001-110', async () => {
    await withEnv(async (env) => {
      await rawDevice(env, 'refuses', { routes: { 'GET /3/0': { code: '4.06' } } });
      const c = caseOf(await runDeviceTest(env.server, 'refuses', { cases: ['FW-DM-001'] }), 'FW-DM-001-110');
      assert.equal(c.verdict, 'fail');
      assert.match(c.reason, /\/3\/0: refused application\/senml\+json \(4\.06\) although the device announced it/);
    });
  });

  test('a notification that never comes fails FW-IR-001 (pmax)', async () => {
    await withEnv(async (env) => {
      await rawDevice(env, 'silent');
      const c = caseOf(await runDeviceTest(env.server, 'silent', { cases: ['FW-IR-001'], pmin: 1, pmax: 2 }), 'FW-IR-001');
      assert.equal(c.verdict, 'fail');
      assert.match(c.reason, /notification 1 did not come within pmax 2 s/);
      // The attributes were removed again afterwards.
      const puts = c.evidence.filter((e) => e.operation === 'write-attributes');
      assert.equal(puts.length, 2);
    });
  });

  test('notifications far more often than pmin fail FW-IR-001 (pmin)', async () => {
    await withEnv(async (env) => {
      await rawDevice(env, 'chatty', { notifyEveryMs: 50 });
      const c = caseOf(await runDeviceTest(env.server, 'chatty', { cases: ['FW-IR-001'], pmin: 2, pmax: 4 }), 'FW-IR-001');
      assert.equal(c.verdict, 'fail');
      assert.match(c.reason, /before pmin 2 s|less than pmin 2 s/);
    });
  });

  test('Execute of a readable resource answered 2.04 fails FW-DM-004', async () => {
    await withEnv(async (env) => {
      await rawDevice(env, 'executes', { routes: { 'POST /3/0/16': { code: '2.04' } } });
      const c = caseOf(await runDeviceTest(env.server, 'executes', { cases: ['FW-DM-004'] }), 'FW-DM-004');
      assert.equal(c.verdict, 'fail');
      assert.match(c.reason, /answered 2\.04 .*expected 4\.05/);
    });
  });

  test('a device that never updates within its lifetime fails FW-REG-001', async () => {
    await withEnv(async (env) => {
      await rawDevice(env, 'no-update', { query: ['lwm2m=1.1', 'lt=1', 'b=U'] });
      const c = caseOf(await runDeviceTest(env.server, 'no-update', { cases: ['FW-REG-001'], lateToleranceMs: 500 }), 'FW-REG-001');
      assert.equal(c.verdict, 'fail');
      assert.match(c.reason, /no Update within the lifetime of 1 s/);
    });
  });

  test('the HTML page escapes device values (a manufacturer with <script>) and loads nothing', async () => {
    await withEnv(async (env) => {
      const evil = '<script>alert("x")</script>';
      await rawDevice(env, 'evil', { manufacturer: evil });
      const r = await runDeviceTest(env.server, 'evil', { cases: ['FW-DM-002'] });
      assert.equal(r.device.manufacturer, evil);
      const html = renderReportHtml(r);
      assert.ok(!html.includes('<script'), 'no script element');
      assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
      assert.ok(!/\b(?:src|href)\s*=/i.test(html), 'no external resource');
      assert.match(html, /<style>/);
    });
  });

  test('unknown endpoint rejects; destructive cases are not applicable unless asked for', async () => {
    await withEnv(async (env) => {
      await assert.rejects(runDeviceTest(env.server, 'nobody'), UnknownEndpointError);
      const d = await rawDevice(env, 'careful');
      const r = await runDeviceTest(env.server, 'careful', { cases: ['FW-DM-008', 'FW-DM-009', 'LightweightM2M-1.1-int-103'] });
      assert.deepEqual(r.cases.map((c) => c.verdict), ['na', 'na', 'na']);
      assert.ok(!d.received.some((q) => q.method === 'POST' && (q.path === '/3/0/4' || q.path === '/3/0/5' || q.path === '/1/0/4')), 'nothing destructive executed');
      for (const c of r.cases) assert.match(c.reason, /destructive/);
    });
  });
});
