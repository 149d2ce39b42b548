/**
 * 2. Registration storm against our server, and 7. the same storm against lwm2m-node-lib.
 *
 * Each repetition: a fresh server, `warmupN` registrations (not measured), then `stormN` new devices (distinct endpoint
 * names, spread over sockets of `perSocket` devices each) register with `window` Register requests in flight.
 * Registrations/s is measured by the load side (first request to last 2.01); the server's CPU time comes from
 * process.cpuUsage() inside the server process over the storm.
 */
import { registerStorm, StormResult } from '../load/storm';
import { SocketPool } from '../load/pool';
import { Worker } from '../lib/proc';
import { RegisterTemplate } from '../lib/raw-coap';
import { fmt } from '../lib/stats';
import { loop } from './baselines';
import { cpuMicros, Ctx, LOOPBACK, pct, withWorker } from './context';

export interface StormRep extends StormResult {
  serverCpuMs: number;
  registered: number;
}

let runId = 0;

/** One storm repetition against `kind` (a fresh server). */
export async function stormOnce(w: Worker, kind: 'ours' | 'peer', n: number, warmupN: number, perSocket: number, window: number): Promise<StormRep> {
  const run = (++runId).toString(36);
  const pool = await SocketPool.open(Math.max(1, Math.ceil(n / perSocket)));
  try {
    const { port } = await w.call<{ port: number }>(`${kind}.start`);
    const target = { address: LOOPBACK, port };
    if (warmupN > 0) {
      await registerStorm({ pool, target, template: new RegisterTemplate(`w${run}-`, 7), n: warmupN, window });
    }
    await w.call('meter.begin');
    const r = await registerStorm({ pool, target, template: new RegisterTemplate(`s${run}-`, 7), n, window });
    const m = await w.call<{ cpuMs: number }>('meter.end');
    const { registrations } = await w.call<{ registrations: number }>(`${kind}.count`);
    await w.call(`${kind}.stop`);
    return { ...r, serverCpuMs: m.cpuMs, registered: registrations - warmupN };
  } finally {
    await pool.close();
  }
}

function describe(r: StormRep): string {
  const codes = Object.entries(r.codes).map(([c, k]) => `${c}×${k}`).join(' ');
  return `${fmt(r.perSecond)} reg/s, ${r.registered} stored, answers ${codes}, ${r.retransmissions} retransmitted, ${r.kernelDrops} kernel drops, ` +
    `server cpu ${fmt(cpuMicros(r.serverCpuMs, r.ok))} µs/reg (${pct(r.serverCpuMs / r.elapsedMs)} of a core), load cpu ${pct(r.loadCpu)}`;
}

export async function storm(ctx: Ctx): Promise<void> {
  const { cfg, report } = ctx;
  report.begin('2. Registration storm: our server');
  const sockets = Math.ceil(cfg.stormN / cfg.perSocket);
  report.line(`${cfg.stormN} devices with distinct endpoint names on ${sockets} sockets (${cfg.perSocket} devices per socket), ` +
    `${cfg.window} Registers in flight, after ${cfg.warmupN} warm-up registrations; a fresh server per repetition (one more ` +
    `first, not counted); each repetition right after a node-coap GET repetition (paired baseline)`);
  const rates: number[] = [];
  const cpu: number[] = [];
  const coapRates: number[] = [];
  const coapCpu: number[] = [];
  await withWorker({ name: 'baseline-server' }, (bw) => withWorker({ name: 'our-server' }, async (w) => {
    await loop(bw, ctx, 'nodecoap', Math.min(300, cfg.runMs));
    await stormOnce(w, 'ours', cfg.stormN, cfg.warmupN, cfg.perSocket, cfg.window); // warm-up repetition (JIT), not counted
    for (let i = 0; i < cfg.reps; i++) {
      const c = await loop(bw, ctx, 'nodecoap', cfg.runMs);
      coapRates.push(c.perSecond);
      coapCpu.push(cpuMicros(c.serverCpuMs, c.ok));
      const r = await stormOnce(w, 'ours', cfg.stormN, cfg.warmupN, cfg.perSocket, cfg.window);
      if (r.registered !== cfg.stormN) report.note(`rep ${i + 1}: ${r.registered} of ${cfg.stormN} devices stored`);
      rates.push(r.perSecond);
      cpu.push(cpuMicros(r.serverCpuMs, r.ok));
      report.line(`  rep ${i + 1}: ${describe(r)} (node-coap: ${fmt(c.perSecond)}/s)`);
    }
  }));
  report.add({
    key: 'storm', name: `our registrations/s (${fmt(cfg.stormN)} devices)`, unit: '/s', values: rates,
    paired: { name: 'node-coap GET req/s', values: coapRates }, target: { minRatio: 0.5, text: '≥ 50% of node-coap GET' },
  });
  report.add({ key: 'storm.cpu', name: 'our server CPU per registration', unit: 'µs', values: cpu, paired: { name: 'node-coap CPU per GET', values: coapCpu } });

  // The same storm as one burst beyond the server socket's receive buffer: what is lost there waits for the devices'
  // retransmission (2 s and more, RFC 7252 4.2).
  report.line(`burst: the same storm with ${cfg.burstWindow} Registers in flight`);
  const burst: number[] = [];
  await withWorker({ name: 'our-server' }, async (w) => {
    for (let i = 0; i < cfg.burstReps; i++) {
      const r = await stormOnce(w, 'ours', cfg.stormN, cfg.warmupN, cfg.perSocket, cfg.burstWindow);
      burst.push(r.perSecond);
      report.line(`  rep ${i + 1}: ${describe(r)}`);
    }
  });
  report.add({ key: 'storm.burst', name: `our registrations/s, ${cfg.burstWindow} in flight`, unit: '/s', values: burst, baselineKey: 'storm' });
}

