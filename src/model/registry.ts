/**
 * The object registry: built-in definitions plus any loaded from DDF files, looked up by object id and version.
 *
 * Versions: several versions of one object may coexist (a device registering `</3>;ver=1.1` and another registering
 * plain `</3>` — OMA TS Core 1.1 §6.2.1: no `ver` means 1.0). Lookup rules:
 * - `getObject(id)` without a version returns the object's *default* definition: the one with the highest version
 *   number. This does not depend on the order definitions were added in; adding a definition with the same id and
 *   version replaces the earlier one (so a user DDF overrides a built-in of the same version).
 * - `getObject(id, version)` returns that exact version when registered, otherwise the best fallback so that callers
 *   (codecs) still get resource types: the highest version with the same major number that is not newer than asked,
 *   else the lowest same-major version above it, else the default. Use {@link ModelRegistry.hasVersion} for an exact test.
 * - Unknown objects give `undefined`: callers keep raw ids.
 */
import { ModelError } from '../errors';
import { BUILTIN_OBJECTS } from './objects';
import {
  DdfFolderOptions, DdfFolderResult, loadDdfFile, loadDdfFileAsync, loadDdfFolder, loadDdfFolderAsync, parseDdf,
} from './ddf';
import { Lwm2mPath, MAX_ID } from './path';
import { ObjectDef, ObjectRegistry, Operations, ResourceDef, ResourceType } from './types';

/** One entry of {@link ModelRegistry.pathSuggestions}: an object or a resource, for an editor's type-ahead. */
export interface PathSuggestion {
  /** `/3` for an object, `/3/0/0` for a resource (instance 0 as the usual instance). */
  path: string;
  /** `Device` or `Device / Manufacturer`. */
  label: string;
  kind: 'object' | 'resource';
  objectId: number;
  resourceId?: number;
  /** Resource type (resources only). */
  type?: ResourceType;
  /** Resource operations (resources only). */
  operations?: Operations;
  units?: string;
  multiple: boolean;
  mandatory: boolean;
  /** Object version the entry comes from. */
  version: string;
}

export interface SuggestionOptions {
  /** At most this many entries (default: all). */
  limit?: number;
  /** Include object entries (default true). */
  objects?: boolean;
  /** Include resource entries (default true). */
  resources?: boolean;
}

