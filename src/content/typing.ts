/**
 * Value typing shared by every content format: which model type a path has, how a JS value becomes an
 * {@link Lwm2mValue} of that type before encoding, and how a format's native decoded value becomes the model's value.
 *
 * Conventions (values.ts): Integer / Unsigned Integer as number, bigint beyond 2^53-1; Float as number; Boolean;
 * String and Corelnk as string; Opaque as Buffer; Time as Date; Objlnk as `{objectId, instanceId}`.
 * Resource data types: OMA TS Core 1.1 / 1.2 Appendix C.
 */
import { DecodeError, EncodeError } from '../errors';
import { Lwm2mPath, MAX_ID } from '../model/path';
import { ObjectRegistry, ResourceDef, ResourceType } from '../model/types';
import { isObjectLink, Lwm2mValue, ObjectLink } from './values';

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
/** Largest |seconds| a JS Date can hold (ECMA-262 21.4.1.1: +/- 8.64e15 ms). */
export const MAX_DATE_SECONDS = 8.64e12;

/** The resource definition for a resource or resource-instance path, when the registry knows it. */
export function resourceDefOf(registry: ObjectRegistry | undefined, path: Lwm2mPath): ResourceDef | undefined {
  const o = path.objectId;
  const r = path.resourceId;
  if (registry === undefined || o === undefined || r === undefined) return undefined;
  return registry.getResource(o, r);
}

/** The model type of a resource or resource-instance path, or undefined (unknown object/resource, or a shorter path). */
export function resourceTypeOf(registry: ObjectRegistry | undefined, path: Lwm2mPath): ResourceType | undefined {
  return resourceDefOf(registry, path)?.type;
}

/** True when the model says the resource at `path` (3 or 4 segments) is multiple-instance; false when unknown. */
export function isMultipleResource(registry: ObjectRegistry | undefined, path: Lwm2mPath): boolean {
  return resourceDefOf(registry, path)?.multiple === true;
}

/** Integer handling: number when |v| <= 2^53-1, bigint beyond. Non-integer numbers are returned unchanged. */
export function normalizeInteger(v: bigint | number): number | bigint {
  if (typeof v === 'number') return v;
  return v >= SAFE_MIN && v <= SAFE_MAX ? Number(v) : v;
}

/** Converts an integer number/bigint to bigint; undefined when it is not an integer. */
export function toBigInt(v: number | bigint): bigint | undefined {
  if (typeof v === 'bigint') return v;
  return Number.isInteger(v) ? BigInt(v) : undefined;
}

/** Parses `"3:0"` (Objlnk text form, OMA TS Core Appendix C) into an object link; undefined when malformed. */
export function parseObjectLink(s: string): ObjectLink | undefined {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(s);
  if (m === null) return undefined;
  const objectId = Number(m[1]);
  const instanceId = Number(m[2]);
  if (objectId > MAX_ID || instanceId > MAX_ID) return undefined;
  return { objectId, instanceId };
}

/** `{objectId: 3, instanceId: 0}` -> `"3:0"`. */
export function formatObjectLink(l: ObjectLink): string {
  return `${l.objectId}:${l.instanceId}`;
}

/** True when both ids are 16-bit unsigned integers (65535:65535 is the "null" link of Core Appendix C). */
export function isValidObjectLink(l: ObjectLink): boolean {
  return Number.isInteger(l.objectId) && Number.isInteger(l.instanceId)
    && l.objectId >= 0 && l.objectId <= MAX_ID && l.instanceId >= 0 && l.instanceId <= MAX_ID;
}

/** Seconds since the epoch of a Date (floored; LwM2M Time is an integer number of seconds, Core Appendix C). */
export function dateToSeconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

/** A Date from seconds since the epoch; undefined when not finite or outside the range a Date can hold. */
export function secondsToDate(s: number | bigint): Date | undefined {
  const n = typeof s === 'bigint' ? (s > 10n ** 13n || s < -(10n ** 13n) ? NaN : Number(s)) : s;
  if (!Number.isFinite(n) || Math.abs(n) > MAX_DATE_SECONDS) return undefined;
  return new Date(n * 1000);
}

