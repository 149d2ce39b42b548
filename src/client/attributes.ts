/**
 * Notification attributes (OMA TS Core 1.1 5.1.2, 1.2 5.1.2 "Attributes"; Write-Attributes 6.3.4 in 1.1 / 6.3.5 in 1.2).
 *
 * Stored per server account and per path (object, object instance, resource and, in 1.2, resource instance). An
 * observation uses the attributes of its target path, inheriting each one not set there from the levels above
 * (resource instance -> resource -> object instance -> object), then the server account's defaults (Server object
 * resources 2 "Default Minimum Period" and 3 "Default Maximum Period").
 */
import { CoapResponseError } from '../errors';
import { Lwm2mPath } from '../model/path';
import { ResourceDef, ResourceType } from '../model/types';

export interface NotificationAttributes {
  /** Minimum Period, seconds: no notification sooner than pmin after the previous one. */
  pmin?: number;
  /** Maximum Period, seconds: a notification at least every pmax, changed or not (ignored unless pmax > pmin). */
  pmax?: number;
  /** Greater Than: notify when the value crosses this threshold (numeric resources only). */
  gt?: number;
  /** Less Than: notify when the value crosses this threshold (numeric resources only). */
  lt?: number;
  /** Step: notify when the value moved by at least st since the last notified value (numeric resources only). */
  st?: number;
  /** Minimum Evaluation Period, seconds (1.1+): conditions are not evaluated more often. */
  epmin?: number;
  /** Maximum Evaluation Period, seconds (1.1+): conditions are evaluated (the value sampled) at least this often. */
  epmax?: number;
  /** Edge (1.2, boolean resources): 1 notifies rising edges (false -> true) only, 0 falling edges only. */
  edge?: 0 | 1;
  /** Confirmable Notification (1.2): 1 sends notifications confirmable, 0 non-confirmable. */
  con?: 0 | 1;
  /** Maximum Historical Queue (1.2), accepted and stored; this client does not queue history. */
  hqmax?: number;
}

export type AttributeName = keyof NotificationAttributes;

/** What a Write-Attributes query asks: attributes to set, attributes to remove (given without a value). */
export interface AttributeChange {
  set: NotificationAttributes;
  unset: AttributeName[];
}

type Kind = 'period' | 'number' | 'flag' | 'count';
type Level = 'object' | 'instance' | 'resource' | 'resourceInstance';
interface Spec { kind: Kind; since: '1.0' | '1.1' | '1.2'; levels: readonly Level[] }

const ALL: readonly Level[] = ['object', 'instance', 'resource', 'resourceInstance'];
const RES: readonly Level[] = ['resource', 'resourceInstance'];
/** Core 1.2 Table 5.1.2-2 (attribute, type, level). Resource-instance level exists from 1.2 on. */
const SPECS: Record<AttributeName, Spec> = {
  pmin: { kind: 'period', since: '1.0', levels: ALL },
  pmax: { kind: 'period', since: '1.0', levels: ALL },
  gt: { kind: 'number', since: '1.0', levels: RES },
  lt: { kind: 'number', since: '1.0', levels: RES },
  st: { kind: 'number', since: '1.0', levels: RES },
  epmin: { kind: 'period', since: '1.1', levels: ALL },
  epmax: { kind: 'period', since: '1.1', levels: ALL },
  edge: { kind: 'flag', since: '1.2', levels: RES },
  con: { kind: 'flag', since: '1.2', levels: ALL },
  hqmax: { kind: 'count', since: '1.2', levels: ALL },
};
export const ATTRIBUTE_NAMES = Object.keys(SPECS) as AttributeName[];

const INT_RE = /^\d{1,10}$/;
const NUM_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function bad(msg: string): CoapResponseError {
  return new CoapResponseError('4.00', 'Write-Attributes', msg);
}

function versionAtLeast(v: string, min: string): boolean {
  return Number(v) >= Number(min);
}

/**
 * Parses the Uri-Query of a Write-Attributes request (`['pmin=10', 'gt=20.5', 'st']`). An attribute without a value
 * removes it (Core 1.1 5.1.2: "... an attribute without value ... is removed"). Throws CoapResponseError 4.00 for an
 * unknown attribute, a malformed value, a duplicate, or an attribute the version does not know.
 */
