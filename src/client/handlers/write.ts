/**
 * Write (replace: PUT, partial update: POST on an instance), Write-Composite (iPATCH), Write-Attributes (PUT with a
 * query and no payload), Create (POST on an object), Delete and Execute (POST on a resource).
 * OMA TS Core 1.1 / 1.2 6.3.3 Write, 6.3.4 Write-Attributes (1.1) / 6.3.5 (1.2), 6.3.5 Execute (1.1) / 6.3.6, 6.3.6
 * Create / 6.3.7, 6.3.7 Delete / 6.3.8, 6.3.9 Write-Composite; Transport 1.1 / 1.2 Table 6.4-x (operations to CoAP).
 */
import { CoapRequest, CoapResponse } from '../../coap/types';
import { CoapResponseError } from '../../errors';
import { Lwm2mPath } from '../../model/path';
import { ContentFormat as CF } from '../../content/formats';
import { Lwm2mRecord, Lwm2mValue } from '../../content/values';
import { decodeRecords } from '../content';
import { parseAttributeQuery } from '../attributes';
import { parseExecuteArguments } from '../execute-args';
import { InvalidValueError } from '../errors';
import {
  badRequest, checkVisible, HandlerHost, HIDDEN_OBJECTS, isExecutable, isWritable, notAllowed, notFound, ServerContext,
} from './context';
import { COMPOSITE_FORMATS } from './read';

type ResourceValue = Lwm2mValue | Map<number, Lwm2mValue>;

/** Values of one resource from a payload: a single value, or resource instances (possibly none). */
interface ResourceWrite {
  path: Lwm2mPath;
  value?: Lwm2mValue;
  instances?: Map<number, Lwm2mValue>;
}

/** Groups decoded records by resource. Every record must lie at or below `target`. */
export function groupByResource(records: readonly Lwm2mRecord[], target: Lwm2mPath): Map<string, ResourceWrite> {
  const out = new Map<string, ResourceWrite>();
  for (const r of records) {
    if (!target.contains(r.path)) throw badRequest(target, `payload holds ${r.path}, outside the target`);
    if (r.path.length < 3) throw badRequest(r.path, 'payload records must name resources');
    const rp = r.path.length === 4 ? r.path.parent() : r.path;
    const k = rp.toString();
    let w = out.get(k);
    if (w === undefined) { w = { path: rp }; out.set(k, w); }
    if (r.path.length === 4) {
      if (r.value === undefined) throw badRequest(r.path, 'no value');
      if (w.value !== undefined) throw badRequest(rp, 'given both as a single value and as instances');
      (w.instances ??= new Map()).set(r.path.resourceInstanceId!, r.value);
    } else if (r.value === undefined) {
      // A multiple resource with no instance (TLV empty multiple resource, Core 1.1 7.4.3)
      w.instances ??= new Map();
    } else {
      if (w.instances !== undefined) throw badRequest(rp, 'given both as a single value and as instances');
      if (w.value !== undefined) throw badRequest(rp, 'given twice');
      w.value = r.value;
    }
  }
  return out;
}

/** Checks a server may write this resource (exists in the model when the object is known, writable, not executable). */
function checkWritableResource(host: HandlerHost, rp: Lwm2mPath, bootstrap: boolean): void {
  const o = rp.objectId!;
  const def = host.tree.resourceDef(o, rp.resourceId!);
  if (def === undefined && host.tree.objectDef(o) !== undefined) throw notFound(rp, `object ${o} has no resource ${rp.resourceId}`);
  if (isExecutable(def, host.tree.get(rp))) throw notAllowed(rp, 'resource is executable');
  if (!bootstrap && !isWritable(def)) throw notAllowed(rp, 'resource is read-only');
}

function resourceValue(host: HandlerHost, w: ResourceWrite): ResourceValue {
  const def = host.tree.resourceDef(w.path.objectId!, w.path.resourceId!);
  if (w.instances !== undefined) {
    if (def !== undefined && !def.multiple) throw badRequest(w.path, 'single-instance resource given as instances');
    return w.instances;
  }
  if (def?.multiple === true) throw badRequest(w.path, 'multiple-instance resource given a single value');
  return w.value!;
}

