/**
 * 6. DTLS 1.2 PSK (RFC 6347, RFC 4279): handshakes per second against our server, and encrypted Reads per second.
 *
 * The load side uses our DTLS client (src/dtls/client.ts), one UDP socket per device: handshakes run `dtlsWindow` at a
 * time, each client closing (close_notify) once connected. For Reads, `dtlsDevices` clients stay connected, register
 * over their session and answer the server's GETs; the server reads /3/0/0 as in section 3.
 */
import { connectDtls, DtlsClientSocket } from '../../src/dtls/index';
import { Responder } from '../load/responder';
import { registerStorm } from '../load/storm';
import { cpuMeter, SocketPool } from '../load/pool';
import { DTLS_PREFIX, LoopResult } from '../host/ours';
import { payloadTable } from '../lib/device-data';
import { RegisterTemplate } from '../lib/raw-coap';
import { fmt } from '../lib/stats';
import { cpuMicros, Ctx, LOOPBACK, pct, withWorker } from './context';

const KEY = '000102030405060708090a0b0c0d0e0f';

function connect(port: number, i: number): Promise<DtlsClientSocket> {
  return connectDtls({ host: LOOPBACK, port, localAddress: LOOPBACK, identity: `bench-${i}`, key: KEY, handshakeTimeoutMs: 20_000 });
}

/** `n` handshakes, `window` at a time; `keep` decides which clients stay open. */
async function handshakes(port: number, first: number, n: number, window: number, keep: boolean): Promise<{ clients: DtlsClientSocket[]; failed: number; firstError?: string; elapsedMs: number; loadCpu: number }> {
  const clients: DtlsClientSocket[] = [];
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const cpu = cpuMeter();
  const t0 = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = first + next++;
      try {
        const c = await connect(port, i);
        if (keep) clients[i - first] = c; // socket k is identity k
        else await new Promise<void>((resolve) => c.close(() => resolve()));
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, worker));
  return { clients, failed, firstError, elapsedMs: Number(process.hrtime.bigint() - t0) / 1e6, loadCpu: cpu().share };
}

export async function dtls(ctx: Ctx): Promise<void> {
  const { cfg, report } = ctx;
  report.begin('6. DTLS PSK: handshakes/s and encrypted reads/s');
  report.line(`${cfg.dtlsHandshakes} handshakes per repetition (${cfg.dtlsWindow} at a time, our DTLS client, AES-128-CCM-8), ` +
    `then ${cfg.dtlsDevices} connected devices read like section 3`);
  const identities = cfg.dtlsDevices + 100 + cfg.dtlsHandshakes * cfg.reps;
  await withWorker({ name: 'our-dtls-server' }, async (w) => {
    const { port } = await w.call<{ port: number }>('ours.start', { dtls: { identities, key: KEY } });
    // identities 0 .. dtlsDevices-1 are the reading devices; handshakes use the next ones
    let first = cfg.dtlsDevices;
    const hsRates: number[] = [];
    const hsCpu: number[] = [];
    // warm-up
    const warm = Math.min(cfg.dtlsHandshakes, 100);
    await handshakes(port, first, warm, cfg.dtlsWindow, false);
    first += warm;
    for (let i = 0; i < cfg.reps; i++) {
      await w.call('meter.begin');
      const r = await handshakes(port, first, cfg.dtlsHandshakes, cfg.dtlsWindow, false);
      const m = await w.call<{ cpuMs: number }>('meter.end');
      first += cfg.dtlsHandshakes;
      const ok = cfg.dtlsHandshakes - r.failed;
      if (r.failed) report.note(`rep ${i + 1}: ${r.failed} handshakes failed, first: ${r.firstError}`);
      hsRates.push(ok / (r.elapsedMs / 1000));
      hsCpu.push(cpuMicros(m.cpuMs, ok));
      report.line(`  rep ${i + 1}: ${fmt(ok / (r.elapsedMs / 1000))} handshakes/s, server cpu ${fmt(cpuMicros(m.cpuMs, ok))} µs/handshake ` +
        `(${pct(m.cpuMs / r.elapsedMs)} of a core), load cpu ${pct(r.loadCpu)}`);
    }
    report.add({ key: 'dtls.hs', name: 'DTLS PSK handshakes/s', unit: '/s', values: hsRates, baselineKey: 'storm', note: 'baseline: plain registrations/s' });
    report.add({ key: 'dtls.hs.cpu', name: 'our server CPU per DTLS handshake', unit: 'µs', values: hsCpu });

    // Encrypted reads.
    const conn = await handshakes(port, 0, cfg.dtlsDevices, cfg.dtlsWindow, true);
    if (conn.failed) {
      report.note(`${conn.failed} devices could not connect, first: ${conn.firstError}`);
      for (const c of conn.clients) c?.close();
      await w.call('ours.stop');
      return;
    }
    const pool = SocketPool.wrap(conn.clients);
    try {
      new Responder(pool, payloadTable(), { single: 0, multi: 11542 }); // answers the server's GETs
      const reg = await registerStorm({
        pool, target: { address: LOOPBACK, port }, template: new RegisterTemplate(DTLS_PREFIX, 7), n: pool.size, window: cfg.window,
      });
      report.line(`${conn.clients.length} devices connected, ${reg.ok} registered over DTLS`);
      if (reg.ok === 0) {
        report.skip('no device could register over DTLS');
        return;
      }
      await w.call('ours.readLoop', { path: '/3/0/0', window: cfg.window, durationMs: Math.min(300, cfg.runMs) });
      const rates: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < cfg.reps; i++) {
        const r = await w.call<LoopResult>('ours.readLoop', { path: '/3/0/0', window: cfg.window, durationMs: cfg.runMs });
        if (r.errors > 0) report.note(`DTLS read rep ${i + 1}: ${r.errors} failed, first: ${r.firstError}`);
        rates.push(r.ok / (r.elapsedMs / 1000));
        cpu.push(cpuMicros(r.cpuMs, r.ok));
        report.line(`  rep ${i + 1}: ${fmt(r.ok / (r.elapsedMs / 1000))} encrypted reads/s, ${r.errors} errors, server cpu ${fmt(cpuMicros(r.cpuMs, r.ok))} µs/read`);
      }
      report.add({ key: 'dtls.read', name: 'our encrypted reads/s of /3/0/0 (DTLS)', unit: '/s', values: rates, baselineKey: 'read.res' });
      report.add({ key: 'dtls.read.cpu', name: 'our server CPU per encrypted read', unit: 'µs', values: cpu, baselineKey: 'read.res.cpu' });
    } finally {
      await w.call('ours.stop');
      await pool.close();
    }
  });
}
