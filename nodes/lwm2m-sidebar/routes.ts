/**
 * The sidebar's admin HTTP routes. Paths are absolute here and relative in the editor (`lwm2m/sidebar/...`), so they
 * follow httpAdminRoot. Reading needs the `lwm2m.read` permission (granted to read-only users), acting on devices
 * `lwm2m.write`. Answers are JSON; errors are `{ error, code }` with a status from {@link statusOf}.
 */
import type { HttpRequest, HttpResponse, NodeAPI } from '../lib/red';
import { SidebarService, statusOf } from './service';
import { SidebarInputError } from './errors';
import { deviceTestJob, startDeviceTest } from '../lwm2m-device-test/admin';

export const ROUTE_BASE = '/lwm2m/sidebar';

type Handler = (req: HttpRequest) => unknown;

function answer(res: HttpResponse, fn: () => unknown): void {
  let out: unknown;
  try {
    out = fn();
  } catch (err) {
    fail(res, err);
    return;
  }
  if (out instanceof Promise) out.then((v) => res.json(v ?? { ok: true }), (err) => fail(res, err));
  else res.json(out ?? { ok: true });
}

function fail(res: HttpResponse, err: unknown): void {
  const e = err as { message?: unknown; code?: unknown; coapCode?: unknown };
  const body: Record<string, unknown> = { error: typeof e?.message === 'string' ? e.message : String(err) };
  if (typeof e?.code === 'string') body.code = e.code;
  if (typeof e?.coapCode === 'string') body.coapCode = e.coapCode;
  res.status(statusOf(err)).json(body);
}

export function registerRoutes(RED: NodeAPI, service: SidebarService): void {
  const read = RED.auth.needsPermission('lwm2m.read');
  const write = RED.auth.needsPermission('lwm2m.write');
  const get = (p: string, perm: typeof read, h: Handler) => RED.httpAdmin.get(ROUTE_BASE + p, perm, (req, res) => answer(res, () => h(req)));
  const post = (p: string, perm: typeof read, h: Handler) => RED.httpAdmin.post(ROUTE_BASE + p, perm, (req, res) => answer(res, () => h(req)));
  const body = (req: HttpRequest): Record<string, unknown> => {
    const b = req.body;
    if (b === undefined || b === null || b === '') return {};
    if (typeof b !== 'object' || Array.isArray(b)) throw new SidebarInputError('the request body must be a JSON object');
    return b as Record<string, unknown>;
  };

  get('/settings', read, () => ({ modelDownload: service.models?.enabled === true }));
  get('/servers', read, () => service.listServers());
  get('/servers/:server/devices', read, (req) => service.listDevices(req.params.server, req.query));
  // A file to save: the device list (same filter and order as the sidebar's list) as CSV or JSON.
  RED.httpAdmin.get(ROUTE_BASE + '/servers/:server/export', read, (req, res) => {
    let file: ReturnType<SidebarService['exportDevices']>;
    try {
      file = service.exportDevices(req.params.server, req.query);
    } catch (err) {
      fail(res, err);
      return;
    }
    const r = res as HttpResponse & { setHeader?(name: string, value: string): void };
    r.setHeader?.('Content-Type', file.contentType);
    r.setHeader?.('Content-Disposition', `attachment; filename="${file.filename}"`);
    r.setHeader?.('Cache-Control', 'no-store');
    r.send(file.body);
  });
  get('/servers/:server/devices/:endpoint', read, (req) => service.device(req.params.server, req.params.endpoint));
  get('/servers/:server/devices/:endpoint/log', read, (req) => service.log(req.params.server, req.params.endpoint, req.query.after));
  post('/servers/:server/devices/:endpoint/watch', read, (req) => service.watch(req.params.server, req.params.endpoint, body(req).after));
  post('/servers/:server/devices/:endpoint/unwatch', read, (req) => service.unwatch(req.params.server, req.params.endpoint));
  post('/servers/:server/devices/:endpoint/operations', write, (req) => service.operate(req.params.server, req.params.endpoint, body(req)));
  // "Test device": the qualification suite runs as a job the editor polls (nodes/lwm2m-device-test/admin.ts).
  post('/servers/:server/devices/:endpoint/device-test', write, (req) => startDeviceTest(service.serverHandle(req.params.server), req.params.endpoint, body(req)));
  get('/device-tests/:job', read, (req) => deviceTestJob(req.params.job, req.query.html === '1'));
  post('/models/:objectId', write, async (req) => {
    const raw = req.params.objectId;
    if (!/^\d{1,5}$/.test(raw)) throw new SidebarInputError(`"${raw.slice(0, 20)}" is not an object id`);
    const defs = await service.downloadModel(Number(raw));
    return { objectId: Number(raw), name: defs[0]?.name, version: defs[0]?.version };
  });
}
