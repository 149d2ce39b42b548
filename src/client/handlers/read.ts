/**
 * Read, Discover, Read-Composite (OMA TS Core 1.1 / 1.2 6.3.1 "Read", 6.3.2 "Discover" (1.2; 6.3.5 in 1.1),
 * 6.3.8 "Read-Composite"; Transport 6.x: Read is GET, Discover is GET with Accept: application/link-format,
 * Read-Composite is FETCH on the root with a SenML list of paths).
 */
import { CoapRequest, CoapResponse } from '../../coap/types';
import { CoapResponseError } from '../../errors';
import { Lwm2mPath } from '../../model/path';
import { ContentFormat as CF } from '../../content/formats';
import { Lwm2mRecord } from '../../content/values';
import { DiscoverEntry, formatDiscover, LinkAttributes } from '../../content/link';
import { decodeRecords, defaultFormat, encodeRecords } from '../content';
import { formatAttributes } from '../attributes';
import {
  badRequest, checkVisible, HandlerHost, HIDDEN_OBJECTS, isExecutable, isReadable, notAllowed, ServerContext,
} from './context';

/** Formats a Read-Composite request may use (Core 1.1 6.3.8: SenML JSON / CBOR; 1.2: also LwM2M CBOR). */
export const COMPOSITE_FORMATS: ReadonlySet<number> = new Set([CF.SENML_JSON, CF.SENML_CBOR, CF.LWM2M_CBOR]);

/** Reads the values at `path` (hooks run first), without the resources the model says cannot be read. */
export async function readRecords(host: HandlerHost, path: Lwm2mPath, refresh = true): Promise<Lwm2mRecord[]> {
  if (refresh) await host.refresh(path);
  const records = host.tree.records(path);
  if (path.length >= 3) return records;
  return records.filter((r) => isReadable(host.tree.resourceDef(r.path.objectId!, r.path.resourceId!)));
}

/** Checks a Read (or Observe) target and returns whether it names a single value. */
export function checkReadable(host: HandlerHost, path: Lwm2mPath): { single: boolean } {
  if (path.isRoot()) throw notAllowed(path, 'Read on the root path is not allowed (use Read-Composite)');
  checkVisible(host, path);
  if (path.length >= 3) {
    const def = host.tree.resourceDef(path.objectId!, path.resourceId!);
    const stored = host.tree.get(path);
    if (isExecutable(def, stored)) throw notAllowed(path, 'resource is executable, not readable');
    if (!isReadable(def)) throw notAllowed(path, 'resource is not readable');
    const multiple = def !== undefined ? def.multiple : stored instanceof Map;
    return { single: path.length === 4 || !multiple };
  }
  return { single: false };
}

/** The content format an answer for `path` uses: Accept, else the client's default. */
export function answerFormat(host: HandlerHost, server: ServerContext, req: CoapRequest, path: Lwm2mPath, single: boolean): number {
  if (req.accept !== undefined) return req.accept;
  const type = path.length >= 3 ? host.tree.resourceDef(path.objectId!, path.resourceId!)?.type : undefined;
  return defaultFormat(server.version, single, type);
}

export async function handleRead(host: HandlerHost, server: ServerContext, req: CoapRequest, path: Lwm2mPath): Promise<CoapResponse & { format: number }> {
  // hooks first: a resource answered by a hook exists once it has been read
  if (!path.isRoot() && !HIDDEN_OBJECTS.has(path.objectId!)) await host.refresh(path);
  const { single } = checkReadable(host, path);
  const format = answerFormat(host, server, req, path, single);
  const records = await readRecords(host, path, false);
  const payload = encodeRecords(format, records, path, host.registry, req.accept !== undefined);
  return { code: '2.05', contentFormat: format, payload, format };
}

/** Decodes the list of paths of a Read-Composite / Observe-Composite request. */
export function compositePaths(host: HandlerHost, req: CoapRequest): Lwm2mPath[] {
  if (req.contentFormat === undefined || !COMPOSITE_FORMATS.has(req.contentFormat)) {
    throw badRequest('/', `a composite request needs a SenML JSON or SenML CBOR list of paths (content format ${req.contentFormat ?? 'missing'})`);
  }
  const records = decodeRecords(req.contentFormat, req.payload, Lwm2mPath.ROOT, host.registry);
  if (records.length === 0) throw badRequest('/', 'no path in the composite request');
  const seen = new Set<string>();
  const out: Lwm2mPath[] = [];
  for (const r of records) {
    const k = r.path.toString();
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r.path);
  }
  return out;
}