/** True when `n` survives a round trip through an IEEE 754 binary32 (NaN and infinities included). */
export function isFloat32(n: number): boolean {
  return Number.isNaN(n) || Math.fround(n) === n;
}

/** True for a value of the Lwm2mValue union. */
export function isLwm2mValue(v: unknown): v is Lwm2mValue {
  switch (typeof v) {
    case 'string': case 'number': case 'bigint': case 'boolean': return true;
    case 'object': return Buffer.isBuffer(v) || (v instanceof Date && !Number.isNaN(v.getTime()))
      || (isObjectLink(v) && isValidObjectLink(v));
    default: return false;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Buffer.isBuffer(v)) return `Buffer(${v.length})`;
  if (v instanceof Date) return `Date(${Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString()})`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'object') return Array.isArray(v) ? 'array' : 'object';
  return `${typeof v} ${String(v)}`;
}

const INT_RE = /^[+-]?\d{1,40}$/;

/** Parses a decimal integer string into number/bigint; undefined when not an integer. */
export function parseIntegerText(s: string): number | bigint | undefined {
  const t = s.trim();
  if (!INT_RE.test(t)) return undefined;
  return normalizeInteger(BigInt(t));
}

/** Buffer from Buffer / Uint8Array / `Buffer.toJSON()` output; undefined otherwise. */
function toBuffer(v: unknown): Buffer | undefined {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer'
    && Array.isArray((v as { data?: unknown }).data)) {
    const data = (v as { data: unknown[] }).data;
    if (data.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b <= 255)) {
      return Buffer.from(data as number[]);
    }
  }
  return undefined;
}

/**
 * Checks/converts a JS value for a resource type before encoding (number -> bigint where needed is left to the
 * format; "3:1" -> ObjectLink, ISO string or number of seconds -> Date for time, "0"/"1"/"true"/"false" -> boolean,
 * numeric strings -> numbers, Uint8Array -> Buffer). With no type (unknown resource), any Lwm2mValue passes unchanged.
 * Throws EncodeError(format, reason naming path and type).
 */
export function toModelValue(value: unknown, type: ResourceType | undefined, format: number, path: Lwm2mPath): Lwm2mValue {
  const fail = (why?: string): never => {
    throw new EncodeError(format, `${path}: ${describe(value)} is not a valid ${type ?? 'value'}${why ? ` (${why})` : ''}`);
  };
  switch (type) {
    case undefined: {
      if (isLwm2mValue(value)) return value;
      const b = toBuffer(value);
      if (b !== undefined) return b;
      if (isObjectLink(value)) return fail('object link ids must be 0..65535');
      if (value instanceof Date) return fail('invalid date');
      return fail();
    }
    case 'string':
    case 'corelnk':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
      return fail();
    case 'integer':
    case 'unsigned': {
      let v: number | bigint | undefined;
      if (typeof value === 'number') {
        if (!Number.isInteger(value)) return fail('not an integer');
        v = Number.isSafeInteger(value) ? value : BigInt(value);
      } else if (typeof value === 'bigint') v = value;
      else if (typeof value === 'string') v = parseIntegerText(value);
      if (v === undefined) return fail();
      const b = typeof v === 'bigint' ? v : BigInt(v);
      if (type === 'integer' && (b < INT64_MIN || b > INT64_MAX)) return fail('outside the signed 64-bit range');
      if (type === 'unsigned' && (b < 0n || b > UINT64_MAX)) return fail('outside the unsigned 64-bit range');
      return normalizeInteger(v);
    }
    case 'float': {
      if (typeof value === 'number') return value;
      if (typeof value === 'bigint') return Number(value);
      if (typeof value === 'string' && value.trim() !== '') {
        const n = Number(value);
        if (!Number.isNaN(n) || value.trim() === 'NaN') return n;
      }
      return fail();
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 0 || value === 1) return value === 1;
      if (typeof value === 'string') {
        const s = value.trim().toLowerCase();
        if (s === 'true' || s === '1') return true;
        if (s === 'false' || s === '0') return false;
      }
      return fail();
    case 'opaque': {
      const b = toBuffer(value);
      if (b !== undefined) return b;
      if (typeof value === 'string') return Buffer.from(value, 'utf8');
      return fail('expected a Buffer');
    }
    case 'time': {
      let d: Date | undefined;
      if (value instanceof Date) d = Number.isNaN(value.getTime()) ? undefined : value;
      else if (typeof value === 'number' || typeof value === 'bigint') {
        if (typeof value === 'number' && !Number.isInteger(value)) d = secondsToDate(Math.floor(value));
        else d = secondsToDate(value);
      } else if (typeof value === 'string') {
        const i = parseIntegerText(value);
        if (i !== undefined) d = secondsToDate(i);
        else if (/^\d{4}-\d{2}-\d{2}/.test(value.trim())) {
          const ms = Date.parse(value);
          d = Number.isNaN(ms) ? undefined : new Date(ms);
        }
      }
      return d ?? fail('expected a Date, seconds since the epoch or an ISO 8601 string');
    }
    case 'objlnk': {
      if (isObjectLink(value)) {
        const l = { objectId: value.objectId, instanceId: value.instanceId };
        return isValidObjectLink(l) ? l : fail('ids must be 0..65535');
      }
      if (typeof value === 'string') return parseObjectLink(value.trim()) ?? fail('expected "objectId:instanceId"');
      return fail();
    }
    case 'none':
      return fail('executable resources carry no value');
    default:
      return fail('unknown resource type');
  }
}