export function parseAttributeQuery(query: readonly string[], version = '1.2'): AttributeChange {
  const set: NotificationAttributes = {};
  const unset: AttributeName[] = [];
  const seen = new Set<string>();
  for (const q of query) {
    const eq = q.indexOf('=');
    const name = eq < 0 ? q : q.slice(0, eq);
    const raw = eq < 0 ? undefined : q.slice(eq + 1);
    if (name === 'dim' || name === 'ver' || name === 'ssid' || name === 'uri') {
      throw bad(`"${name}" is a property, not a writable attribute`);
    }
    if (!Object.prototype.hasOwnProperty.call(SPECS, name)) throw bad(`unknown attribute "${name}"`);
    const a = name as AttributeName;
    const spec = SPECS[a];
    if (!versionAtLeast(version, spec.since)) throw bad(`attribute "${a}" needs LwM2M ${spec.since}`);
    if (seen.has(a)) throw bad(`attribute "${a}" given twice`);
    seen.add(a);
    if (raw === undefined || raw === '') { unset.push(a); continue; }
    let v: number;
    switch (spec.kind) {
      case 'period':
      case 'count':
        if (!INT_RE.test(raw)) throw bad(`"${a}" must be a non-negative integer, got "${raw}"`);
        v = Number(raw);
        break;
      case 'flag':
        if (raw !== '0' && raw !== '1') throw bad(`"${a}" must be 0 or 1, got "${raw}"`);
        v = Number(raw);
        break;
      default:
        if (!NUM_RE.test(raw)) throw bad(`"${a}" must be a number, got "${raw}"`);
        v = Number(raw);
        if (!Number.isFinite(v)) throw bad(`"${a}" must be finite`);
        if (a === 'st' && v < 0) throw bad('"st" must not be negative');
    }
    (set as Record<string, number>)[a] = v;
  }
  return { set, unset };
}

/** Formats attributes as link-format parameters (`;pmin=10;gt=20.5`), in a stable order. */
export function formatAttributes(a: NotificationAttributes | undefined): string {
  if (a === undefined) return '';
  let s = '';
  for (const n of ATTRIBUTE_NAMES) {
    const v = a[n];
    if (v !== undefined) s += `;${n}=${v}`;
  }
  return s;
}

export function isNumericType(t: ResourceType | undefined): boolean {
  return t === 'integer' || t === 'unsigned' || t === 'float';
}

function isEmpty(a: NotificationAttributes): boolean {
  for (const k in a) if ((a as Record<string, unknown>)[k] !== undefined) return false;
  return true;
}

/**
 * Checks one level's resulting attribute set (Core 1.1 5.1.2): lt < gt and lt + 2*st < gt when both thresholds are
 * set; epmin <= epmax. A pmax below pmin is not an error: it is ignored when the observation runs (see
 * {@link effectivePeriods}), since the two may come from different levels.
 */
export function validateAttributes(a: NotificationAttributes): void {
  if (a.lt !== undefined && a.gt !== undefined) {
    if (!(a.lt < a.gt)) throw bad(`"lt" (${a.lt}) must be less than "gt" (${a.gt})`);
    if (a.st !== undefined && !(a.lt + 2 * a.st < a.gt)) {
      throw bad(`"lt" + 2 * "st" (${a.lt} + 2 * ${a.st}) must be less than "gt" (${a.gt})`);
    }
  }
  if (a.epmin !== undefined && a.epmax !== undefined && a.epmax > 0 && a.epmin > a.epmax) {
    throw bad(`"epmin" (${a.epmin}) must not exceed "epmax" (${a.epmax})`);
  }
}

/**
 * Attributes of one server account, per path. Small: a map from path string to the attributes written there.
 */
export class AttributeStore {
  private readonly byPath = new Map<string, NotificationAttributes>();

  /**
   * Applies a Write-Attributes at `path` (object level or deeper). `def` is the resource's definition (for resource
   * and resource-instance paths; undefined for an unknown resource). Throws CoapResponseError 4.00 when an attribute does
   * not belong at this level or to this resource's type, or the result is inconsistent; nothing changes then.
   */
  write(path: Lwm2mPath, change: AttributeChange, def?: ResourceDef, version = '1.2'): void {
    const level = path.level;
    if (level === 'root') throw bad('attributes cannot be written on the root path');
    if (level === 'resourceInstance' && !versionAtLeast(version, '1.2')) {
      throw bad('attributes on a resource instance need LwM2M 1.2');
    }
    for (const name of Object.keys(change.set) as AttributeName[]) {
      const spec = SPECS[name];
      if (!spec.levels.includes(level as Level)) throw bad(`"${name}" cannot be attached to an ${level} (${path})`);
      if (spec.kind === 'number' && def !== undefined && !isNumericType(def.type)) {
        throw bad(`"${name}" applies to numeric resources only; ${path} is ${def.type}`);
      }
      if (name === 'edge' && def !== undefined && def.type !== 'boolean') {
        throw bad(`"edge" applies to boolean resources only; ${path} is ${def.type}`);
      }
    }
    const key = path.toString();
    const next: NotificationAttributes = { ...this.byPath.get(key), ...change.set };
    for (const n of change.unset) delete next[n];
    validateAttributes(next);
    if (isEmpty(next)) this.byPath.delete(key); else this.byPath.set(key, next);
  }

