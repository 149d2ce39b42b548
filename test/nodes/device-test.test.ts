/**
 * lwm2m-device-test in a flow: msg.endpoint in, the qualification report out in msg.payload (and the HTML page in
 * msg.html when asked), progress on the status, an unknown endpoint or bad options to done(err) (a Catch node gets it).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Lwm2mClient } from '../../src/client';
import type { DeviceTestReport } from '../../src/qualification';
import deviceTestNode from '../../nodes/lwm2m-device-test/lwm2m-device-test';
import {
  helper, ALL_NODES, placed, serverConfig, serverNodeOf, startDevice, nextMessage, nextStatus, caught, FlowNode, TestNode,
} from './helper';

const flow: FlowNode[] = [
  { id: 'tab', type: 'tab', label: 'device test' },
  serverConfig('srv', { requestTimeout: 3 }),
  { id: 'test', type: 'lwm2m-device-test', z: 'tab', server: 'srv', endpoint: '', cases: '', destructive: false, pmin: '', pmax: '', html: true, wires: [['out']] },
  { id: 'catch', type: 'catch', z: 'tab', scope: ['test'], uncaught: false, wires: [['caughtOut']] },
  { id: 'out', type: 'helper', z: 'tab' },
  { id: 'caughtOut', type: 'helper', z: 'tab' },
];

const n = (id: string) => helper.getNode(id) as TestNode;

describe('lwm2m-device-test node', () => {
  let device: Lwm2mClient;

  before(async () => {
    const core = (helper as unknown as { _nodeModules: Record<string, unknown> })._nodeModules;
    await helper.load([...ALL_NODES, deviceTestNode, core.catch], placed(flow), {});
    const srv = await serverNodeOf('srv');
    device = await startDevice(srv.server.address().port);
  });

  after(async () => {
    await device?.stop();
    await helper.unload();
  });

  test('msg.endpoint in, the report out; the status shows the case running, then the counts', async () => {
    const progress = nextStatus(n('test'), (s) => /^\d+\/\d+ /.test(s.text ?? ''));
    const final = nextStatus(n('test'), (s) => /pass, \d+ fail/.test(s.text ?? ''), 60000);
    const got = nextMessage(n('out'), undefined, 60000);
    n('test').receive({ endpoint: device.endpointName, cases: ['LightweightM2M-1.1-int-101', 'FW-DM-002', 'FW-DM-008'] });
    const msg = await got;
    const report = msg.payload as DeviceTestReport;
    assert.equal(report.endpoint, device.endpointName);
    assert.equal(msg.endpoint, device.endpointName);
    assert.deepEqual(report.cases.map((c) => [c.id, c.verdict]), [['LightweightM2M-1.1-int-101', 'pass'], ['FW-DM-002', 'pass'], ['FW-DM-008', 'na']]);
    assert.deepEqual(report.summary, { pass: 2, fail: 0, na: 1 });
    assert.equal(report.device.manufacturer, 'Fleetwire');
    assert.match(String(msg.html), /^<!DOCTYPE html>/);
    assert.match((await progress).text!, /^1\/3 LightweightM2M-1.1-int-101/);
    const s = await final;
    assert.equal(s.text, '2 pass, 0 fail, 1 n/a');
    assert.equal(s.fill, 'green');
  });

  test('an unknown endpoint goes to done(err): the Catch node gets it', async () => {
    const c = caught(n('caughtOut'));
    n('test').receive({ endpoint: 'nobody-here' });
    const m = await c;
    assert.match(m.error.message, /nobody-here/);
    assert.equal(m.error.source.id, 'test');
  });

  test('no endpoint, or a bad pmin, goes to done(err)', async () => {
    let c = caught(n('caughtOut'));
    n('test').receive({ payload: 1 });
    assert.match((await c).error.message, /no endpoint/);
    c = caught(n('caughtOut'));
    n('test').receive({ endpoint: device.endpointName, pmin: 'soon' });
    assert.match((await c).error.message, /pmin: expected seconds/);
  });
});
