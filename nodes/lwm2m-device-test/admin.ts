/**
 * What the sidebar's admin routes call for "Test device" (nodes/lwm2m-sidebar/routes.ts): start a run on a deployed
 * server for one of its devices, and poll it. The routes keep their permissions (starting needs `lwm2m.write`).
 */
import type { Lwm2mServer } from '../../src/server/server';
import { liveServerEvents } from '../lib/server-node';
import { SidebarInputError, SidebarNotFoundError } from '../lwm2m-sidebar/errors';
import { DeviceTestJob, getJob, jobHtml, startJob, stopJobs } from './jobs';
import { casesOf } from './run';

let following = false;

/** Runs of a server config node that goes away stop after their current case. */
function follow(): void {
  if (following) return;
  following = true;
  liveServerEvents.on('removed', (node: { id?: string }) => {
    if (node && typeof node.id === 'string') stopJobs(node.id);
  });
}

function seconds(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 3600) throw new SidebarInputError(`${what}: expected seconds between 0 and 3600`);
  return n;
}

/**
 * Starts a device test. `body`: `{ destructive?: boolean, cases?: string[] | string, pmin?: number, pmax?: number }`.
 * 404 for an unknown device, 400 for bad options or a device already under test.
 */
export function startDeviceTest(handle: { id: string; server: Lwm2mServer }, endpoint: unknown, body: Record<string, unknown>): DeviceTestJob {
  follow();
  if (typeof endpoint !== 'string' || endpoint === '') throw new SidebarInputError('no endpoint');
  if (!handle.server.getRegistration(endpoint)) throw new SidebarNotFoundError(`${endpoint.slice(0, 80)}: not registered with this server`);
  if (body.destructive !== undefined && typeof body.destructive !== 'boolean') throw new SidebarInputError('destructive: expected true or false');
  const pmin = seconds(body.pmin, 'pmin');
  const pmax = seconds(body.pmax, 'pmax');
  try {
    return startJob(handle.id, handle.server, endpoint, { destructive: body.destructive === true, cases: casesOf(body.cases), pmin, pmax });
  } catch (err) {
    if ((err as { code?: string }).code === 'FLOW_INPUT') throw new SidebarInputError((err as Error).message);
    throw err;
  }
}

/** A job's state, progress and (when done) report; with `html`, also the report as an HTML page. */
export function deviceTestJob(id: unknown, html: boolean): DeviceTestJob & { html?: string } {
  const job = typeof id === 'string' ? getJob(id) : undefined;
  if (!job) throw new SidebarNotFoundError('no such device test (it may have ended a while ago)');
  if (!html || job.state !== 'done') return job;
  return { ...job, html: jobHtml(job.id) };
}
