/**
 * The client's objects, instances and resource values (OMA TS Core 1.1 / 1.2 chapter 7, the LwM2M object model).
 *
 * Kept small on purpose (a fleet holds thousands of trees): an object is a Map of instances, an instance a Map from
 * resource id to its value. A multiple-instance resource holds a Map from resource-instance id to value; an executable
 * resource present in an instance holds `null`. Values are the model's types ({@link Lwm2mValue}), converted on the way
 * in from whatever a caller gives (`"21.5"` for a Float, seconds for a Time...).
 */
import { Lwm2mPath, MAX_ID, MAX_INSTANCE_ID } from '../model/path';
import { ObjectDef, ObjectRegistry, ResourceDef } from '../model/types';
import { Lwm2mRecord, Lwm2mValue } from '../content/values';
import { toModelValue } from '../content/typing';
import { ContentFormat } from '../content/formats';
import { InvalidValueError, NotFoundError } from './errors';
import { sameValue } from './attributes';

/** A stored resource: a value, a Map of resource instances, or null for an executable resource. */
export type StoredValue = Lwm2mValue | Map<number, Lwm2mValue> | null;
export type InstanceValues = Map<number, StoredValue>;

/**
 * What a caller may give as an instance's values: `{ 0: 'ACME', 7: [3800, 5000], 4: null }`. A multiple-instance
 * resource takes an array (ids 0..n-1), an object `{ 1: x, 5: y }` or a Map; an executable resource takes null or true.
 */
export type InstanceInput = Record<number, unknown> | Map<number, unknown>;

interface ObjectEntry {
  version: string | undefined;
  instances: Map<number, InstanceValues>;
}

/** Called after a change: the path of what changed (resource, resource instance, instance or object). */
export type ChangeListener = (path: Lwm2mPath, kind: 'value' | 'create' | 'delete') => void;

export class ObjectTree {
  private readonly objects = new Map<number, ObjectEntry>();
  /** Set by the client: hears every change made through this tree. */
  onChange: ChangeListener | undefined;

  constructor(readonly registry: ObjectRegistry) {}

  /** Declares an object as supported (registered even with no instance). `version` defaults to the model's. */
  defineObject(objectId: number, version?: string): void {
    checkId(objectId, MAX_ID, `/${objectId}`);
    const e = this.objects.get(objectId);
    if (e === undefined) this.objects.set(objectId, { version, instances: new Map() });
    else if (version !== undefined) e.version = version;
  }

  hasObject(objectId: number): boolean { return this.objects.has(objectId); }

  /** Object ids, ascending. */
  objectIds(): number[] { return [...this.objects.keys()].sort((a, b) => a - b); }

  /** The object's definition from the registry (undefined for an unknown object). */
  objectDef(objectId: number): ObjectDef | undefined {
    return this.registry.getObject(objectId, this.objects.get(objectId)?.version);
  }

  resourceDef(objectId: number, resourceId: number): ResourceDef | undefined {
    const d = this.objectDef(objectId);
    return d !== undefined ? d.resources[resourceId] : this.registry.getResource(objectId, resourceId);
  }

  /** The object's version as announced at registration: the declared one, else the model's. */
  objectVersion(objectId: number): string {
    return this.objects.get(objectId)?.version ?? this.objectDef(objectId)?.version ?? '1.0';
  }

  /** Instance ids of an object, ascending (empty for an unknown object). */
  instanceIds(objectId: number): number[] {
    const e = this.objects.get(objectId);
    return e === undefined ? [] : [...e.instances.keys()].sort((a, b) => a - b);
  }

  hasInstance(objectId: number, instanceId: number): boolean {
    return this.objects.get(objectId)?.instances.has(instanceId) === true;
  }

  /** The instance's values (live map: do not modify it directly, use set()). */
  instance(objectId: number, instanceId: number): InstanceValues | undefined {
    return this.objects.get(objectId)?.instances.get(instanceId);
  }

  /** Resource ids present in an instance, ascending. */
  resourceIds(objectId: number, instanceId: number): number[] {
    const i = this.instance(objectId, instanceId);
    return i === undefined ? [] : [...i.keys()].sort((a, b) => a - b);
  }

  /** True when the path (object, instance, resource or resource instance) exists. */
  has(path: Lwm2mPath): boolean {
    const [o, i, r, ri] = path.segments;
    if (path.isRoot()) return true;
    const e = this.objects.get(o);
    if (e === undefined) return false;
    if (i === undefined) return true;
    const inst = e.instances.get(i);
    if (inst === undefined) return false;
    if (r === undefined) return true;
    if (!inst.has(r)) return false;
    if (ri === undefined) return true;
    const v = inst.get(r);
    return v instanceof Map && v.has(ri);
  }

