/**
 * A virtual fleet (src/client createFleet) in the worker process: how many clients one process holds registered, and
 * their memory per client (heap and RSS after a full GC, before the fleet is built and once it is registered).
 */
import * as fs from 'fs';
import type { Fleet } from '../../src/client/fleet';

let fleet: Fleet | undefined;

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run the worker with --expose-gc');
  g(); g();
}

/** Max open files of this process (each fleet client has its own UDP socket). */
export function fdLimit(): number {
  try {
    const m = /Max open files\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (m) return Number(m[1]);
  } catch { /* not Linux */ }
  return NaN;
}

export interface FleetResult {
  n: number;
  registered: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  heapPerClient: number;
  rssPerClient: number;
  timersBefore: number;
  timersAfter: number;
  fdLimit: number;
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

export async function start(o: { port: number; n: number; concurrency: number }): Promise<FleetResult> {
  await stop();
  const { createFleet } = await import('../../src/client/fleet');
  gc();
  const timersBefore = timers();
  const m0 = process.memoryUsage();
  const t0 = process.hrtime.bigint();
  let errors = 0;
  let firstError: string | undefined;
  const f = createFleet({
    count: o.n,
    prefix: 'fleet-',
    serverUri: `coap://127.0.0.1:${o.port}`,
    localAddress: '127.0.0.1',
    lifetime: 86400,
    concurrency: o.concurrency,
    registerTimeoutMs: 60_000,
  });
  f.on('client-error', (_c: unknown, err: Error) => { errors++; firstError ??= err?.message ?? String(err); });
  fleet = f;
  await f.start();
  const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  await new Promise((r) => setTimeout(r, 50));
  gc();
  const m1 = process.memoryUsage();
  const registered = f.stats().registered;
  return {
    n: o.n, registered, errors, firstError, elapsedMs,
    heapPerClient: (m1.heapUsed - m0.heapUsed) / Math.max(1, registered),
    rssPerClient: (m1.rss - m0.rss) / Math.max(1, registered),
    timersBefore, timersAfter: timers(), fdLimit: fdLimit(),
  };
}

export async function stop(): Promise<void> {
  const f = fleet;
  fleet = undefined;
  if (f) await f.stop();
}
