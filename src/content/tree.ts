/**
 * Records <-> the plain JS shapes users handle in Node-RED `msg.payload`.
 *
 * - A resource read gives its value; a multiple resource `{ [riid]: value }`.
 * - An instance: `{ [resourceId]: value | { [riid]: value } }`; an object: `{ [instanceId]: {...} }`; the root:
 *   `{ [objectId]: {...} }`.
 * - Composite results: `{ '/3/0/0': value, '/1/0/1': value }` ({@link recordsToPathMap}).
 *
 * The reverse ({@link treeToRecords}, {@link pathMapToRecords}) accepts numeric string keys and, where the registry
 * knows them, resource names as keys (`{ Manufacturer: 'x' }` on `/3/0`); values are checked and converted with
 * toModelValue (so `"3:1"` becomes an object link, an ISO string a Date for a Time resource...). Anything that does
 * not fit raises an EncodeError naming the path.
 */
import { EncodeError, InvalidPathError } from '../errors';
import { Lwm2mPath } from '../model/path';
import { ObjectRegistry, ResourceDef } from '../model/types';
import { resourceDefOf, resourceTypeOf, toModelValue } from './typing';
import { isObjectLink, Lwm2mRecord, Lwm2mValue } from './values';

/** A value in a tree: a leaf value or a nested object keyed by ids. */
export type TreeNode = Lwm2mValue | { [id: string]: TreeNode };

/** Format number used in EncodeErrors raised by tree conversion when the caller names none. */
const NO_FORMAT = -1;

function isLeaf(v: unknown): boolean {
  return typeof v !== 'object' || v === null || Buffer.isBuffer(v) || v instanceof Date || v instanceof Uint8Array
    || isObjectLink(v) || ((v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data));
}

/** Keeps, for each path, the record to show: the latest by time (records without time count as the latest). */
function latestByPath(records: readonly Lwm2mRecord[]): Map<string, Lwm2mRecord> {
  const best = new Map<string, Lwm2mRecord>();
  for (const r of records) {
    if (r.value === undefined) continue;
    const k = r.path.toString();
    const prev = best.get(k);
    if (prev === undefined || r.time === undefined || (prev.time !== undefined && r.time >= prev.time)) best.set(k, r);
  }
  return best;
}

/**
 * The nested value for a read of `path`. Records below `path` only (others are ignored); records without a value are
 * skipped; with history (several records for one path) the latest wins. A resource read with nothing gives
 * `undefined` (or `{}` when the records show resource instances were expected but none came).
 */
export function recordsToTree(path: Lwm2mPath | string, records: readonly Lwm2mRecord[]): TreeNode | undefined {
  const base = Lwm2mPath.from(path);
  const latest = latestByPath(records);
  if (base.isResourceInstance()) return latest.get(base.toString())?.value;
  if (base.isResource()) {
    const own = latest.get(base.toString());
    const inst: { [id: string]: TreeNode } = {};
    let any = false;
    for (const r of latest.values()) {
      if (r.path.length === 4 && base.contains(r.path)) {
        inst[r.path.resourceInstanceId!] = r.value!;
        any = true;
      }
    }
    if (own !== undefined && !any) return own.value;
    return any ? inst : undefined;
  }
  const tree: { [id: string]: TreeNode } = {};
  for (const r of latest.values()) {
    if (!base.contains(r.path) || r.path.length < 3) continue;
    const ids = r.path.segments;
    let node = tree;
    // Ids index the nodes as numbers (the same property keys as their decimal text, without building the text).
    for (let i = base.length; i < ids.length - 1; i++) {
      const k = ids[i];
      let next = node[k];
      if (next === undefined || isLeaf(next)) {
        // A resource that was first seen as a single value and now has instances: instances win.
        next = {};
        node[k] = next;
      }
      node = next as { [id: string]: TreeNode };
    }
    const leafKey = ids[ids.length - 1];
    if (!(leafKey in node) || isLeaf(node[leafKey])) node[leafKey] = r.value!;
  }
  return tree;
}

/** Composite results as `{ '/3/0/0': value, ... }` (latest value per path; path-only records are skipped). */
export function recordsToPathMap(records: readonly Lwm2mRecord[]): { [path: string]: Lwm2mValue } {
  const out: { [path: string]: Lwm2mValue } = {};
  for (const [k, r] of latestByPath(records)) out[k] = r.value!;
  return out;
}

function resourceByName(registry: ObjectRegistry | undefined, objectId: number, name: string): ResourceDef | undefined {
  const def = registry?.getObject(objectId);
  if (def === undefined) return undefined;
  const all = Object.values(def.resources);
  return all.find((r) => r.name === name) ?? all.find((r) => r.name.toLowerCase() === name.toLowerCase());
}

