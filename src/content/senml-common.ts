/**
 * What SenML JSON (110) and SenML CBOR (112) share: the SenML data model as LwM2M uses it (OMA TS Core 1.1 / 1.2
 * 7.4.4 SenML CBOR, 7.4.5 SenML JSON; RFC 8428), base-field resolution on decode and base-name choice on encode.
 *
 * LwM2M mapping (Core Appendix C.2): Integer, Unsigned Integer, Float and Time -> `v` (Time in seconds), String and
 * Corelnk -> `vs`, Boolean -> `vb`, Opaque -> `vd` (base64url in JSON, a byte string in CBOR), Objlnk -> `vlo`
 * ("O:I", the same text label in CBOR). Names are LwM2M paths: `bn` + `n`, e.g. `/3/0/` + `6/1`.
 */
import { DecodeError, EncodeError, InvalidPathError } from '../errors';
import { Lwm2mPath } from '../model/path';
import { ResourceType } from '../model/types';
import { CodecOptions, skipUndecoded } from './codec';
import {
  dateToSeconds, decodedToModel, formatObjectLink, parseObjectLink, resourceTypeOf, toModelValue,
} from './typing';
import { isObjectLink, Lwm2mRecord, Lwm2mValue } from './values';

/** One SenML record as read from the wire, fields already type-checked, nothing resolved yet. */
export interface SenmlRaw {
  bn?: string;
  bt?: number;
  bv?: number | bigint;
  n?: string;
  t?: number;
  v?: number | bigint;
  vs?: string;
  vb?: boolean;
  vd?: Buffer;
  vlo?: string;
}

/** RFC 8428 4.5.3: times below 2^28 are relative to "now". */
export const RELATIVE_TIME_LIMIT = 2 ** 28;

/** Seconds since the epoch, now. */
export function nowSeconds(): number {
  return Date.now() / 1000;
}

function addNumbers(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a + b;
  const big = (typeof a === 'bigint' ? a : b) as bigint;
  const other = (typeof a === 'bigint' ? b : a) as number;
  return Number.isInteger(other) ? big + BigInt(other) : Number(big) + other;
}

const PATH_CACHE_MAX = 8192;
const pathCache = new Map<string, Lwm2mPath>();

/**
 * `Lwm2mPath.parse` with a bounded cache (paths are immutable; the same few hundred names recur across a fleet's
 * payloads, and parsing is the largest cost of decoding a record). Throws InvalidPathError like parse.
 */
export function parsePathCached(p: string): Lwm2mPath {
  let path = pathCache.get(p);
  if (path === undefined) {
    path = Lwm2mPath.parse(p);
    if (pathCache.size >= PATH_CACHE_MAX) pathCache.clear();
    pathCache.set(p, path);
  }
  return path;
}

/** A record name as a path (DecodeError when it is not one). */
export function nameToPath(name: string, format: number, what = 'record name'): Lwm2mPath {
  // LwM2M names are absolute paths; be lenient with a missing leading slash ("3303/0/5700", seen in the field).
  const p = name.charCodeAt(0) === 0x2f ? name : '/' + name;
  try {
    return parsePathCached(p);
  } catch (e) {
    if (e instanceof InvalidPathError) throw new DecodeError(format, `${what} "${name}" is not an LwM2M path`, { cause: e });
    throw e;
  }
}

/**
 * Resolves base fields (RFC 8428 4.6: bn/bt/bv apply to this record and the following ones until redefined), turns
 * names into paths and wire values into model values. A record with no value field is a path-only record (the
 * request of Read-Composite / Observe-Composite). `time` is absent unless the pack carries bt or t.
 */
export function resolveSenml(raws: readonly SenmlRaw[], format: number, opts: CodecOptions, now = nowSeconds()): Lwm2mRecord[] {
  let bn = '';
  let bt: number | undefined;
  let bv: number | bigint | undefined;
  const out: Lwm2mRecord[] = [];
  const base = opts.path;
  for (let i = 0; i < raws.length; i++) {
    const r = raws[i];
    if (r.bn !== undefined) bn = r.bn;
    if (r.bt !== undefined) bt = r.bt;
    if (r.bv !== undefined) bv = r.bv;
    const name = bn + (r.n ?? '');
    if (name === '') throw new DecodeError(format, `record ${i} has no name (neither bn nor n)`);
    const path = nameToPath(name, format);
    if (base !== undefined && !base.contains(path)) {
      throw new DecodeError(format, `record ${path} lies outside the requested path ${base}`);
    }

    let time: number | undefined;
    if (bt !== undefined || r.t !== undefined) {
      time = (bt ?? 0) + (r.t ?? 0);
      if (!Number.isFinite(time)) throw new DecodeError(format, `${path}: time is not finite`);
      if (time < RELATIVE_TIME_LIMIT) time = now + time; // RFC 8428 4.5.3
    }

    const rec: Lwm2mRecord = { path };
    try {
      const wire = wireValue(r, bv, path, format);
      if (wire !== undefined) {
        if (path.length < 3) throw new DecodeError(format, `${path}: a value needs a resource or resource instance path`);
        rec.value = decodedToModel(wire, resourceTypeOf(opts.registry, path), format, path);
      }
    } catch (e) {
      if (skipUndecoded(opts, path, e)) continue;
      throw e;
    }
    if (time !== undefined) rec.time = time;
    out.push(rec);
  }
  return out;
}

