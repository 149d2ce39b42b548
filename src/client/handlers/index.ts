/**
 * Routes CoAP requests to LwM2M operations (OMA TS Transport 1.1 / 1.2 Table 6.4.x "Operation to CoAP mapping" for the
 * Device Management & Service Enablement and Information Reporting interfaces; the Bootstrap interface for requests of
 * a Bootstrap-Server). Errors become CoAP error answers with a diagnostic payload (RFC 7252 5.5.2).
 */
import { CoapRequest, CoapResponse } from '../../coap/types';
import { CoapResponseError, Lwm2mError } from '../../errors';
import { Lwm2mPath } from '../../model/path';
import { ContentFormat as CF } from '../../content/formats';
import { HandlerHost, ServerContext, badRequest, notAllowed, notFound } from './context';
import { handleDiscover, handleRead, handleReadComposite } from './read';
import {
  handleCreate, handleDelete, handleExecute, handleWrite, handleWriteAttributes, handleWriteComposite,
} from './write';
import {
  BootstrapContext, handleBootstrapDelete, handleBootstrapDiscover, handleBootstrapRead, handleBootstrapWrite,
} from './bootstrap';

export type { HandlerHost, ServerContext } from './context';
export type { BootstrapContext } from './bootstrap';

/** Uri-Path segments to an LwM2M path; undefined when they are not one. */
export function toPath(segments: readonly string[]): Lwm2mPath | undefined {
  const segs = segments.length > 0 && segments[segments.length - 1] === '' ? segments.slice(0, -1) : segments;
  if (segs.length > 4) return undefined;
  const ids: number[] = [];
  for (const s of segs) {
    if (!/^\d{1,5}$/.test(s)) return undefined;
    ids.push(Number(s));
  }
  try {
    return new Lwm2mPath(ids);
  } catch {
    return undefined;
  }
}

/** Turns an error into an answer. Lwm2mErrors other than CoAP ones become 4.00 (bad input), the rest 5.00. */
export function errorResponse(err: unknown): CoapResponse {
  if (err instanceof CoapResponseError) {
    return { code: err.coapCode, payload: err.diagnostic !== undefined ? Buffer.from(err.diagnostic.slice(0, 200)) : undefined };
  }
  if (err instanceof Lwm2mError) return { code: '4.00', payload: Buffer.from(err.message.slice(0, 200)) };
  return { code: '5.00' };
}

function queryValue(query: readonly string[], name: string): string | undefined {
  for (const q of query) if (q.startsWith(name + '=')) return q.slice(name.length + 1);
  return undefined;
}

/** A request from a DM server. */
export async function dispatchServerRequest(host: HandlerHost, server: ServerContext, req: CoapRequest): Promise<CoapResponse> {
  try {
    const path = toPath(req.path);
    if (path === undefined) throw notFound('/' + req.path.join('/'), 'not an LwM2M path');
    switch (req.method) {
      case 'GET': {
        if (req.accept === CF.LINK) {
          if (req.observe === 0) throw badRequest(path, 'Discover cannot be observed');
          let depth: number | undefined;
          const d = queryValue(req.query, 'depth');
          if (d !== undefined) {
            if (!/^[0-3]$/.test(d)) throw badRequest(path, 'depth must be 0..3');
            depth = Number(d);
          }
          return handleDiscover(host, server, path, depth);
        }
        if (req.observe === 1) host.observations.cancel(server, req.token);
        const res = await handleRead(host, server, req, path);
        if (req.observe === 0) {
          const obs = host.observations.add(server, req.token, req.peer, [path], false, res.format);
          return { code: res.code, contentFormat: res.contentFormat, payload: res.payload, observe: obs.seq };
        }
        return { code: res.code, contentFormat: res.contentFormat, payload: res.payload };
      }
      case 'FETCH': {
        if (!path.isRoot()) throw notAllowed(path, 'composite operations target the root path');
        if (server.version === '1.0') throw notAllowed(path, 'composite operations need LwM2M 1.1');
        if (req.observe === 1) host.observations.cancel(server, req.token);
        const res = await handleReadComposite(host, req);
        if (req.observe === 0) {
          const obs = host.observations.add(server, req.token, req.peer, res.paths, true, res.format);
          return { code: res.code, contentFormat: res.contentFormat, payload: res.payload, observe: obs.seq };
        }
        return { code: res.code, contentFormat: res.contentFormat, payload: res.payload };
      }
      case 'iPATCH': {
        if (!path.isRoot()) throw notAllowed(path, 'composite operations target the root path');
        if (server.version === '1.0') throw notAllowed(path, 'composite operations need LwM2M 1.1');
        return handleWriteComposite(host, server, req);
      }
      case 'PUT': {
        if (req.payload.length === 0 && req.contentFormat === undefined) {
          if (req.query.length === 0) throw badRequest(path, 'PUT without payload nor attributes');
          return handleWriteAttributes(host, server, req, path);
        }
        return handleWrite(host, server, req, path, true);
      }
      case 'POST': {
        switch (path.length) {
          case 1: return handleCreate(host, server, req, path);
          case 2: return handleWrite(host, server, req, path, false);
          case 3: return await handleExecute(host, server, req, path);
          default: throw notAllowed(path, 'POST targets an object (Create), an instance (Write) or a resource (Execute)');
        }
      }
      case 'DELETE':
        return handleDelete(host, server, path);
      default:
        throw notAllowed(path, `${req.method} is not an LwM2M operation`);
    }
  } catch (err) {
    return errorResponse(err);
  }
}

/** A request from the Bootstrap-Server during bootstrap. */
export async function dispatchBootstrapRequest(host: HandlerHost, bs: BootstrapContext, req: CoapRequest): Promise<CoapResponse> {
  try {
    if (req.method === 'POST' && req.path.length === 1 && req.path[0] === 'bs') {
      bs.finish();
      return { code: '2.04' };
    }
    const path = toPath(req.path);
    if (path === undefined) throw notFound('/' + req.path.join('/'), 'not an LwM2M path');
    switch (req.method) {
      case 'PUT': return handleBootstrapWrite(host, req, path);
      case 'GET':
        if (req.accept === CF.LINK) return handleBootstrapDiscover(host, bs, path);
        return handleBootstrapRead(host, bs, req, path);
      case 'DELETE': return handleBootstrapDelete(host, bs, path);
      default: throw notAllowed(path, `${req.method} is not a Bootstrap operation`);
    }
  } catch (err) {
    return errorResponse(err);
  }
}
