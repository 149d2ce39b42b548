/**
 * Values between the library and the editor: every {@link Lwm2mValue} as JSON the sidebar can show (Buffers, Dates,
 * bigints and object links do not survive JSON.stringify as themselves), and the text a user typed in a Write form as the
 * value of the resource's type (OMA TS Core 1.1 / 1.2 Appendix C "Data Types").
 */
import { Lwm2mValue, isObjectLink } from '../../src/content/values';
import { Lwm2mRecord } from '../../src/content/values';
import { ResourceType } from '../../src/model/types';
import { SidebarInputError } from './errors';

/**
 * A value as sent to the editor: strings, finite numbers and booleans as themselves; the other types tagged, with a
 * text the editor shows as is. Opaque values are cut to {@link MAX_OPAQUE_SHOWN} bytes (`n` is the full length).
 */
export type WireValue =
  | string
  | number
  | boolean
  | { t: 'opaque'; v: string; n: number }
  | { t: 'time'; v: string; s: number }
  | { t: 'objlnk'; v: string }
  | { t: 'int'; v: string }
  | { t: 'float'; v: string };

/** Bytes of an opaque value sent to the editor (as hex). */
export const MAX_OPAQUE_SHOWN = 512;
/** Characters of a string value sent to the editor. */
export const MAX_STRING_SHOWN = 4096;
/** Longest text accepted from a Write form. */
export const MAX_INPUT_LENGTH = 65536;

export function toWire(v: Lwm2mValue | undefined): WireValue | null {
  if (v === undefined || v === null) return null;
  switch (typeof v) {
    case 'string':
      return v.length > MAX_STRING_SHOWN ? v.slice(0, MAX_STRING_SHOWN) + '…' : v;
    case 'number':
      return Number.isFinite(v) ? v : { t: 'float', v: String(v) };
    case 'boolean':
      return v;
    case 'bigint':
      return { t: 'int', v: v.toString() };
    default:
      break;
  }
  if (Buffer.isBuffer(v)) {
    return { t: 'opaque', v: v.subarray(0, MAX_OPAQUE_SHOWN).toString('hex'), n: v.length };
  }
  if (v instanceof Date) {
    const ms = v.getTime();
    return { t: 'time', v: Number.isFinite(ms) ? v.toISOString() : 'Invalid Date', s: Math.floor(ms / 1000) };
  }
  if (isObjectLink(v)) return { t: 'objlnk', v: `${v.objectId}:${v.instanceId}` };
  return String(v);
}

/** `{ '/3/0/0': 'Fleetwire', '/3/0/7/1': 3800 }` from decoded records (records without a value are skipped). */
export function recordsToWire(records: readonly Lwm2mRecord[], max = 2000): Record<string, WireValue | null> {
  const out: Record<string, WireValue | null> = {};
  let n = 0;
  for (const r of records) {
    if (r.value === undefined) continue;
    if (++n > max) break;
    out[r.path.toString()] = toWire(r.value);
  }
  return out;
}