/** Stores values, converting errors from the tree into 4.00. Returns what was written. */
function store(host: HandlerHost, writes: Iterable<ResourceWrite>, merge: boolean): Map<string, ResourceValue> {
  const done = new Map<string, ResourceValue>();
  // convert everything first, so a bad value leaves the tree untouched
  const planned: [Lwm2mPath, unknown][] = [];
  for (const w of writes) {
    const v = resourceValue(host, w);
    const [o, i, r] = w.path.segments;
    try {
      if (v instanceof Map && merge) {
        for (const [ri, x] of v) planned.push([w.path.child(ri), host.tree.convertValue(w.path.child(ri), host.tree.resourceDef(o, r), x)]);
      } else {
        planned.push([w.path, host.tree.convertResource(o, i!, r!, v)]);
      }
    } catch (err) {
      if (err instanceof InvalidValueError) throw badRequest(w.path, err.message);
      throw err;
    }
    done.set(w.path.toString(), v);
  }
  for (const [p, v] of planned) host.tree.set(p, v);
  return done;
}

/**
 * Write on an instance, a resource or a resource instance. `replace` (PUT) replaces the instance (optional writable
 * resources absent from the payload are removed) or the whole resource; partial update (POST on an instance) only
 * touches the resources given and merges resource instances.
 */
export function handleWrite(host: HandlerHost, server: ServerContext | undefined, req: CoapRequest, path: Lwm2mPath,
  replace: boolean, bootstrap = false): CoapResponse {
  if (path.length < 2) throw notAllowed(path, 'Write needs an object instance, resource or resource instance path');
  if (!bootstrap) checkVisible(host, path);
  else if (!host.tree.hasInstance(path.objectId!, path.instanceId!)) throw notFound(path);
  if (path.length === 4 && server !== undefined && server.version === '1.0') {
    throw badRequest(path, 'writing a resource instance needs LwM2M 1.1');
  }
  if (req.payload.length === 0 && req.contentFormat === undefined) throw badRequest(path, 'Write without payload');
  // No Content-Format on a single value: plain text (the early LwM2M Transport "Required Features": "A default value
  // of plain/text is assumed, allowing this option to be elided"; Wakaama does the same).
  const format = req.contentFormat ?? (path.length >= 3 ? CF.TEXT : undefined);
  const records = decodeRecords(format, req.payload, path, host.registry);
  const groups = groupByResource(records, path);
  for (const w of groups.values()) checkWritableResource(host, w.path, bootstrap);
  if (path.length >= 3 && groups.size === 0) {
    // an empty payload for a resource: an empty multiple resource
    if (path.length === 3) groups.set(path.toString(), { path, instances: new Map() });
    else throw badRequest(path, 'no value');
  }
  let written: Map<string, ResourceValue>;
  if (path.length === 2 && replace) {
    const [o, i] = path.segments;
    // Core 1.1 6.3.3 (replace): the instance holds the given values afterwards; optional writable resources not given
    // are removed, read-only ones are kept.
    const given = new Set([...groups.values()].map((w) => w.path.resourceId!));
    const drops: Lwm2mPath[] = [];
    for (const r of host.tree.resourceIds(o, i!)) {
      if (given.has(r)) continue;
      const def = host.tree.resourceDef(o, r);
      if (def !== undefined && isWritable(def) && !def.mandatory && def.operations !== 'E') drops.push(new Lwm2mPath([o, i!, r]));
    }
    written = store(host, groups.values(), false);
    for (const d of drops) host.tree.remove(d);
  } else if (path.length === 4) {
    const w = groups.get(path.parent().toString());
    const v = w?.instances?.get(path.resourceInstanceId!);
    if (w === undefined || v === undefined || w.instances!.size !== 1) throw badRequest(path, 'payload must hold exactly this resource instance');
    written = store(host, [{ path: path.parent(), instances: new Map([[path.resourceInstanceId!, v]]) }], true);
  } else {
    written = store(host, groups.values(), !replace);
  }
  host.written(server, path, written);
  return { code: '2.04' };
}

