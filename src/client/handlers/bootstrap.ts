/**
 * The client side of the Bootstrap interface (OMA TS Core 1.1 / 1.2 6.1.7.x "Bootstrap-Write / Read / Discover / Delete /
 * Finish"): requests a Bootstrap-Server sends while the client is bootstrapping. A Bootstrap-Server may write any
 * resource (read-only ones included), creates instances by writing them, and may only read the Server and Access
 * Control objects.
 */
import { CoapRequest, CoapResponse } from '../../coap/types';
import { CoapResponseError } from '../../errors';
import { Lwm2mPath } from '../../model/path';
import { ContentFormat as CF } from '../../content/formats';
import { Lwm2mRecord } from '../../content/values';
import { DiscoverEntry, formatDiscover, LinkAttributes } from '../../content/link';
import { decodeRecords, encodeRecords, defaultFormat, ClientVersion } from '../content';
import { InvalidValueError } from '../errors';
import { badRequest, HandlerHost, notFound } from './context';
import { groupByResource } from './write';

export interface BootstrapContext {
  readonly version: ClientVersion;
  /** Security instance id of the Bootstrap-Server account in use (kept by Bootstrap-Delete). */
  bootstrapSecurityInstance(): number | undefined;
  /** Validates the configuration; throws CoapResponseError 4.06 when it cannot be used (Core 1.1 6.1.7.6). */
  finish(): void;
}

/** Instances a Bootstrap-Delete keeps: the Bootstrap-Server account and the Device object (Core 1.1 6.1.7.5). */
function isProtected(host: HandlerHost, bs: BootstrapContext, o: number, i: number): boolean {
  if (o === 3) return true;
  if (o === 0) return i === bs.bootstrapSecurityInstance();
  return false;
}

/** Stores bootstrap records: instances are created when missing, resources overwritten (or added). */
export function applyBootstrapRecords(host: HandlerHost, records: readonly Lwm2mRecord[], target: Lwm2mPath): Lwm2mPath[] {
  const groups = groupByResource(records, target);
  const byInstance = new Map<string, Map<number, unknown>>();
  for (const w of groups.values()) {
    const [o, i, r] = w.path.segments;
    const def = host.tree.resourceDef(o, r!);
    if (def === undefined && host.tree.objectDef(o) !== undefined) throw notFound(w.path, `object ${o} has no resource ${r}`);
    if (def?.operations === 'E') throw badRequest(w.path, 'executable resources take no value');
    const k = `${o}/${i}`;
    let m = byInstance.get(k);
    if (m === undefined) { m = new Map(); byInstance.set(k, m); }
    const v = w.instances ?? w.value;
    if (def !== undefined && def.multiple !== (w.instances !== undefined)) {
      throw badRequest(w.path, def.multiple ? 'multiple-instance resource given a single value' : 'single-instance resource given as instances');
    }
    m.set(r!, v);
  }
  // convert everything before storing anything
  const planned: [number, number, Map<number, unknown>][] = [];
  for (const [k, values] of byInstance) {
    const [o, i] = k.split('/').map(Number);
    const converted = new Map<number, unknown>();
    try {
      for (const [r, v] of values) converted.set(r, host.tree.convertResource(o, i, r, v));
    } catch (err) {
      if (err instanceof InvalidValueError) throw badRequest(`/${k}`, err.message);
      throw err;
    }
    planned.push([o, i, converted]);
  }
  const touched: Lwm2mPath[] = [];
  for (const [o, i, values] of planned) {
    if (!host.tree.hasInstance(o, i)) {
      const odef = host.tree.objectDef(o);
      const all = new Map(values);
      if (odef !== undefined) for (const r of Object.values(odef.resources)) if (r.operations === 'E' && r.mandatory && !all.has(r.id)) all.set(r.id, null);
      host.tree.createInstance(o, i, all);
    } else {
      for (const [r, v] of values) host.tree.set(new Lwm2mPath([o, i, r]), v);
    }
    touched.push(new Lwm2mPath([o, i]));
  }
  return touched;
}

