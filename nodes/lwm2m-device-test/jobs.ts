/**
 * Device tests started from the editor (the sidebar's "Test device"): a run takes tens of seconds, so a request starts
 * it and gets a job id, and the editor polls the job for its progress and, at the end, its report. Jobs are kept a
 * while after they end (bounded), then forgotten.
 */
import { randomBytes } from 'crypto';
import type { Lwm2mServer } from '../../src/server/server';
import type { DeviceTestOptions, DeviceTestProgress, DeviceTestReport } from '../../src/qualification';
import { renderReportHtml } from '../../src/qualification';
import { UnknownEndpointError } from '../../src/server/errors';
import { FlowInputError } from '../lib/util';
import { isTesting, runGuarded } from './run';

export interface DeviceTestJob {
  id: string;
  serverId: string;
  endpoint: string;
  state: 'running' | 'done' | 'failed';
  progress?: DeviceTestProgress;
  report?: DeviceTestReport;
  error?: string;
  startedAt: number;
  endedAt?: number;
}

/** Ended jobs kept for polling / export. */
const MAX_ENDED = 50;
/** How long an ended job is kept, ms. */
const KEEP_MS = 30 * 60_000;
const jobs = new Map<string, DeviceTestJob & { signal: { aborted: boolean } }>();

function prune(now: number): void {
  const ended = [...jobs.values()].filter((j) => j.state !== 'running');
  for (const j of ended) if (now - (j.endedAt ?? now) > KEEP_MS) jobs.delete(j.id);
  const left = ended.filter((j) => jobs.has(j.id));
  for (let i = 0; i < left.length - MAX_ENDED; i++) jobs.delete(left[i].id);
}

/**
 * Starts a run and returns its job. Throws (nothing started) for an unknown endpoint (UnknownEndpointError) or a device
 * already under test.
 */
export function startJob(serverId: string, server: Lwm2mServer, endpoint: string, opts: DeviceTestOptions): DeviceTestJob {
  prune(Date.now());
  if (!server.getRegistration(endpoint)) throw new UnknownEndpointError(endpoint);
  if (isTesting(server, endpoint)) throw new FlowInputError(`a device test of ${endpoint} is already running`);
  const job: DeviceTestJob & { signal: { aborted: boolean } } = {
    id: randomBytes(8).toString('hex'), serverId, endpoint, state: 'running', startedAt: Date.now(), signal: { aborted: false },
  };
  const run = runGuarded(server, endpoint, { ...opts, signal: job.signal, onProgress: (p) => { job.progress = p; } });
  jobs.set(job.id, job);
  run.then(
    (report) => {
      job.report = report;
      job.state = 'done';
      job.endedAt = Date.now();
    },
    (err: unknown) => {
      job.error = (err as Error)?.message ?? String(err);
      job.state = 'failed';
      job.endedAt = Date.now();
    },
  );
  return view(job);
}

/** A job as the editor sees it (no internals). */
function view(j: DeviceTestJob): DeviceTestJob {
  const { id, serverId, endpoint, state, progress, report, error, startedAt, endedAt } = j;
  return { id, serverId, endpoint, state, progress, report, error, startedAt, endedAt };
}

export function getJob(id: string): DeviceTestJob | undefined {
  const j = jobs.get(id);
  return j ? view(j) : undefined;
}

/** The report of an ended job as an HTML page, or undefined. */
export function jobHtml(id: string): string | undefined {
  const r = jobs.get(id)?.report;
  return r ? renderReportHtml(r) : undefined;
}

/** Stops the runs of a server (its config node closes): they end after the case under way. */
export function stopJobs(serverId: string): void {
  for (const j of jobs.values()) if (j.serverId === serverId && j.state === 'running') j.signal.aborted = true;
}