/** Write-Composite (1.1+): iPATCH on the root with SenML records of several resources; all or nothing. */
export function handleWriteComposite(host: HandlerHost, server: ServerContext, req: CoapRequest): CoapResponse {
  if (req.contentFormat === undefined || !COMPOSITE_FORMATS.has(req.contentFormat)) {
    throw new CoapResponseError('4.15', 'Write-Composite', `content format ${req.contentFormat ?? 'missing'} cannot carry several paths`);
  }
  const records = decodeRecords(req.contentFormat, req.payload, Lwm2mPath.ROOT, host.registry);
  if (records.length === 0) throw badRequest('/', 'no value in the Write-Composite request');
  const groups = groupByResource(records, Lwm2mPath.ROOT);
  const singles: ResourceWrite[] = [];
  const instances: ResourceWrite[] = [];
  for (const r of records) {
    if (r.path.length < 3) throw badRequest(r.path, 'Write-Composite records must name resources');
    const inst = new Lwm2mPath([r.path.objectId!, r.path.instanceId!]);
    checkVisible(host, inst);
  }
  for (const w of groups.values()) {
    checkWritableResource(host, w.path, false);
    // a resource instance named alone updates that instance only; a whole resource is replaced
    if (w.instances !== undefined && records.some((r) => r.path.length === 4 && w.path.contains(r.path))) instances.push(w);
    else singles.push(w);
  }
  const written = store(host, singles, false);
  for (const [k, v] of store(host, instances, true)) written.set(k, v);
  host.written(server, Lwm2mPath.ROOT, written);
  return { code: '2.04' };
}

/** Write-Attributes: PUT with notification attributes in the query, no payload. */
export function handleWriteAttributes(host: HandlerHost, server: ServerContext, req: CoapRequest, path: Lwm2mPath): CoapResponse {
  if (path.isRoot()) throw badRequest(path, 'attributes cannot be written on the root path');
  checkVisible(host, path);
  const change = parseAttributeQuery(req.query, server.version);
  const def = path.length >= 3 ? host.tree.resourceDef(path.objectId!, path.resourceId!) : undefined;
  if (path.length >= 3 && isExecutable(def, host.tree.get(path))) throw badRequest(path, 'executable resources take no notification attribute');
  server.attributes.write(path, change, def, server.version);
  host.attributesWritten(server, path);
  return { code: '2.04' };
}

/** First TLV entry kind: object instance (bits 7-6 = 00) or not. */
function tlvHasInstance(payload: Buffer): boolean {
  return payload.length > 0 && (payload[0] >> 6) === 0;
}

/**
 * Create (POST on an object): instances in the payload (TLV with or without the object-instance entry, SenML / LwM2M
 * JSON / CBOR records). 2.01 with Location-Path `/O/I` when one instance is created.
 */