  /** Attributes written at exactly this path. */
  get(path: Lwm2mPath | string): NotificationAttributes | undefined {
    return this.byPath.get(typeof path === 'string' ? path : path.toString());
  }

  /**
   * The attributes in force for an observation of `path`: each attribute from the deepest level that sets it, then
   * the account defaults for pmin/pmax.
   */
  effective(path: Lwm2mPath, defaults?: { pmin?: number; pmax?: number }): NotificationAttributes {
    const out: NotificationAttributes = {};
    let p = path;
    while (!p.isRoot()) {
      const a = this.byPath.get(p.toString());
      if (a !== undefined) {
        for (const n of ATTRIBUTE_NAMES) {
          if (out[n] === undefined && a[n] !== undefined) (out as Record<string, number>)[n] = a[n]!;
        }
      }
      p = p.parent();
    }
    if (out.pmin === undefined && defaults?.pmin !== undefined) out.pmin = defaults.pmin;
    if (out.pmax === undefined && defaults?.pmax !== undefined) out.pmax = defaults.pmax;
    return out;
  }

  /** Removes the attributes at `path` and below (an instance or resource was deleted). */
  removeUnder(path: Lwm2mPath): void {
    const prefix = path.toString();
    for (const k of this.byPath.keys()) {
      if (k === prefix || k.startsWith(prefix + '/')) this.byPath.delete(k);
    }
  }

  clear(): void { this.byPath.clear(); }
  get size(): number { return this.byPath.size; }
}

/** True when attributes hold a change-value condition (gt, lt, st or edge). */
export function hasValueConditions(a: NotificationAttributes): boolean {
  return a.gt !== undefined || a.lt !== undefined || a.st !== undefined || a.edge !== undefined;
}

/**
 * Change-value conditions (Core 1.1 5.1.2; "crosses" as in 1.1 for gt and lt, in either direction as Wakaama does):
 * true when `value` differs from `last` (the last notified value) in a way the attributes ask to report. Without any
 * condition, any change counts. Several conditions combine with OR: each one is a reason to notify.
 */
export function valueConditionMet(a: NotificationAttributes, last: unknown, value: unknown): boolean {
  if (last === undefined) return true;
  if (typeof value === 'boolean' && typeof last === 'boolean') {
    if (a.edge === undefined) return value !== last;
    return a.edge === 1 ? !last && value : last && !value;
  }
  const v = toNumber(value);
  const l = toNumber(last);
  if (v === undefined || l === undefined) return !sameValue(last, value);
  if (a.gt === undefined && a.lt === undefined && a.st === undefined) return v !== l;
  if (a.gt !== undefined && (l > a.gt) !== (v > a.gt)) return true;
  if (a.lt !== undefined && (l < a.lt) !== (v < a.lt)) return true;
  if (a.st !== undefined && Math.abs(v - l) >= a.st) return true;
  return false;
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

/** Value equality for stored resource values (Buffers by content, Dates by time, object links by ids). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') {
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Buffer.isBuffer(a)) return Buffer.isBuffer(b) && a.equals(b);
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !sameValue(v, b.get(k))) return false;
    return true;
  }
  const x = a as { objectId?: number; instanceId?: number };
  const y = b as { objectId?: number; instanceId?: number };
  return x.objectId === y.objectId && x.instanceId === y.instanceId && x.objectId !== undefined;
}

/**
 * The periods an observation runs with, in ms: pmin (0 when unset), pmax (undefined when unset, 0, or below pmin: Core
 * 1.1 5.1.2 wants pmax greater than pmin), epmin/epmax likewise.
 */
export function effectivePeriods(a: NotificationAttributes): { pminMs: number; pmaxMs?: number; epminMs: number; epmaxMs?: number } {
  const pminMs = (a.pmin ?? 0) * 1000;
  const pmaxMs = a.pmax !== undefined && a.pmax > 0 && a.pmax * 1000 >= pminMs ? a.pmax * 1000 : undefined;
  const epminMs = (a.epmin ?? 0) * 1000;
  const epmaxMs = a.epmax !== undefined && a.epmax > 0 && a.epmax * 1000 >= epminMs ? a.epmax * 1000 : undefined;
  return { pminMs, pmaxMs, epminMs, epmaxMs };
}