/** Reads several paths; absent or hidden ones are left out of the answer (Core 1.1 6.3.8). */
export async function readComposite(host: HandlerHost, paths: readonly Lwm2mPath[]): Promise<Lwm2mRecord[]> {
  const out: Lwm2mRecord[] = [];
  for (const p of paths) {
    if (p.isRoot()) {
      for (const o of host.tree.objectIds()) {
        if (!HIDDEN_OBJECTS.has(o)) out.push(...await readRecords(host, new Lwm2mPath([o])));
      }
      continue;
    }
    if (HIDDEN_OBJECTS.has(p.objectId!) || !host.tree.has(p)) continue;
    if (p.length >= 3) {
      const def = host.tree.resourceDef(p.objectId!, p.resourceId!);
      if (!isReadable(def) || isExecutable(def, host.tree.get(p))) continue;
    }
    out.push(...await readRecords(host, p));
  }
  return out;
}

export async function handleReadComposite(host: HandlerHost, req: CoapRequest): Promise<CoapResponse & { format: number; paths: Lwm2mPath[] }> {
  const paths = compositePaths(host, req);
  const format = req.accept ?? req.contentFormat ?? CF.SENML_CBOR;
  if (!COMPOSITE_FORMATS.has(format)) {
    throw new CoapResponseError('4.06', 'Read-Composite', `content format ${format} cannot carry several paths`);
  }
  const records = await readComposite(host, paths);
  const payload = encodeRecords(format, records, Lwm2mPath.ROOT, host.registry, true);
  return { code: '2.05', contentFormat: format, payload, format, paths };
}

function linkAttrs(text: string): LinkAttributes {
  const a: LinkAttributes = {};
  if (text === '') return a;
  for (const part of text.slice(1).split(';')) {
    const [k, v] = part.split('=');
    (a as Record<string, number>)[k] = Number(v);
  }
  return a;
}

/**
 * Discover (Core 1.1 5.4.2 / 1.2 6.3.2): the object, its instances and resources below the target, with `ver` on the
 * object link (1.1+, versions other than 1.0), `dim` on multiple resources, and the notification attributes this
 * server attached at each level (the target resource shows the ones it inherits too).
 */
export function handleDiscover(host: HandlerHost, server: ServerContext, path: Lwm2mPath, depth?: number): CoapResponse {
  if (path.isRoot()) throw notAllowed(path, 'Discover on the root path is only for Bootstrap-Servers');
  checkVisible(host, path);
  const tree = host.tree;
  const entries: DiscoverEntry[] = [];
  const own = (p: Lwm2mPath): LinkAttributes => linkAttrs(formatAttributes(server.attributes.get(p)));
  const o = path.objectId!;
  const maxLen = depth !== undefined ? path.length + depth : 4;
  const addResource = (p: Lwm2mPath, withInherited: boolean) => {
    const def = tree.resourceDef(o, p.resourceId!);
    const v = tree.get(p);
    const attrs: LinkAttributes = withInherited ? linkAttrs(formatAttributes(server.attributes.effective(p))) : own(p);
    const multiple = def !== undefined ? def.multiple : v instanceof Map;
    if (multiple) attrs.dim = v instanceof Map ? v.size : 0;
    entries.push({ path: p, attributes: reorder(attrs) });
    // 1.2 lists resource instances of a Discover on a resource (Core 1.2 6.3.2).
    if (server.version === '1.2' && v instanceof Map && p.length < maxLen && withInherited) {
      for (const ri of [...v.keys()].sort((a, b) => a - b)) {
        const rp = p.child(ri);
        entries.push({ path: rp, attributes: own(rp) });
      }
    }
  };
  const addInstance = (i: number) => {
    const ip = new Lwm2mPath([o, i]);
    entries.push({ path: ip, attributes: own(ip) });
    if (ip.length >= maxLen) return;
    for (const r of tree.resourceIds(o, i)) addResource(ip.child(r), false);
  };
  if (path.length === 1) {
    const attrs = own(path);
    const ver = tree.objectVersion(o);
    if (server.version !== '1.0' && ver !== '1.0') attrs.ver = ver;
    entries.push({ path, attributes: reorder(attrs) });
    if (path.length < maxLen) for (const i of tree.instanceIds(o)) addInstance(i);
  } else if (path.length === 2) {
    addInstance(path.instanceId!);
  } else if (path.length === 3) {
    addResource(path, true);
  } else {
    entries.push({ path, attributes: own(path) });
  }
  return { code: '2.05', contentFormat: CF.LINK, payload: Buffer.from(formatDiscover(entries)) };
}

/** ver and dim first, then the notification attributes. */
function reorder(a: LinkAttributes): LinkAttributes {
  const out: LinkAttributes = {};
  if (a.ver !== undefined) out.ver = a.ver;
  if (a.dim !== undefined) out.dim = a.dim;
  for (const [k, v] of Object.entries(a)) if (k !== 'ver' && k !== 'dim') (out as Record<string, unknown>)[k] = v;
  return out;
}
