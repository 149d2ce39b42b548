/**
 * 1. Baselines, measured in the same run as everything they are compared with:
 * - a raw node:dgram echo: the limit of one Node process answering datagrams (round trips/s, many in flight);
 * - a bare node-coap server answering a GET: the ceiling of the usual CoAP library.
 */
import { echoMessage, getMessage, LoopResult, requestLoop } from '../load/request-loop';
import { SocketPool } from '../load/pool';
import { Worker } from '../lib/proc';
import { fmt } from '../lib/stats';
import { cpuMicros, Ctx, LOOPBACK, pct, withWorker } from './context';

/** One repetition of a baseline loop against a baseline worker (the server is started and stopped around it). */
export async function loop(w: Worker, ctx: Ctx, kind: 'echo' | 'nodecoap', ms: number): Promise<LoopResult & { serverCpuMs: number }> {
  const { cfg } = ctx;
  const pool = await SocketPool.open(cfg.baselineSockets);
  try {
    const { port } = await w.call<{ port: number }>(`${kind}.start`);
    const make = kind === 'echo' ? echoMessage : getMessage('/bench');
    const c0 = await w.call<{ cpuMs: number }>('cpu');
    const r = await requestLoop(pool, { address: LOOPBACK, port }, make, ms, cfg.window);
    const c1 = await w.call<{ cpuMs: number }>('cpu');
    await w.call(`${kind}.stop`);
    return { ...r, serverCpuMs: c1.cpuMs - c0.cpuMs };
  } finally {
    await pool.close();
  }
}

export async function baselines(ctx: Ctx): Promise<void> {
  const { cfg, report } = ctx;
  report.begin('1. Baselines: raw dgram echo, bare node-coap GET');
  report.line(`${cfg.baselineSockets} load sockets, ${cfg.window} in flight, ${cfg.reps} × ${cfg.runMs} ms, alternating; server in its own process`);
  const rates = { echo: [] as number[], nodecoap: [] as number[] };
  const cpu = { echo: [] as number[], nodecoap: [] as number[] };
  await withWorker({ name: 'baseline-server' }, async (w) => {
    for (const kind of ['echo', 'nodecoap'] as const) await loop(w, ctx, kind, Math.min(300, cfg.runMs)); // warm-up
    for (let i = 0; i < cfg.reps; i++) {
      for (const kind of ['echo', 'nodecoap'] as const) {
        const r = await loop(w, ctx, kind, cfg.runMs);
        rates[kind].push(r.perSecond);
        cpu[kind].push(cpuMicros(r.serverCpuMs, r.ok));
        report.line(`  rep ${i + 1} ${kind === 'echo' ? 'echo     ' : 'node-coap'}: ${fmt(r.perSecond)}/s, ${r.errors} lost, ${r.kernelDrops} kernel drops, ` +
          `load process cpu ${pct(r.loadCpu)}, server cpu ${pct(r.serverCpuMs / r.elapsedMs)}`);
      }
    }
  });
  report.add({ key: 'echo', name: 'raw dgram echo round trips/s', unit: '/s', values: rates.echo });
  report.add({ key: 'echo.cpu', name: 'raw dgram echo server CPU per round trip', unit: 'µs', values: cpu.echo });
  report.add({ key: 'coap', name: 'bare node-coap GET req/s', unit: '/s', values: rates.nodecoap, paired: { name: 'raw dgram echo', values: rates.echo } });
  report.add({ key: 'coap.cpu', name: 'bare node-coap server CPU per GET', unit: 'µs', values: cpu.nodecoap, paired: { name: 'raw dgram echo', values: cpu.echo } });
}