  /** Lowest free instance id of an object. */
  nextInstanceId(objectId: number): number {
    const e = this.objects.get(objectId);
    if (e === undefined) return 0;
    for (let id = 0; id <= MAX_INSTANCE_ID; id++) if (!e.instances.has(id)) return id;
    throw new InvalidValueError(`/${objectId}`, 'no free instance id');
  }

  /**
   * Creates an instance (the object is declared if needed). Values are converted to the model's types; unknown
   * resources of a known object are refused. Returns the instance id. Throws when the instance exists.
   */
  createInstance(objectId: number, instanceId?: number, values?: InstanceInput, opts?: { silent?: boolean }): number {
    this.defineObject(objectId);
    const e = this.objects.get(objectId)!;
    const id = instanceId ?? this.nextInstanceId(objectId);
    checkId(id, MAX_INSTANCE_ID, `/${objectId}/${id}`);
    if (e.instances.has(id)) throw new InvalidValueError(`/${objectId}/${id}`, 'instance already exists');
    const inst: InstanceValues = new Map();
    if (values !== undefined) {
      for (const [rid, v] of entries(values)) inst.set(rid, this.convertResource(objectId, id, rid, v));
    }
    e.instances.set(id, inst);
    if (opts?.silent !== true) this.onChange?.(new Lwm2mPath([objectId, id]), 'create');
    return id;
  }

  /** Deletes an instance; false when absent. */
  deleteInstance(objectId: number, instanceId: number, opts?: { silent?: boolean }): boolean {
    const e = this.objects.get(objectId);
    if (e === undefined || !e.instances.delete(instanceId)) return false;
    if (opts?.silent !== true) this.onChange?.(new Lwm2mPath([objectId, instanceId]), 'delete');
    return true;
  }

  /** Removes an object and all its instances (bootstrap delete / removing support). */
  deleteObject(objectId: number): boolean {
    const had = this.objects.delete(objectId);
    if (had) this.onChange?.(new Lwm2mPath([objectId]), 'delete');
    return had;
  }

  /** The stored value of a resource (value, Map of instances, or null for executable) or resource instance. */
  get(path: Lwm2mPath): StoredValue | undefined {
    const [o, i, r, ri] = path.segments;
    if (r === undefined) return undefined;
    const v = this.objects.get(o)?.instances.get(i!)?.get(r);
    if (ri === undefined) return v;
    return v instanceof Map ? v.get(ri) : undefined;
  }

  /**
   * Sets a resource (any value a caller may give: arrays for multiple-instance resources) or one resource instance.
   * The instance must exist. Returns true when the stored value changed; a change is reported to `onChange`.
   */
  set(path: Lwm2mPath, value: unknown, opts?: { silent?: boolean }): boolean {
    const [o, i, r, ri] = path.segments;
    if (r === undefined) throw new InvalidValueError(path.toString(), 'a resource path is needed (/O/I/R or /O/I/R/RI)');
    const inst = this.instance(o, i!);
    if (inst === undefined) throw new NotFoundError(path.toString(), `instance /${o}/${i} does not exist`);
    let changed: boolean;
    if (ri === undefined) {
      const nv = this.convertResource(o, i!, r, value);
      const old = inst.get(r);
      changed = old === undefined || !sameValue(old, nv);
      inst.set(r, nv);
    } else {
      const def = this.resourceDef(o, r);
      if (def !== undefined && !def.multiple) throw new InvalidValueError(path.toString(), 'resource is single-instance');
      checkId(ri, MAX_ID, path.toString());
      const nv = this.convertValue(path, def, value);
      let m = inst.get(r);
      if (!(m instanceof Map)) { m = new Map(); inst.set(r, m); }
      const old = m.get(ri);
      changed = old === undefined || !sameValue(old, nv);
      m.set(ri, nv);
    }
    if (changed && opts?.silent !== true) this.onChange?.(path, 'value');
    return changed;
  }

  /** Removes a resource or a resource instance; false when absent. */
  remove(path: Lwm2mPath, opts?: { silent?: boolean }): boolean {
    const [o, i, r, ri] = path.segments;
    if (r === undefined) return false;
    const inst = this.instance(o, i!);
    if (inst === undefined) return false;
    let done: boolean;
    if (ri === undefined) done = inst.delete(r);
    else {
      const m = inst.get(r);
      done = m instanceof Map && m.delete(ri);
    }
    if (done && opts?.silent !== true) this.onChange?.(path, 'delete');
    return done;
  }