export function handleBootstrapWrite(host: HandlerHost, req: CoapRequest, path: Lwm2mPath): CoapResponse {
  if (path.length === 4) throw badRequest(path, 'Bootstrap-Write targets an object, instance or resource');
  if (req.payload.length === 0) throw badRequest(path, 'Bootstrap-Write without payload');
  if (path.isRoot() && (req.contentFormat === CF.TLV || req.contentFormat === CF.OLD_TLV)) {
    throw badRequest(path, 'a TLV payload needs an object path');
  }
  const records = decodeRecords(req.contentFormat, req.payload, path, host.registry);
  if (path.length >= 1 && path.objectId !== undefined) host.tree.defineObject(path.objectId);
  for (const r of records) if (r.path.objectId !== undefined && !host.tree.hasObject(r.path.objectId)) host.tree.defineObject(r.path.objectId);
  const touched = applyBootstrapRecords(host, records, path);
  const written = new Map<string, never>();
  for (const t of touched) host.written(undefined, t, written);
  return { code: '2.04' };
}

/** Bootstrap-Read (1.1+): only the Server (1) and Access Control (2) objects (Core 1.1 6.1.7.2). */
export function handleBootstrapRead(host: HandlerHost, bs: BootstrapContext, req: CoapRequest, path: Lwm2mPath): CoapResponse {
  if (bs.version === '1.0') throw new CoapResponseError('4.05', String(path), 'Bootstrap-Read needs LwM2M 1.1');
  if (path.objectId !== 1 && path.objectId !== 2) {
    throw new CoapResponseError('4.01', String(path), 'Bootstrap-Read is allowed on the Server and Access Control objects only');
  }
  if (!host.tree.has(path)) throw notFound(path);
  const single = path.length === 4 || (path.length === 3 && host.tree.resourceDef(path.objectId, path.resourceId!)?.multiple === false);
  const format = req.accept ?? defaultFormat(bs.version, single);
  const records = host.tree.records(path);
  return { code: '2.05', contentFormat: format, payload: encodeRecords(format, records, path, host.registry, req.accept !== undefined) };
}

/**
 * Bootstrap-Discover on `/` or an object (Core 1.1 6.1.7.3, 5.2.7.3 in 1.2): `</>;lwm2m=1.1`, objects with `ver`,
 * instances; Security instances carry `uri` (and `ssid` unless they are the Bootstrap-Server's), Server instances `ssid`.
 */
export function handleBootstrapDiscover(host: HandlerHost, bs: BootstrapContext, path: Lwm2mPath): CoapResponse {
  if (path.length > 1) throw badRequest(path, 'Bootstrap-Discover targets the root or an object');
  const entries: DiscoverEntry[] = [];
  if (path.isRoot()) entries.push({ path: Lwm2mPath.ROOT, attributes: { lwm2m: bs.version } });
  const objects = path.isRoot() ? host.tree.objectIds() : [path.objectId!];
  if (!path.isRoot() && !host.tree.hasObject(path.objectId!)) throw notFound(path);
  for (const o of objects) {
    const ids = host.tree.instanceIds(o);
    const ver = host.tree.objectVersion(o);
    const withVer = bs.version !== '1.0' && ver !== '1.0';
    if (ids.length === 0 || withVer) entries.push({ path: new Lwm2mPath([o]), attributes: withVer ? { ver } : {} });
    for (const i of ids) {
      const attrs: LinkAttributes = {};
      if (o === 0 || o === 1) {
        const inst = host.tree.instance(o, i)!;
        const ssid = inst.get(o === 0 ? 10 : 0);
        const isBs = o === 0 && inst.get(1) === true;
        if (typeof ssid === 'number' && !isBs) attrs.ssid = ssid;
        if (o === 0 && typeof inst.get(0) === 'string') attrs.uri = inst.get(0) as string;
      }
      entries.push({ path: new Lwm2mPath([o, i]), attributes: attrs });
    }
  }
  return { code: '2.05', contentFormat: CF.LINK, payload: Buffer.from(formatDiscover(entries)) };
}

export function handleBootstrapDelete(host: HandlerHost, bs: BootstrapContext, path: Lwm2mPath): CoapResponse {
  if (path.length > 2) throw badRequest(path, 'Bootstrap-Delete targets the root, an object or an instance');
  if (path.length === 2) {
    if (isProtected(host, bs, path.objectId!, path.instanceId!)) {
      throw badRequest(path, 'the Bootstrap-Server account and the Device instance cannot be deleted');
    }
    if (host.tree.deleteInstance(path.objectId!, path.instanceId!)) host.deleted(undefined, path);
    return { code: '2.02' };
  }
  const objects = path.isRoot() ? host.tree.objectIds() : [path.objectId!];
  for (const o of objects) {
    for (const i of host.tree.instanceIds(o)) {
      if (isProtected(host, bs, o, i)) continue;
      host.tree.deleteInstance(o, i);
      host.deleted(undefined, new Lwm2mPath([o, i]));
    }
  }
  return { code: '2.02' };
}