/**
 * Converts a value as a format decoded it natively (JSON/CBOR number, string, boolean, bytes) into the model's value for
 * `type`, e.g. seconds -> Date for Time, `"3:0"` -> ObjectLink, an integral float -> integer. With no type the value
 * is returned as is. Throws DecodeError(format, reason naming path and type) when the value does not fit the type.
 */
export function decodedToModel(value: Lwm2mValue, type: ResourceType | undefined, format: number, path: Lwm2mPath): Lwm2mValue {
  const fail = (why?: string): never => {
    throw new DecodeError(format, `${path}: ${describe(value)} is not a valid ${type}${why ? ` (${why})` : ''}`);
  };
  switch (type) {
    case undefined: return value;
    case 'string':
    case 'corelnk':
      return typeof value === 'string' ? value : fail();
    case 'integer':
    case 'unsigned': {
      // The usual case: a safe integer is within both 64-bit ranges except below 0 for unsigned (-0 reads as 0).
      if (typeof value === 'number' && Number.isSafeInteger(value) && (value >= 0 || type === 'integer')) return value === 0 ? 0 : value;
      let b: bigint | undefined;
      if (typeof value === 'bigint') b = value;
      else if (typeof value === 'number' && Number.isInteger(value)) b = BigInt(value);
      if (b === undefined) return fail();
      if (type === 'integer' && (b < INT64_MIN || b > INT64_MAX)) return fail('outside the signed 64-bit range');
      if (type === 'unsigned' && (b < 0n || b > UINT64_MAX)) return fail('outside the unsigned 64-bit range');
      return normalizeInteger(b);
    }
    case 'float':
      if (typeof value === 'number') return value;
      if (typeof value === 'bigint') return Number(value);
      return fail();
    case 'boolean':
      return typeof value === 'boolean' ? value : fail();
    case 'opaque':
      return Buffer.isBuffer(value) ? value : fail();
    case 'time': {
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? fail('invalid date') : value;
      if (typeof value === 'number' || typeof value === 'bigint') {
        return secondsToDate(typeof value === 'number' ? Math.floor(value) : value) ?? fail('out of range');
      }
      return fail();
    }
    case 'objlnk': {
      if (typeof value === 'string') return parseObjectLink(value) ?? fail('expected "objectId:instanceId"');
      if (isObjectLink(value) && isValidObjectLink(value)) return value;
      return fail();
    }
    case 'none':
      return fail('executable resources carry no value');
    default:
      return fail('unknown resource type');
  }
}
