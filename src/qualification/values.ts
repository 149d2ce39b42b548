/**
 * Values for qualification: does a decoded value have the type its resource definition says (OMA TS Core Appendix C
 * data types), and which other valid value to write to a writable resource (within its DDF range), so that a write can
 * be read back and then undone.
 */
import { isObjectLink, Lwm2mValue } from '../content/values';
import { ResourceDef, ResourceType } from '../model/types';

/** Undefined when `value` is of `type`; otherwise what it is instead. */
export function typeProblem(type: ResourceType, value: unknown): string | undefined {
  const got = describeType(value);
  switch (type) {
    case 'string':
    case 'corelnk':
      return typeof value === 'string' ? undefined : `expected ${type}, got ${got}`;
    case 'integer':
      return (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint' ? undefined : `expected integer, got ${got}`;
    case 'unsigned':
      return ((typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint') && value >= 0 ? undefined : `expected unsigned integer, got ${got}`;
    case 'float':
      return typeof value === 'number' ? undefined : `expected float, got ${got}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `expected boolean, got ${got}`;
    case 'opaque':
      return Buffer.isBuffer(value) ? undefined : `expected opaque, got ${got}`;
    case 'time':
      return value instanceof Date && !Number.isNaN(value.getTime()) ? undefined : `expected time, got ${got}`;
    case 'objlnk':
      return isObjectLink(value) ? undefined : `expected objlnk, got ${got}`;
    default:
      return undefined;
  }
}

function describeType(v: unknown): string {
  if (Buffer.isBuffer(v)) return 'opaque';
  if (v instanceof Date) return 'time';
  if (isObjectLink(v)) return 'objlnk';
  if (typeof v === 'number') return Number.isInteger(v) ? `integer ${v}` : `float ${v}`;
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return typeof v;
}

/** `0..100`, `1-255`, `-5..5` -> [min, max]; undefined when the range is not numeric. */
export function numericRange(range: string | undefined): [number, number] | undefined {
  if (!range) return undefined;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(?:\.\.|-)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(range);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a <= b ? [a, b] : undefined;
}

/** Well-known writable resources whose text has a format of its own: two valid values to alternate between. */
const KNOWN_ALTERNATES: Record<string, [string, string]> = {
  // Device object: UTC Offset (ISO 8601 offset) and Timezone (IANA name), OMA TS Core Appendix E.4.
  '3/14': ['+01:00', '+02:00'],
  '3/15': ['Europe/Paris', 'UTC'],
};

/**
 * Another valid value of the resource's type, different from `current` and inside its range; undefined when we cannot
 * pick one safely (an enumeration of strings, an object link, an unknown type).
 */
export function alternateValue(objectId: number, def: ResourceDef, current: Lwm2mValue | undefined): Lwm2mValue | undefined {
  const known = KNOWN_ALTERNATES[`${objectId}/${def.id}`];
  if (known) return current === known[0] ? known[1] : known[0];
  const range = numericRange(def.range);
  switch (def.type) {
    case 'integer':
    case 'unsigned': {
      const cur = typeof current === 'bigint' ? Number(current) : typeof current === 'number' ? current : undefined;
      const lo = range ? range[0] : def.type === 'unsigned' ? 0 : -2147483648;
      const hi = range ? range[1] : 2147483647;
      if (cur === undefined) return Math.max(lo, Math.min(hi, 1));
      if (cur + 1 <= hi && cur + 1 >= lo) return cur + 1;
      if (cur - 1 >= lo && cur - 1 <= hi) return cur - 1;
      return undefined;
    }
    case 'float': {
      const cur = typeof current === 'number' ? current : 0;
      const lo = range ? range[0] : -1e9;
      const hi = range ? range[1] : 1e9;
      for (const c of [cur + 1, cur - 1, (lo + hi) / 2, lo]) if (c >= lo && c <= hi && c !== cur) return c;
      return undefined;
    }
    case 'boolean':
      return typeof current === 'boolean' ? !current : true;
    case 'string':
      // A range on a string resource is an enumeration or a length we cannot honour blindly.
      if (def.range) return undefined;
      return typeof current === 'string' && current.endsWith('-q') ? current.slice(0, -2) : `${typeof current === 'string' ? current : ''}-q`;
    case 'opaque':
      return Buffer.isBuffer(current) && current.length === 1 && current[0] === 0x5a ? Buffer.from([0xa5]) : Buffer.from([0x5a]);
    case 'time': {
      const cur = current instanceof Date ? current.getTime() : Date.now();
      // Whole seconds: Time is carried as integer seconds since the epoch.
      return new Date(Math.floor(cur / 1000) * 1000 + 3600_000);
    }
    default:
      return undefined;
  }
}

/** True when a value read back equals the one written (Time within `timeSlackMs`: device clocks run on). */
export function sameValue(type: ResourceType, written: Lwm2mValue, read: unknown, timeSlackMs = 15_000): boolean {
  if (type === 'time') return read instanceof Date && written instanceof Date && Math.abs(read.getTime() - written.getTime()) <= timeSlackMs;
  if (type === 'float' && typeof read === 'number' && typeof written === 'number') {
    return Math.abs(read - written) <= Math.max(1e-6, Math.abs(written) * 1e-6);
  }
  if (Buffer.isBuffer(written)) return Buffer.isBuffer(read) && written.equals(read);
  if (typeof written === 'bigint' || typeof read === 'bigint') return String(written) === String(read);
  return written === read;
}

/** A value as short text for evidence. */
export function showValue(v: unknown, max = 200): string {
  let s: string;
  try {
    s = JSON.stringify(v, (_k, x: unknown) => {
      if (typeof x === 'bigint') return x.toString();
      if (x && typeof x === 'object' && (x as { type?: string }).type === 'Buffer' && Array.isArray((x as { data?: unknown }).data)) {
        return 'hex:' + Buffer.from((x as { data: number[] }).data).toString('hex');
      }
      return x;
    }) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}