/** Resolves a key at `parent` (numeric id, or a resource name at instance level). */
function childId(parent: Lwm2mPath, key: string, registry: ObjectRegistry | undefined, format: number): number {
  if (/^\d{1,5}$/.test(key)) return Number(key);
  if (parent.isInstance()) {
    const r = resourceByName(registry, parent.objectId!, key);
    if (r !== undefined) return r.id;
    throw new EncodeError(format, `${parent}: "${key}" is neither a resource id nor a resource name of object ${parent.objectId}`);
  }
  throw new EncodeError(format, `${parent}: key "${key}" is not a numeric id`);
}

function childPath(parent: Lwm2mPath, id: number, format: number): Lwm2mPath {
  try {
    return parent.child(id);
  } catch (e) {
    if (e instanceof InvalidPathError) throw new EncodeError(format, e.message, { cause: e });
    throw e;
  }
}

function entriesOf(v: unknown): Array<[string, unknown]> {
  if (Array.isArray(v)) {
    const out: Array<[string, unknown]> = [];
    v.forEach((x, i) => { if (x !== undefined) out.push([String(i), x]); });
    return out;
  }
  return Object.entries(v as object);
}

function leaf(path: Lwm2mPath, value: unknown, registry: ObjectRegistry | undefined, format: number, out: Lwm2mRecord[]): void {
  if (value === null) throw new EncodeError(format, `${path}: null is not a value`);
  const def = resourceDefOf(registry, path);
  if (def !== undefined && path.isResource() && def.multiple) {
    throw new EncodeError(format, `${path} is a multiple resource: give { [instanceId]: value } or an array`);
  }
  if (def !== undefined && (def.operations === 'E' || def.type === 'none')) {
    throw new EncodeError(format, `${path} (${def.name}) is executable and carries no value`);
  }
  out.push({ path, value: toModelValue(value, resourceTypeOf(registry, path), format, path) });
}

function walk(path: Lwm2mPath, node: unknown, registry: ObjectRegistry | undefined, format: number, out: Lwm2mRecord[]): void {
  if (node === undefined) return;
  if (path.isResourceInstance()) {
    if (!isLeaf(node)) throw new EncodeError(format, `${path}: a resource instance takes a single value, not an object`);
    leaf(path, node, registry, format, out);
    return;
  }
  if (path.isResource()) {
    const nested = !isLeaf(node);
    if (!nested) { leaf(path, node, registry, format, out); return; }
    const def = resourceDefOf(registry, path);
    if (def !== undefined && !def.multiple) {
      throw new EncodeError(format, `${path} (${def.name}) is a single-instance resource: give a value, not an object`);
    }
    for (const [k, v] of entriesOf(node)) {
      if (!/^\d{1,5}$/.test(k)) throw new EncodeError(format, `${path}: resource instance key "${k}" is not a numeric id`);
      walk(childPath(path, Number(k), format), v, registry, format, out);
    }
    return;
  }
  if (isLeaf(node) || Array.isArray(node)) {
    throw new EncodeError(format, `${path}: expected an object keyed by ${path.isRoot() ? 'object' : path.isObject() ? 'instance' : 'resource'} ids`);
  }
  for (const [k, v] of Object.entries(node as object)) {
    walk(childPath(path, childId(path, k, registry, format), format), v, registry, format, out);
  }
}

/**
 * The records for writing `tree` at `path` (the reverse of {@link recordsToTree}). Arrays are accepted for multiple
 * resources (index = resource instance id). `undefined` members are skipped; `null` is an error. `format` only
 * labels errors (EncodeError.format); it defaults to -1.
 */
export function treeToRecords(path: Lwm2mPath | string, tree: unknown, registry?: ObjectRegistry, format = NO_FORMAT): Lwm2mRecord[] {
  let base: Lwm2mPath;
  try {
    base = Lwm2mPath.from(path);
  } catch (e) {
    throw new EncodeError(format, (e as Error).message, { cause: e });
  }
  const out: Lwm2mRecord[] = [];
  walk(base, tree, registry, format, out);
  out.sort((a, b) => Lwm2mPath.compare(a.path, b.path));
  return out;
}

/**
 * Records from a composite map `{ '/3/0/0': value, '/3/0': { ... } }` (keys are paths, values are trees for that path).
 */
export function pathMapToRecords(map: unknown, registry?: ObjectRegistry, format = NO_FORMAT): Lwm2mRecord[] {
  if (isLeaf(map) || Array.isArray(map)) throw new EncodeError(format, 'expected an object keyed by LwM2M paths');
  const out: Lwm2mRecord[] = [];
  for (const [k, v] of Object.entries(map as object)) {
    let p: Lwm2mPath;
    try {
      p = Lwm2mPath.parse(k);
    } catch (e) {
      throw new EncodeError(format, (e as Error).message, { cause: e });
    }
    walk(p, v, registry, format, out);
  }
  return out;
}
