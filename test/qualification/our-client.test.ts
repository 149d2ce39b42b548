/**
 * The qualification suite against our own client (src/client) in each LwM2M version and configuration: every case
 * that applies passes, none fails.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Lwm2mClient, Lwm2mClientOptions } from '../../src/client';
import { Lwm2mServer } from '../../src/server';
import { runDeviceTest, DeviceTestReport, renderReportHtml } from '../../src/qualification';

let seq = 0;

async function withClient(opts: Partial<Lwm2mClientOptions>, run: (server: Lwm2mServer, ep: string) => Promise<void>): Promise<void> {
  const server = new Lwm2mServer({ address: '127.0.0.1', port: 0, requestTimeoutMs: 3000 });
  await server.start();
  const client = new Lwm2mClient({
    endpoint: `qual-${process.pid}-${++seq}`,
    serverUri: `coap://127.0.0.1:${server.address().port}`,
    localAddress: '127.0.0.1',
    objects: { 3303: { 0: { 5700: 21.5, 5701: 'Cel' } } },
    device: { manufacturer: 'ACME', model: 'T-1', serial: 'SN1', firmwareVersion: '1.0.0' },
    ...opts,
  });
  client.on('error', () => undefined);
  // Reboot (3/0/4) is the application's to carry out: here, start over and register again.
  client.on('reboot', () => { void client.stop().then(() => client.start()); });
  try {
    await client.start();
    await client.whenRegistered(5000);
    await run(server, client.endpointName);
  } finally {
    await client.stop();
    await server.close();
  }
}

function failures(r: DeviceTestReport): string {
  return r.cases.filter((c) => c.verdict === 'fail').map((c) => `${c.id}: ${c.reason}`).join('\n');
}

function verdict(r: DeviceTestReport, id: string): string | undefined {
  return r.cases.find((c) => c.id === id)?.verdict;
}

describe('device test against our client', () => {
  for (const version of ['1.0', '1.1', '1.2'] as const) {
    test(`LwM2M ${version}: every applicable case passes`, async () => {
      await withClient({ version }, async (server, ep) => {
        const report = await runDeviceTest(server, ep);
        assert.equal(report.summary.fail, 0, failures(report));
        assert.equal(report.device.version, version);
        assert.equal(report.device.manufacturer, 'ACME');
        assert.equal(report.device.serial, 'SN1');
        assert.equal(verdict(report, 'LightweightM2M-1.1-int-101'), 'pass');
        assert.equal(verdict(report, 'LightweightM2M-1.1-int-102'), 'pass');
        assert.equal(verdict(report, 'FW-DM-003'), 'pass');
        assert.equal(verdict(report, 'FW-DM-006'), 'pass');
        assert.equal(verdict(report, 'FW-IR-001'), 'pass');
        // Destructive cases are left out unless asked for.
        assert.equal(verdict(report, 'FW-DM-008'), 'na');
        // One read case per announced format, each passing.
        const perFormat = report.cases.filter((c) => c.id.startsWith('FW-DM-001-'));
        assert.deepEqual(perFormat.map((c) => Number(c.id.slice('FW-DM-001-'.length))), report.device.formats.filter((f) => [0, 60, 110, 112, 11542, 11543, 11544].includes(f)));
        assert.ok(perFormat.length >= 1);
        for (const c of perFormat) assert.equal(c.verdict, 'pass', `${c.id}: ${c.reason}`);
        const composite = version === '1.0' ? 'na' : 'pass';
        assert.equal(verdict(report, 'FW-CO-001'), composite);
        assert.equal(verdict(report, 'FW-CO-002'), composite);
        assert.ok(renderReportHtml(report).includes(ep));
      });
    });
  }

  test('short lifetime and queue mode: lifetime and queue mode cases apply and pass', async () => {
    await withClient({ version: '1.1', lifetime: 4, queueMode: true, awakeTimeMs: 1500 }, async (server, ep) => {
      const report = await runDeviceTest(server, ep, { cases: ['FW-REG-001', 'FW-QM-001', 'FW-DM-002'] });
      assert.equal(report.summary.fail, 0, failures(report));
      assert.deepEqual(report.cases.map((c) => [c.id, c.verdict]), [['FW-DM-002', 'pass'], ['FW-QM-001', 'pass'], ['FW-REG-001', 'pass']]);
    });
  });

  test('destructive: reboot and de-registration pass when asked for', async () => {
    await withClient({ version: '1.1' }, async (server, ep) => {
      const report = await runDeviceTest(server, ep, { destructive: true, cases: ['FW-DM-008', 'LightweightM2M-1.1-int-103'] });
      assert.equal(report.summary.fail, 0, failures(report));
      assert.deepEqual(report.cases.map((c) => c.verdict), ['pass', 'pass']);
    });
  });
});
