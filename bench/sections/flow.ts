/**
 * 4b. Notifications delivered to a flow's output, in a real Node-RED (4.x, the devDependency) with this package
 * installed: an lwm2m-server config node on loopback, an lwm2m-observe node observing /3/0/9 of every device as it
 * registers, wired to a function node that counts the messages it receives. The count is read over Node-RED's HTTP
 * (an `http in` endpoint on 127.0.0.1). Node-RED runs in its own process, the devices in this one.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NodeRedProcess, startNodeRed } from '../../scripts/node-red-runner';
import { Responder } from '../load/responder';
import { registerStorm } from '../load/storm';
import { SocketPool } from '../load/pool';
import { payloadTable } from '../lib/device-data';
import { RegisterTemplate } from '../lib/raw-coap';
import { fmt } from '../lib/stats';
import { dropMeter } from '../lib/udp-stats';
import { Ctx, LOOPBACK, pct } from './context';
import { projectRoot } from '../lib/root';

function flows(): unknown[] {
  return [
    { id: 'bench-tab', type: 'tab', label: 'bench' },
    { id: 'bench-server', type: 'lwm2m-server', name: 'bench', address: LOOPBACK, port: 0 },
    {
      id: 'bench-observe', type: 'lwm2m-observe', z: 'bench-tab', server: 'bench-server', endpoint: '', path: '/3/0/9', onRegister: true,
      wires: [['bench-count']],
    },
    {
      id: 'bench-count', type: 'function', z: 'bench-tab', outputs: 0,
      func: "const n = (flow.get('n') || 0) + 1; flow.set('n', n); if (msg.payload === undefined) flow.set('empty', (flow.get('empty') || 0) + 1); return null;",
      wires: [],
    },
    { id: 'bench-http', type: 'http in', z: 'bench-tab', url: '/bench-count', method: 'get', wires: [['bench-read']] },
    {
      id: 'bench-read', type: 'function', z: 'bench-tab', outputs: 1,
      func: "msg.payload = { n: flow.get('n') || 0, empty: flow.get('empty') || 0 }; return msg;", wires: [['bench-reply']],
    },
    { id: 'bench-reply', type: 'http response', z: 'bench-tab', wires: [] },
  ];
}

async function count(nr: NodeRedProcess): Promise<{ n: number; empty: number }> {
  const r = await nr.request('GET', '/bench-count');
  if (r.status !== 200) throw new Error(`GET /bench-count: ${r.status} ${r.body}`);
  return JSON.parse(r.body) as { n: number; empty: number };
}

/** CPU time of a process (Linux /proc), ms; NaN elsewhere. */
function processCpuMs(pid: number | undefined): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

export async function flow(ctx: Ctx): Promise<void> {
  const { cfg, report } = ctx;
  report.begin('4b. Notifications delivered to a Node-RED flow (lwm2m-observe node output)');
  const root = projectRoot();
  if (!fs.existsSync(path.join(root, 'dist', 'nodes', 'lwm2m-observe', 'lwm2m-observe.js'))) {
    report.skip('the nodes are not built (npm run build)');
    return;
  }
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-bench-nr-'));
  let nr: NodeRedProcess | undefined;
  let pool: SocketPool | undefined;
  try {
    nr = await startNodeRed({ userDir, flows: flows() });
    const line = await nr.waitForLog(/LwM2M server listening on udp \S+ port \d+/, 30000);
    const port = Number(/port (\d+)/.exec(line)![1]);
    report.line(`Node-RED ${path.basename(path.dirname(require.resolve('node-red/package.json')))} pid ${nr.child.pid}, LwM2M server on ${LOOPBACK}:${port}; ` +
      `${cfg.devices} devices, confirmable notifications with ${cfg.window} awaiting ACK, ${cfg.reps} × ${cfg.runMs} ms`);
    pool = await SocketPool.open(Math.max(1, Math.ceil(cfg.devices / cfg.perSocket)));
    const responder = new Responder(pool, payloadTable(), { single: 0, multi: 11542 });
    const target = { address: LOOPBACK, port };
    const reg = await registerStorm({ pool, target, template: new RegisterTemplate('nr-', 7), n: cfg.devices, window: cfg.window });
    // the observe node observes each device as it registers
    const until = Date.now() + 30000;
    while (responder.counters.observeRegistrations < reg.ok && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    report.line(`${reg.ok} devices registered, ${responder.counters.observeRegistrations} observed by the flow`);
    if (responder.counters.observeRegistrations === 0) {
      report.skip('the flow observed no device');
      return;
    }
    await responder.notify(Math.min(300, cfg.runMs), cfg.window, target);
    await new Promise((r) => setTimeout(r, 100));
    const rates: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < cfg.reps; i++) {
      const drops = dropMeter();
      const c0 = await count(nr);
      const cpu0 = processCpuMs(nr.child.pid);
      const t0 = process.hrtime.bigint();
      const l = await responder.notify(cfg.runMs, cfg.window, target);
      const c1 = await count(nr);
      const elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
      const cpuMs = processCpuMs(nr.child.pid) - cpu0;
      const n = c1.n - c0.n;
      rates.push(n / (elapsed / 1000));
      cpu.push((cpuMs * 1000) / n);
      if (c1.empty > c0.empty) report.note(`rep ${i + 1}: ${c1.empty - c0.empty} messages without payload`);
      report.line(`  rep ${i + 1}: ${fmt(n / (elapsed / 1000))} msgs/s at the flow (${n} messages; devices sent ${l.sent}, ${l.acked} ACKed, ` +
        `${drops()} kernel drops), Node-RED cpu ${fmt((cpuMs * 1000) / n)} µs/message (${pct(cpuMs / elapsed)} of a core), load cpu ${pct(l.loadCpu)}`);
    }
    report.add({ key: 'flow.notify', name: 'notifications/s at a Node-RED flow output', unit: '/s', values: rates, baselineKey: 'notify' });
    report.add({ key: 'flow.notify.cpu', name: 'Node-RED process CPU per notification', unit: 'µs', values: cpu, baselineKey: 'notify.cpu' });
  } finally {
    await pool?.close();
    await nr?.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}