/** A short one-line text of a value, for the traffic log. */
export function shortText(v: unknown, max = 120): string {
  let s: string;
  if (v === undefined) s = '';
  else if (typeof v === 'string') s = JSON.stringify(v);
  else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') s = String(v);
  else if (Buffer.isBuffer(v)) s = `0x${v.subarray(0, 32).toString('hex')}${v.length > 32 ? '…' : ''} (${v.length} bytes)`;
  else if (v instanceof Date) s = Number.isFinite(v.getTime()) ? v.toISOString() : 'Invalid Date';
  else if (isObjectLink(v)) s = `${v.objectId}:${v.instanceId}`;
  else {
    try {
      s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

const INT_RE = /^[+-]?\d{1,20}$/;
const UINT_RE = /^\+?\d{1,20}$/;
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function integer(text: string, min: bigint, max: bigint, what: string, label: string): number | bigint {
  const b = BigInt(text.replace(/^\+/, ''));
  if (b < min || b > max) throw new SidebarInputError(`${what}: ${text} is out of range for ${label} (${min} to ${max})`);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/**
 * The value of a resource of type `type` from the text a user typed (`what` names the resource in error messages).
 * - Integer: decimal, 64-bit signed; Unsigned Integer: 64-bit unsigned (number, bigint beyond 2^53).
 * - Float: a decimal number; Boolean: true/false/1/0.
 * - Opaque: hexadecimal (spaces and a 0x prefix allowed).
 * - Time: seconds since 1970 or an ISO 8601 date; Objlnk: `O:I`.
 * - String and Corelnk: the text itself.
 * @throws {SidebarInputError} when the text is not a value of that type
 */
export function parseInput(type: ResourceType, text: unknown, what: string): Lwm2mValue {
  if (typeof text !== 'string') {
    if (typeof text === 'number' || typeof text === 'boolean') text = String(text);
    else throw new SidebarInputError(`${what}: the value must be text`);
  }
  const raw = text as string;
  if (raw.length > MAX_INPUT_LENGTH) throw new SidebarInputError(`${what}: value longer than ${MAX_INPUT_LENGTH} characters`);
  const t = raw.trim();
  switch (type) {
    case 'string':
    case 'corelnk':
      return raw;
    case 'integer':
      if (!INT_RE.test(t)) throw new SidebarInputError(`${what}: "${t.slice(0, 40)}" is not an integer`);
      return integer(t, INT64_MIN, INT64_MAX, what, 'an Integer');
    case 'unsigned':
      if (!UINT_RE.test(t)) throw new SidebarInputError(`${what}: "${t.slice(0, 40)}" is not an unsigned integer`);
      return integer(t, 0n, UINT64_MAX, what, 'an Unsigned Integer');
    case 'float': {
      if (!FLOAT_RE.test(t)) throw new SidebarInputError(`${what}: "${t.slice(0, 40)}" is not a number`);
      const n = Number(t);
      if (!Number.isFinite(n)) throw new SidebarInputError(`${what}: ${t.slice(0, 40)} is out of range for a Float`);
      return n;
    }
    case 'boolean': {
      const l = t.toLowerCase();
      if (l === 'true' || l === '1') return true;
      if (l === 'false' || l === '0') return false;
      throw new SidebarInputError(`${what}: "${t.slice(0, 40)}" is not a boolean (true or false)`);
    }
    case 'opaque': {
      const hex = t.replace(/^0x/i, '').replace(/[\s:]/g, '');
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new SidebarInputError(`${what}: opaque values are written in hexadecimal, e.g. 0a1b2c`);
      return Buffer.from(hex, 'hex');
    }
    case 'time': {
      if (/^[+-]?\d{1,13}$/.test(t)) return new Date(Number(t) * 1000);
      const ms = Date.parse(t);
      if (!/^\d{4}-\d{2}-\d{2}/.test(t) || !Number.isFinite(ms)) {
        throw new SidebarInputError(`${what}: "${t.slice(0, 40)}" is not a time (seconds since 1970 or an ISO date such as 2024-05-01T12:00:00Z)`);
      }
      return new Date(ms);
    }
    case 'objlnk': {
      const m = /^(\d{1,5}):(\d{1,5})$/.exec(t);
      if (!m || Number(m[1]) > 65535 || Number(m[2]) > 65535) {
        throw new SidebarInputError(`${what}: "${t.slice(0, 40)}" is not an object link (objectId:instanceId, e.g. 3:0)`);
      }
      return { objectId: Number(m[1]), instanceId: Number(m[2]) };
    }
    case 'none':
      throw new SidebarInputError(`${what}: an executable resource has no value to write`);
    default:
      throw new SidebarInputError(`${what}: unknown resource type "${String(type)}"`);
  }
}

export const RESOURCE_TYPES: readonly ResourceType[] = ['string', 'integer', 'unsigned', 'float', 'boolean', 'opaque', 'time', 'objlnk', 'corelnk'];