export function handleCreate(host: HandlerHost, server: ServerContext | undefined, req: CoapRequest, path: Lwm2mPath): CoapResponse {
  const o = path.objectId!;
  if (HIDDEN_OBJECTS.has(o) || !host.tree.hasObject(o)) throw notFound(path, 'object not supported');
  const odef = host.tree.objectDef(o);
  let target = path;
  const tlv = req.contentFormat === CF.TLV || req.contentFormat === CF.OLD_TLV;
  if (req.payload.length === 0 || (tlv && !tlvHasInstance(req.payload))) {
    // no instance id in the payload: the client picks one (Core 1.1 6.3.6)
    target = path.child(host.tree.nextInstanceId(o));
  }
  const records = req.payload.length === 0 ? [] : decodeRecords(req.contentFormat, req.payload, target, host.registry);
  const byInstance = new Map<number, Lwm2mRecord[]>();
  if (target.length === 2) byInstance.set(target.instanceId!, []);
  for (const r of records) {
    if (r.path.objectId !== o || r.path.length < 3) throw badRequest(r.path, 'payload must hold resources of the created instance');
    const list = byInstance.get(r.path.instanceId!) ?? [];
    list.push(r);
    byInstance.set(r.path.instanceId!, list);
  }
  if (byInstance.size === 0) throw badRequest(path, 'no instance to create');
  if (odef !== undefined && !odef.multiple && (host.tree.instanceIds(o).length > 0 || byInstance.size > 1)) {
    throw badRequest(path, `object ${o} is single-instance and already has its instance`);
  }
  const plans: [number, Map<number, unknown>][] = [];
  for (const [iid, recs] of byInstance) {
    if (host.tree.hasInstance(o, iid)) throw badRequest(path.child(iid), 'instance already exists');
    const groups = groupByResource(recs, path.child(iid));
    const values = new Map<number, unknown>();
    for (const w of groups.values()) {
      const def = host.tree.resourceDef(o, w.path.resourceId!);
      if (def === undefined && odef !== undefined) throw badRequest(w.path, `object ${o} has no resource ${w.path.resourceId}`);
      if (def?.operations === 'E') throw badRequest(w.path, 'executable resources take no value');
      values.set(w.path.resourceId!, resourceValue(host, w));
    }
    // Core 1.0.2 5.4.6 / 1.1 6.3.6 Create: the mandatory resources are given by the server (4.00 Bad Request when
    // they are not). Only the writable ones can be: read-only mandatory resources are the client's to provide
    // (Leshan's client checks the same set).
    if (odef !== undefined) {
      const missing = Object.values(odef.resources)
        .filter((r) => r.mandatory && (r.operations === 'W' || r.operations === 'RW') && !values.has(r.id))
        .map((r) => r.id);
      if (missing.length > 0) throw badRequest(path.child(iid), `mandatory resources missing: ${missing.join(', ')}`);
    }
    plans.push([iid, values]);
  }
  const created: Lwm2mPath[] = [];
  for (const [iid, values] of plans) {
    // executable resources of the model are present in every instance
    if (odef !== undefined) for (const r of Object.values(odef.resources)) if (r.operations === 'E' && r.mandatory) values.set(r.id, null);
    try {
      host.tree.createInstance(o, iid, values);
    } catch (err) {
      for (const c of created) host.tree.deleteInstance(c.objectId!, c.instanceId!, { silent: true });
      if (err instanceof InvalidValueError) throw badRequest(path.child(iid), err.message);
      throw err;
    }
    created.push(path.child(iid));
  }
  for (const c of created) host.created(server, c);
  const res: CoapResponse = { code: '2.01' };
  if (created.length === 1) res.locationPath = [String(o), String(created[0].instanceId)];
  return res;
}

/** Delete (DELETE on an instance). Objects, resources and the Device instance cannot be deleted by a server. */
export function handleDelete(host: HandlerHost, server: ServerContext, path: Lwm2mPath): CoapResponse {
  if (path.length !== 2) throw notAllowed(path, 'only object instances can be deleted');
  checkVisible(host, path);
  if (path.objectId === 3) throw notAllowed(path, 'the Device object instance cannot be deleted');
  host.tree.deleteInstance(path.objectId!, path.instanceId!);
  host.deleted(server, path);
  return { code: '2.02' };
}

/** Execute (POST on a resource), arguments parsed per Core 5.4.5. */
export async function handleExecute(host: HandlerHost, server: ServerContext, req: CoapRequest, path: Lwm2mPath): Promise<CoapResponse> {
  checkVisible(host, path);
  const def = host.tree.resourceDef(path.objectId!, path.resourceId!);
  if (!isExecutable(def, host.tree.get(path))) throw notAllowed(path, 'resource is not executable');
  const args = parseExecuteArguments(req.payload);
  await host.execute(server, path, args, req.payload.toString('latin1'));
  return { code: '2.04' };
}