export async function peer(ctx: Ctx): Promise<void> {
  const { cfg, report } = ctx;
  report.begin('7. Peer: lwm2m-node-lib 1.4.0 under the same storm');
  report.line(`same storm: ${cfg.stormN} devices, ${cfg.perSocket} per socket, ${cfg.window} in flight, ${cfg.warmupN} warm-up; ` +
    `its in-memory registry, cleaned before each repetition; each repetition paired with one of our server right before`);
  try {
    require.resolve('lwm2m-node-lib');
  } catch {
    report.skip('lwm2m-node-lib is not installed (npm install)');
    return;
  }
  const rates: number[] = [];
  const cpu: number[] = [];
  const ours: number[] = [];
  const oursCpu: number[] = [];
  await withWorker({ name: 'our-server' }, (ow) => withWorker({ name: 'peer-server', quiet: true }, async (w) => {
    await stormOnce(ow, 'ours', Math.min(cfg.stormN, 1000), cfg.warmupN, cfg.perSocket, cfg.window); // warm-up repetitions
    await stormOnce(w, 'peer', Math.min(cfg.stormN, 1000), cfg.warmupN, cfg.perSocket, cfg.window);
    for (let i = 0; i < cfg.peerReps; i++) {
      const o = await stormOnce(ow, 'ours', cfg.stormN, cfg.warmupN, cfg.perSocket, cfg.window);
      ours.push(o.perSecond);
      oursCpu.push(cpuMicros(o.serverCpuMs, o.ok));
      const r = await stormOnce(w, 'peer', cfg.stormN, cfg.warmupN, cfg.perSocket, cfg.window);
      if (r.registered !== cfg.stormN) report.note(`rep ${i + 1}: the peer stored ${r.registered} of ${cfg.stormN} devices`);
      rates.push(r.perSecond);
      cpu.push(cpuMicros(r.serverCpuMs, r.ok));
      report.line(`  rep ${i + 1}: ${describe(r)} (ours: ${fmt(o.perSecond)} reg/s, ${fmt(cpuMicros(o.serverCpuMs, o.ok))} µs/reg)`);
    }
  }));
  report.add({ key: 'peer', name: `lwm2m-node-lib registrations/s (${fmt(cfg.stormN)} devices)`, unit: '/s', values: rates });
  report.add({
    key: 'storm.vs.peer', name: 'our registrations/s vs lwm2m-node-lib', unit: '/s', values: ours,
    paired: { name: 'lwm2m-node-lib reg/s', values: rates }, target: { minRatio: 10, text: '≥ 10× lwm2m-node-lib' },
  });
  report.add({ key: 'peer.cpu', name: 'lwm2m-node-lib server CPU per registration', unit: 'µs', values: cpu, paired: { name: 'ours', values: oursCpu } });
}
