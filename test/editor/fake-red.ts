/**
 * A stand-in for the parts of Node-RED the sidebar's routes use (RED.httpAdmin, RED.auth.needsPermission), and a way
 * to call a registered route as Express would (`:param` segments URL-decoded).
 */
import type { HttpRequest, HttpResponse, NodeAPI } from '../../nodes/lib/red';

export type Handler = (req: HttpRequest, res: HttpResponse, next?: () => void) => void;
export interface Route { method: 'GET' | 'POST'; path: string; permission: string; handler: Handler }

export function fakeRed(): { RED: NodeAPI; routes: Route[] } {
  const routes: Route[] = [];
  const guard = (permission: string): Handler => Object.assign((_q: HttpRequest, _r: HttpResponse, next?: () => void) => next?.(), { permission });
  const add = (method: Route['method']) => (path: string, ...handlers: Handler[]) => {
    const perm = handlers.find((h) => (h as Handler & { permission?: string }).permission) as (Handler & { permission?: string }) | undefined;
    routes.push({ method, path, permission: perm?.permission ?? '', handler: handlers[handlers.length - 1] });
  };
  const RED = {
    nodes: {} as NodeAPI['nodes'],
    settings: {},
    httpAdmin: { get: add('GET'), post: add('POST') },
    auth: { needsPermission: guard },
    log: { info() {}, warn() {}, error() {} },
    util: {} as NodeAPI['util'],
    _: (k: string) => k,
  } as unknown as NodeAPI;
  return { RED, routes };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function call(routes: Route[], method: Route['method'], path: string, req: Partial<HttpRequest> = {}): Promise<{ status: number; body: any; headers?: Record<string, string> }> {
  // Match `:param` segments (URL-decoded, like Express).
  for (const r of routes) {
    if (r.method !== method) continue;
    const a = r.path.split('/');
    const b = path.split('?')[0].split('/');
    if (a.length !== b.length) continue;
    const params: Record<string, string> = {};
    if (!a.every((s, i) => (s.startsWith(':') ? ((params[s.slice(1)] = decodeURIComponent(b[i])), true) : s === b[i]))) continue;
    return new Promise((resolve) => {
      let status = 200;
      const headers: Record<string, string> = {};
      const res: HttpResponse = {
        status(code: number) { status = code; return res; },
        json(v: unknown) { resolve({ status, body: JSON.parse(JSON.stringify(v)) }); },
        send(v?: unknown) { resolve({ status, body: v as never, headers }); },
      };
      (res as HttpResponse & { setHeader(n: string, v: string): void }).setHeader = (n: string, v: string) => { headers[n.toLowerCase()] = v; };
      r.handler({ query: {}, params, ...req } as HttpRequest, res);
    });
  }
  throw new Error(`no route ${method} ${path}`);
}