/** The one value field of a raw record (base value added), before model typing; undefined for none. */
function wireValue(r: SenmlRaw, bv: number | bigint | undefined, path: Lwm2mPath, format: number): Lwm2mValue | undefined {
  let count = 0;
  let wire: Lwm2mValue | undefined;
  if (r.v !== undefined) { count++; wire = bv !== undefined ? addNumbers(r.v, bv) : r.v; }
  if (r.vs !== undefined) { count++; wire = r.vs; }
  if (r.vb !== undefined) { count++; wire = r.vb; }
  if (r.vd !== undefined) { count++; wire = r.vd; }
  if (r.vlo !== undefined) {
    count++;
    const l = parseObjectLink(r.vlo);
    if (l === undefined) throw new DecodeError(format, `${path}: vlo "${r.vlo}" is not "objectId:instanceId"`);
    wire = l;
  }
  if (count > 1) throw new DecodeError(format, `${path}: record carries ${count} values (v, vs, vb, vd, vlo are exclusive)`);
  return wire;
}

/** The value field of one record to write. */
export type SenmlField =
  /** `float`: the resource is a Float, written as a CBOR float even when whole (SenML CBOR; JSON has one number type). */
  | { kind: 'v'; value: number | bigint; float?: boolean }
  | { kind: 'vs'; value: string }
  | { kind: 'vb'; value: boolean }
  | { kind: 'vd'; value: Buffer }
  | { kind: 'vlo'; value: string };

/** One record to write: base name (first record only), name relative to it, absolute time, value. */
export interface SenmlOut {
  bn?: string;
  n?: string;
  t?: number;
  field?: SenmlField;
}

/**
 * Maps a model value to its SenML field (Core Appendix C.2). A number of a Float resource is flagged `float`: SenML
 * CBOR writes it as a CBOR float even when it is whole (33.0), as TLV and plain CBOR do. Core 1.1 Table 7.4.4-8 shows
 * the Float Set Point Value 18 as `2: 18`, but RFC 8428 6 maps `v` to a CBOR number of either kind, and Leshan's
 * SenML CBOR decoder refuses an integer for a Float resource; decoders here accept both.
 */
export function toSenmlField(value: Lwm2mValue, type?: ResourceType): SenmlField {
  if (typeof value === 'string') return { kind: 'vs', value };
  if (typeof value === 'number' || typeof value === 'bigint') return type === 'float' ? { kind: 'v', value, float: true } : { kind: 'v', value };
  if (typeof value === 'boolean') return { kind: 'vb', value };
  if (Buffer.isBuffer(value)) return { kind: 'vd', value };
  if (value instanceof Date) return { kind: 'v', value: dateToSeconds(value) };
  if (isObjectLink(value)) return { kind: 'vlo', value: formatObjectLink(value) };
  // Unreachable for values that passed toModelValue.
  return { kind: 'vs', value: String(value) };
}

/**
 * Lays records out as SenML, LwM2M style (as Leshan does): for a request on `/3/0` the first record carries
 * `bn: "/3/0/"` and names are relative (`"0"`, `"6/1"`); a single record at the request path itself is
 * `[{bn: "/3/0/9", v: 95}]`; for composite payloads (`opts.path` is the root) every record carries its full name.
 * Times are written as absolute `t` on each timestamped record (no `bt`, so untimed records stay untimed).
 */
export function layoutSenml(records: readonly Lwm2mRecord[], format: number, opts: CodecOptions): SenmlOut[] {
  const base = opts.path ?? Lwm2mPath.ROOT;
  const out: SenmlOut[] = [];
  const composite = base.isRoot();
  const single = records.length === 1 && records[0].path.equals(base);
  const baseText = base.toString();
  const baseName = single ? baseText : baseText + '/';
  for (let i = 0; i < records.length; i++) {
    const rec = records[i];
    const path = rec.path;
    if (!(path instanceof Lwm2mPath)) throw new EncodeError(format, `record ${i} has no valid path`);
    if (!base.contains(path)) throw new EncodeError(format, `record ${path} lies outside the target path ${base}`);
    const o: SenmlOut = {};
    if (composite) {
      o.n = path.toString();
    } else {
      if (i === 0) o.bn = baseName;
      if (!single) {
        // The relative name: the path text after the base path text and its slash ("/3/0/6/1" - "/3/0" -> "6/1").
        const full = path.toString();
        if (full.length > baseText.length) o.n = full.slice(baseText.length + 1);
      }
    }
    if (rec.time !== undefined) {
      if (typeof rec.time !== 'number' || !Number.isFinite(rec.time)) {
        throw new EncodeError(format, `${path}: time must be a finite number of seconds`);
      }
      o.t = rec.time;
    }
    if (rec.value !== undefined) {
      if (path.length < 3) throw new EncodeError(format, `${path}: only resources and resource instances carry values`);
      const type = resourceTypeOf(opts.registry, path);
      o.field = toSenmlField(toModelValue(rec.value, type, format, path), type);
    }
    out.push(o);
  }
  return out;
}

/** Strict base64 / base64url (padded or not) -> bytes; undefined when malformed (RFC 4648 4 and 5). */
export function decodeBase64Loose(s: string): Buffer | undefined {
  const body = s.endsWith('==') ? s.slice(0, -2) : s.endsWith('=') ? s.slice(0, -1) : s;
  if (!/^[A-Za-z0-9+/_-]*$/.test(body) || body.length % 4 === 1) return undefined;
  if (body.length !== s.length && (body.length + (s.length - body.length)) % 4 !== 0) return undefined;
  return Buffer.from(body, 'base64');
}