  /**
   * The stored values at and below `path` as records (resource or resource-instance paths), in tree order. Executable
   * resources carry no value and are left out. An absent path gives no record.
   */
  records(path: Lwm2mPath, out: Lwm2mRecord[] = []): Lwm2mRecord[] {
    const [o, i, r, ri] = path.segments;
    if (path.isRoot()) {
      for (const id of this.objectIds()) this.records(new Lwm2mPath([id]), out);
      return out;
    }
    const e = this.objects.get(o);
    if (e === undefined) return out;
    if (i === undefined) {
      for (const iid of this.instanceIds(o)) this.instanceRecords(o, iid, e.instances.get(iid)!, out);
      return out;
    }
    const inst = e.instances.get(i);
    if (inst === undefined) return out;
    if (r === undefined) return this.instanceRecords(o, i, inst, out);
    const v = inst.get(r);
    if (v === undefined || v === null) return out;
    if (ri !== undefined) {
      if (v instanceof Map && v.has(ri)) out.push({ path, value: v.get(ri)! });
      return out;
    }
    pushResource(path, v, out);
    return out;
  }

  private instanceRecords(o: number, i: number, inst: InstanceValues, out: Lwm2mRecord[]): Lwm2mRecord[] {
    const ids = [...inst.keys()].sort((a, b) => a - b);
    for (const r of ids) {
      const v = inst.get(r);
      if (v === undefined || v === null) continue;
      pushResource(new Lwm2mPath([o, i, r]), v, out);
    }
    return out;
  }

  /** Converts a caller's value for a whole resource (single value, or the instances of a multiple resource). */
  convertResource(o: number, i: number, r: number, v: unknown): StoredValue {
    const path = new Lwm2mPath([o, i, r]);
    const def = this.resourceDef(o, r);
    if (def === undefined && this.objectDef(o) !== undefined) {
      throw new InvalidValueError(path.toString(), `object ${o} has no resource ${r}`);
    }
    if (def?.operations === 'E' || (def === undefined && (v === null || v === undefined))) {
      if (v !== null && v !== undefined && v !== true) {
        throw new InvalidValueError(path.toString(), 'an executable resource holds no value (give null)');
      }
      return null;
    }
    const multiple = def !== undefined ? def.multiple : (Array.isArray(v) || v instanceof Map);
    if (!multiple) {
      if (Array.isArray(v) || v instanceof Map) throw new InvalidValueError(path.toString(), 'resource is single-instance');
      return this.convertValue(path, def, v);
    }
    const m = new Map<number, Lwm2mValue>();
    let list: Iterable<[number, unknown]>;
    if (Array.isArray(v)) list = v.map((x, k) => [k, x] as [number, unknown]);
    else if (v instanceof Map) list = v as Map<number, unknown>;
    else if (typeof v === 'object' && v !== null && !Buffer.isBuffer(v) && !(v instanceof Date)) list = entries(v as Record<number, unknown>);
    else list = [[0, v]];
    for (const [k, x] of list) {
      checkId(k, MAX_ID, `${path}/${k}`);
      m.set(k, this.convertValue(path.child(k), def, x));
    }
    return m;
  }

  convertValue(path: Lwm2mPath, def: ResourceDef | undefined, v: unknown): Lwm2mValue {
    if (def?.type === 'none') throw new InvalidValueError(path.toString(), 'an executable resource holds no value');
    try {
      return toModelValue(v, def?.type, ContentFormat.TEXT, path);
    } catch (err) {
      throw new InvalidValueError(path.toString(), `${describe(v)} is not a valid ${def?.type ?? 'LwM2M value'}`, { cause: err });
    }
  }
}

function pushResource(path: Lwm2mPath, v: Lwm2mValue | Map<number, Lwm2mValue>, out: Lwm2mRecord[]): void {
  if (v instanceof Map) {
    const ids = [...v.keys()].sort((a, b) => a - b);
    for (const k of ids) out.push({ path: path.child(k), value: v.get(k)! });
  } else out.push({ path, value: v });
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v);
  if (v === null || v === undefined) return String(v);
  if (Buffer.isBuffer(v)) return `Buffer(${v.length})`;
  if (typeof v === 'object') return Array.isArray(v) ? 'an array' : 'an object';
  return `${typeof v} ${String(v)}`;
}

function checkId(id: number, max: number, where: string): void {
  if (!Number.isInteger(id) || id < 0 || id > max) throw new InvalidValueError(where, `id must be an integer from 0 to ${max}`);
}

/** Entries of a record with numeric keys, or of a Map. Non-numeric keys are refused. */
export function entries(v: InstanceInput | Record<number, unknown>): [number, unknown][] {
  if (v instanceof Map) return [...v.entries()].map(([k, x]) => [Number(k), x]);
  return Object.keys(v).map((k) => {
    if (!/^\d{1,5}$/.test(k)) throw new InvalidValueError(k, 'resource ids must be numbers');
    return [Number(k), (v as Record<string, unknown>)[k]];
  });
}
