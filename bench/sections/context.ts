import { BenchConfig } from '../config';
import { spawnWorker, Worker, WorkerOptions } from '../lib/proc';
import { Report } from '../lib/report';

export interface Ctx {
  cfg: BenchConfig;
  report: Report;
}

export const LOOPBACK = '127.0.0.1';

/** Runs `fn` with a fresh worker process (the process under test) and always stops it. */
export async function withWorker<T>(opts: WorkerOptions, fn: (w: Worker) => Promise<T>): Promise<T> {
  const w = await spawnWorker(opts);
  try {
    return await fn(w);
  } finally {
    await w.stop();
  }
}

/** Server CPU per operation in microseconds. */
export function cpuMicros(cpuMs: number, ops: number): number {
  return ops > 0 ? (cpuMs * 1000) / ops : NaN;
}

export function pct(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(0)}%` : '—';
}
