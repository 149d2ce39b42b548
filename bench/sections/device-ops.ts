/**
 * 3. Reads and 4. notifications, server to devices.
 *
 * `devices` virtual devices register (the storm's load side), then:
 * - Reads: inside the server process, `window` concurrent `server.read(endpoint, path)` loops over the registered
 *   devices for `runMs` (the devices answer from precomputed payloads in the format the server asks for);
 * - Notifications: the server observes /3/0/9 on every device; the devices then send confirmable notifications with
 *   a changing value, `window` waiting for their ACK; the figure is 'notification' events emitted by the server per
 *   second (what a flow node's output receives), counted inside the server process.
 */
import { Responder } from '../load/responder';
import { registerStorm } from '../load/storm';
import { SocketPool } from '../load/pool';
import { payloadTable } from '../lib/device-data';
import { Worker } from '../lib/proc';
import { RegisterTemplate } from '../lib/raw-coap';
import { fmt } from '../lib/stats';
import type { LoopResult } from '../host/ours';
import { dropMeter } from '../lib/udp-stats';
import { loop } from './baselines';
import { cpuMicros, Ctx, LOOPBACK, pct, withWorker } from './context';

/** Formats the devices answer with when the request has no Accept (LwM2M 1.1: TLV stays the usual default). */
const DEFAULTS = { single: 0, multi: 11542 };

async function fleetUp(w: Worker, ctx: Ctx, prefix: string): Promise<{ pool: SocketPool; responder: Responder; port: number }> {
  const { cfg, report } = ctx;
  const pool = await SocketPool.open(Math.max(1, Math.ceil(cfg.devices / cfg.perSocket)));
  const { port } = await w.call<{ port: number }>('ours.start');
  const responder = new Responder(pool, payloadTable(), DEFAULTS);
  const r = await registerStorm({ pool, target: { address: LOOPBACK, port }, template: new RegisterTemplate(prefix, 7), n: cfg.devices, window: cfg.window });
  report.line(`${r.ok} devices registered on ${pool.size} sockets (${fmt(r.perSecond)} reg/s)`);
  return { pool, responder, port };
}

function loopLine(r: LoopResult, drops: number): string {
  return `${fmt(r.ok / (r.elapsedMs / 1000))}/s, ${r.errors} errors${r.firstError ? ` (${r.firstError})` : ''}, ${drops} kernel drops, ` +
    `server cpu ${fmt(cpuMicros(r.cpuMs, r.ok))} µs/op (${pct(r.cpuMs / r.elapsedMs)} of a core)`;
}

export async function reads(ctx: Ctx): Promise<void> {
  const { cfg, report } = ctx;
  report.begin('3. Reads: server.read() of /3/0/0 and /3/0 on many devices');
  report.line(`${cfg.devices} devices (LwM2M 1.1, ct=112: /3/0 comes as SenML CBOR, /3/0/0 as text), ${cfg.window} reads in flight, ` +
    `${cfg.reps} × ${cfg.runMs} ms per path, each repetition right after a node-coap GET repetition (paired baseline)`);
  await withWorker({ name: 'baseline-server' }, (bw) => withWorker({ name: 'our-server' }, async (w) => {
    const { pool, responder } = await fleetUp(w, ctx, 'rd-');
    try {
      await loop(bw, ctx, 'nodecoap', Math.min(300, cfg.runMs));
      for (const path of ['/3/0/0', '/3/0']) {
        await w.call('ours.readLoop', { path, window: cfg.window, durationMs: Math.min(300, cfg.runMs) });
        const rates: number[] = [];
        const cpu: number[] = [];
        const coapRates: number[] = [];
        const coapCpu: number[] = [];
        for (let i = 0; i < cfg.reps; i++) {
          const c = await loop(bw, ctx, 'nodecoap', cfg.runMs);
          coapRates.push(c.perSecond);
          coapCpu.push(cpuMicros(c.serverCpuMs, c.ok));
          const drops = dropMeter();
          const r = await w.call<LoopResult>('ours.readLoop', { path, window: cfg.window, durationMs: cfg.runMs });
          if (r.errors > 0) report.note(`${path} rep ${i + 1}: ${r.errors} failed reads, first: ${r.firstError}`);
          rates.push(r.ok / (r.elapsedMs / 1000));
          cpu.push(cpuMicros(r.cpuMs, r.ok));
          report.line(`  ${path} rep ${i + 1}: ${loopLine(r, drops())} (node-coap: ${fmt(c.perSecond)}/s)`);
        }
        const key = path === '/3/0/0' ? 'read.res' : 'read.inst';
        report.add({
          key, name: `our reads/s of ${path}`, unit: '/s', values: rates, paired: { name: 'node-coap GET req/s', values: coapRates },
          target: { minRatio: 0.5, text: '≥ 50% of node-coap GET' },
        });
        report.add({ key: key + '.cpu', name: `our server CPU per read of ${path}`, unit: 'µs', values: cpu, paired: { name: 'node-coap CPU per GET', values: coapCpu } });
      }
      report.line(`devices answered ${responder.counters.answered}, 4.06 ${responder.counters.notAcceptable}, 4.04 ${responder.counters.notFound}`);
    } finally {
      await w.call('ours.stop');
      await pool.close();
    }
  }));
}

export async function notifications(ctx: Ctx): Promise<void> {
  const { cfg, report } = ctx;
  report.begin('4. Notifications: many observed resources changing');
  report.line(`${cfg.devices} devices, /3/0/9 observed on each, confirmable notifications with ${cfg.window} awaiting ACK, ${cfg.reps} × ${cfg.runMs} ms`);
  await withWorker({ name: 'our-server' }, async (w) => {
    const { pool, responder, port } = await fleetUp(w, ctx, 'nt-');
    try {
      const obs = await w.call<LoopResult>('ours.observeAll', { path: '/3/0/9', window: cfg.window });
      report.line(`observations: ${obs.ok} established (${fmt(obs.ok / (obs.elapsedMs / 1000))}/s), ${obs.errors} failed${obs.firstError ? ` (${obs.firstError})` : ''}`);
      if (obs.ok === 0) {
        report.skip('no observation could be established');
        return;
      }
      const target = { address: LOOPBACK, port };
      await responder.notify(Math.min(300, cfg.runMs), cfg.window, target);
      const rates: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < cfg.reps; i++) {
        const drops = dropMeter();
        await w.call('meter.begin');
        const l = await responder.notify(cfg.runMs, cfg.window, target);
        const m = await w.call<{ cpuMs: number; elapsedMs: number; notifications: number }>('meter.end');
        rates.push(m.notifications / (m.elapsedMs / 1000));
        cpu.push(cpuMicros(m.cpuMs, m.notifications));
        report.line(`  rep ${i + 1}: ${fmt(m.notifications / (m.elapsedMs / 1000))}/s delivered (${m.notifications} events; devices sent ${l.sent}, ` +
          `${l.acked} ACKed, ${l.resets} RST, ${l.retransmissions} retransmitted, ${drops()} kernel drops), server cpu ${fmt(cpuMicros(m.cpuMs, m.notifications))} µs/notification, load cpu ${pct(l.loadCpu)}`);
      }
      report.add({ key: 'notify', name: 'our notifications/s delivered', unit: '/s', values: rates, baselineKey: 'coap' });
      report.add({ key: 'notify.cpu', name: 'our server CPU per notification', unit: 'µs', values: cpu, baselineKey: 'coap.cpu' });
    } finally {
      await w.call('ours.stop');
      await pool.close();
    }
  });
}