/** Compares `1.10` above `1.9`; versions that are not `major.minor` sort as text after numeric ones. */
export function compareVersions(a: string, b: string): number {
  const pa = /^(\d+)\.(\d+)$/.exec(a);
  const pb = /^(\d+)\.(\d+)$/.exec(b);
  if (pa && pb) return Number(pa[1]) - Number(pb[1]) || Number(pa[2]) - Number(pb[2]);
  if (pa) return -1;
  if (pb) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function major(v: string): string {
  const i = v.indexOf('.');
  return i < 0 ? v : v.slice(0, i);
}

function checkDef(def: ObjectDef): void {
  const source = `object ${String((def as Partial<ObjectDef> | undefined)?.id)}`;
  if (typeof def !== 'object' || def === null) throw new ModelError('<definition>', 'not an object definition');
  if (!Number.isInteger(def.id) || def.id < 0 || def.id > MAX_ID) throw new ModelError(source, `id must be an integer from 0 to ${MAX_ID}`);
  if (typeof def.name !== 'string') throw new ModelError(source, 'name must be a string');
  if (typeof def.version !== 'string' || def.version === '') throw new ModelError(source, 'version must be a string such as "1.0"');
  if (typeof def.resources !== 'object' || def.resources === null) throw new ModelError(source, 'resources must be an object');
  for (const [key, r] of Object.entries(def.resources)) {
    if (!r || r.id !== Number(key)) throw new ModelError(source, `resource key ${key} does not match its id`);
  }
}

export class ModelRegistry implements ObjectRegistry {
  /** id -> versions, sorted by ascending version. */
  private readonly byId = new Map<number, ObjectDef[]>();
  /** id -> default (newest) definition: the hot-path lookup. */
  private readonly defaults = new Map<number, ObjectDef>();
  private suggestionsCache: PathSuggestion[] | undefined;

  /** A registry holding the built-in definitions (OMA objects 0-7 and common IPSO objects). */
  static withBuiltins(): ModelRegistry {
    return new ModelRegistry().addAll(BUILTIN_OBJECTS);
  }

  /** Adds (or replaces, same id and version) a definition. @throws {ModelError} for a malformed definition */
  add(def: ObjectDef): this {
    checkDef(def);
    const list = this.byId.get(def.id) ?? [];
    const same = list.findIndex((d) => d.version === def.version);
    if (same >= 0) list[same] = def;
    else {
      list.push(def);
      list.sort((a, b) => compareVersions(a.version, b.version));
    }
    this.byId.set(def.id, list);
    this.defaults.set(def.id, list[list.length - 1]);
    this.suggestionsCache = undefined;
    return this;
  }

  addAll(defs: Iterable<ObjectDef>): this {
    for (const d of defs) this.add(d);
    return this;
  }

  /** Removes one version, or every version of an object. Returns true when something was removed. */
  remove(id: number, version?: string): boolean {
    const list = this.byId.get(id);
    if (!list) return false;
    const kept = version === undefined ? [] : list.filter((d) => d.version !== version);
    if (kept.length === list.length) return false;
    if (kept.length === 0) {
      this.byId.delete(id);
      this.defaults.delete(id);
    } else {
      this.byId.set(id, kept);
      this.defaults.set(id, kept[kept.length - 1]);
    }
    this.suggestionsCache = undefined;
    return true;
  }

  getObject(objectId: number, version?: string): ObjectDef | undefined {
    if (version === undefined) return this.defaults.get(objectId);
    const list = this.byId.get(objectId);
    if (!list) return undefined;
    let below: ObjectDef | undefined;
    let above: ObjectDef | undefined;
    const m = major(version);
    for (const d of list) {
      if (d.version === version) return d;
      if (major(d.version) !== m) continue;
      if (compareVersions(d.version, version) < 0) below = d;
      else if (above === undefined) above = d;
    }
    return below ?? above ?? list[list.length - 1];
  }

  getResource(objectId: number, resourceId: number, version?: string): ResourceDef | undefined {
    return this.getObject(objectId, version)?.resources[resourceId];
  }

  /** True when the object is known (any version, or exactly `version`). */
  has(objectId: number, version?: string): boolean {
    return version === undefined ? this.defaults.has(objectId) : this.hasVersion(objectId, version);
  }

  hasVersion(objectId: number, version: string): boolean {
    return this.byId.get(objectId)?.some((d) => d.version === version) ?? false;
  }

  /** Every version of one object, oldest first. */
  versions(objectId: number): ObjectDef[] {
    return [...(this.byId.get(objectId) ?? [])];
  }

  /** The default (newest) definition of every object, by ascending id. */
  objects(): ObjectDef[] {
    return [...this.defaults.values()].sort((a, b) => a.id - b.id);
  }

  /** Every definition of every version, by id then version. */
  allVersions(): ObjectDef[] {
    return [...this.byId.keys()].sort((a, b) => a - b).flatMap((id) => this.byId.get(id) ?? []);
  }

  get size(): number {
    return this.defaults.size;
  }

  // ---- names ------------------------------------------------------------------------------------------------------

  /**
   * The name of the resource a path points at (`/3/0/0` and `/3/0/0/1` -> `Manufacturer`), or of the object for
   * `/3` and `/3/0`; undefined for the root and for unknown objects or resources.
   * @throws {InvalidPathError} for a malformed path string
   */
  resourceName(path: Lwm2mPath | string, version?: string): string | undefined {
    const p = Lwm2mPath.from(path);
    if (p.objectId === undefined) return undefined;
    const obj = this.getObject(p.objectId, version);
    if (!obj) return undefined;
    return p.resourceId === undefined ? obj.name : obj.resources[p.resourceId]?.name;
  }

  /**
   * A human label for a path: `Device` (/3), `Device` (/3/0), `Device / Manufacturer` (/3/0/0),
   * `Device / Power Source Voltage [1]` (/3/0/7/1). Instances other than 0 are shown after the object name
   * (`Temperature #2 / Sensor Value`). Unknown parts stay numeric (`Device / Resource 99`); an unknown object gives the
   * path itself (`/1234/0/5`).
   * @throws {InvalidPathError} for a malformed path string
   */
  describePath(path: Lwm2mPath | string, version?: string): string {
    const p = Lwm2mPath.from(path);
    if (p.objectId === undefined) return '/';
    const obj = this.getObject(p.objectId, version);
    if (!obj) return p.toString();
    let label = obj.name;
    if (p.instanceId !== undefined && p.instanceId !== 0) label += ` #${p.instanceId}`;
    if (p.resourceId !== undefined) label += ` / ${obj.resources[p.resourceId]?.name ?? `Resource ${p.resourceId}`}`;
    if (p.resourceInstanceId !== undefined) label += ` [${p.resourceInstanceId}]`;
    return label;
  }

  /**
   * Objects and resources matching what a user typed, for an editor's suggestions. The query is either a path prefix
   * (`/3`, `/3/0/`, `/33`, or without the leading slash `3303/0`: entries whose path starts with it, the instance
   * segment matching any number, the last segment matching as a prefix) or words
   * that must all appear in the label, ignoring case (`temp value` -> `Temperature / Sensor Value`). No query lists
   * everything. Entries come in path order (objects before their resources).
   */
  pathSuggestions(query?: string, opts: SuggestionOptions = {}): PathSuggestion[] {
    const all = this.suggestions();
    const q = (query ?? '').trim();
    const wantObjects = opts.objects !== false;
    const wantResources = opts.resources !== false;
    const limit = opts.limit !== undefined && opts.limit >= 0 ? opts.limit : Infinity;
    let match: (s: PathSuggestion) => boolean;
    if (q === '') match = () => true;
    else if (q.startsWith('/') || /^\d/.test(q)) {
      const qs = (q.startsWith('/') ? q : '/' + q).split('/');
      match = (s) => {
        const ss = s.path.split('/');
        if (qs.length > ss.length) return false;
        for (let i = 1; i < qs.length; i++) {
          // Suggestions use instance 0; a query may name any instance ("/3303/2/57" finds "/3303/0/5700").
          if (i === 2 && s.kind === 'resource') {
            if (/^\d*$/.test(qs[i])) continue;
            return false;
          }
          if (i === qs.length - 1 ? !ss[i].startsWith(qs[i]) : ss[i] !== qs[i]) return false;
        }
        return true;
      };
    } else {
      const words = q.toLowerCase().split(/\s+/);
      match = (s) => {
        const label = s.label.toLowerCase();
        return words.every((w) => label.includes(w));
      };
    }
    const out: PathSuggestion[] = [];
    for (const s of all) {
      if (out.length >= limit) break;
      if ((s.kind === 'object' ? wantObjects : wantResources) && match(s)) out.push({ ...s });
    }
    return out;
  }

  private suggestions(): PathSuggestion[] {
    if (this.suggestionsCache) return this.suggestionsCache;
    const list: PathSuggestion[] = [];
    for (const obj of this.objects()) {
      list.push({
        path: `/${obj.id}`, label: obj.name, kind: 'object', objectId: obj.id,
        multiple: obj.multiple, mandatory: obj.mandatory, version: obj.version,
      });
      const resources = Object.values(obj.resources).sort((a, b) => a.id - b.id);
      for (const r of resources) {
        const s: PathSuggestion = {
          path: `/${obj.id}/0/${r.id}`, label: `${obj.name} / ${r.name}`, kind: 'resource', objectId: obj.id,
          resourceId: r.id, type: r.type, operations: r.operations, multiple: r.multiple, mandatory: r.mandatory,
          version: obj.version,
        };
        if (r.units !== undefined) s.units = r.units;
        list.push(s);
      }
    }
    this.suggestionsCache = list;
    return list;
  }

  // ---- DDF loading ------------------------------------------------------------------------------------------------

  /** Parses a DDF document and adds its objects. Returns the definitions added. @throws {ModelError} */
  loadDdf(xml: string | Buffer, source?: string): ObjectDef[] {
    const defs = parseDdf(xml, source);
    this.addAll(defs);
    return defs;
  }

  /** Loads one DDF file (synchronously) and adds its objects. @throws {ModelError} naming the file */
  loadDdfFile(file: string): ObjectDef[] {
    const defs = loadDdfFile(file);
    this.addAll(defs);
    return defs;
  }

  async loadDdfFileAsync(file: string): Promise<ObjectDef[]> {
    const defs = await loadDdfFileAsync(file);
    this.addAll(defs);
    return defs;
  }

  /**
   * Loads every `*.xml` of a folder (synchronously) and adds the objects of the files that loaded; the result lists
   * the files that did not (see {@link loadDdfFolder}).
   */
  loadDdfFolder(dir: string, opts?: DdfFolderOptions): DdfFolderResult {
    const result = loadDdfFolder(dir, opts);
    this.addAll(result.objects);
    return result;
  }

  async loadDdfFolderAsync(dir: string, opts?: DdfFolderOptions): Promise<DdfFolderResult> {
    const result = await loadDdfFolderAsync(dir, opts);
    this.addAll(result.objects);
    return result;
  }
}
