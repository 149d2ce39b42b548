/**
 * LwM2M JSON, content format 11543 (application/vnd.oma.lwm2m+json), and its pre-registration number 1543:
 * OMA TS LightweightM2M 1.0.2 section 6.4.4 (kept as a legacy format in Core 1.1 / 1.2 7.4.7).
 *
 * `{"bn":"/3/0/","bt":25462634,"e":[{"n":"0","sv":"Open Mobile Alliance"},{"n":"6/0","v":1},{"n":"9","v":95,"t":-5}]}`
 *
 * Root fields: `bn` base name (prepended to each entry's `n`), `bt` base time (added to each entry's `t`), `e` the
 * entries. Entry fields: `n` name, `t` time, and one value: `v` (Integer, Float, Time as seconds), `bv` (Boolean),
 * `ov` (Objlnk, "O:I"), `sv` (String; Opaque as base64). As with SenML, resolved times below 2^28 are relative to
 * now (the 1.0 examples use `"t":-5`). Base names without a leading slash ("1024/0/") are accepted.
 */
import { DecodeError } from '../errors';
import { ResourceType } from '../model/types';
import { Codec, CodecOptions, skipUndecoded } from './codec';
import { Lwm2mPath } from '../model/path';
import { ContentFormat } from './formats';
import { isJsonObject, jsonNumber, JsonValue, parseJson, utf8Text } from './json-text';
import { decodeBase64Loose, layoutSenml, nameToPath, nowSeconds, RELATIVE_TIME_LIMIT } from './senml-common';
import { decodedToModel, parseObjectLink, resourceTypeOf } from './typing';
import { Lwm2mRecord, Lwm2mValue } from './values';

function failer(F: number) {
  return (reason: string): never => {
    throw new DecodeError(F, reason);
  };
}


/** The one value field of an entry, before model typing; undefined for none. */
function entryValue(e: { [k: string]: JsonValue }, path: Lwm2mPath, type: ResourceType | undefined, F: number): Lwm2mValue | undefined {
  const fail: (reason: string) => never = failer(F);
  let wire: Lwm2mValue | undefined;
  let count = 0;
  if (e.v !== undefined) {
    count++;
    if (typeof e.v !== 'number' && typeof e.v !== 'bigint') fail(`${path}: "v" must be a number`);
    // 1e400 parses as Infinity: JSON has no infinities (RFC 8259 6), so the literal is out of range, not a value.
    if (typeof e.v === 'number' && !Number.isFinite(e.v)) fail(`${path}: "v" is out of the range of a double`);
    wire = e.v;
  }
  if (e.bv !== undefined) {
    count++;
    if (typeof e.bv !== 'boolean') fail(`${path}: "bv" must be true or false`);
    wire = e.bv;
  }
  if (e.ov !== undefined) {
    count++;
    const l = typeof e.ov === 'string' ? parseObjectLink(e.ov) : undefined;
    if (l === undefined) fail(`${path}: "ov" must be "objectId:instanceId"`);
    wire = l;
  }
  if (e.sv !== undefined) {
    count++;
    if (typeof e.sv !== 'string') fail(`${path}: "sv" must be a string`);
    if (type === 'opaque') {
      const b = decodeBase64Loose(e.sv);
      if (b === undefined) fail(`${path}: "sv" of an Opaque resource must be base64`);
      wire = b;
    } else {
      wire = e.sv;
    }
  }
  if (count > 1) fail(`${path}: entry carries ${count} values (v, bv, ov, sv are exclusive)`);
  return wire;
}

/** One entry as a record; undefined when lenient decoding left it out (CodecOptions.undecoded). */
function decodeEntry(e: JsonValue, i: number, bn: string, bt: number | undefined, opts: CodecOptions, now: number, F: number): Lwm2mRecord | undefined {
  const fail: (reason: string) => never = failer(F);
  if (!isJsonObject(e)) fail(`entry ${i} is not a JSON object`);
  const n = e.n;
  if (n !== undefined && typeof n !== 'string') fail(`entry ${i}: "n" must be a string`);
  const name = bn + (n ?? '');
  if (name === '') fail(`entry ${i} has no name (neither bn nor n)`);
  const path = nameToPath(name, F, 'entry name');
  if (!opts.path.contains(path)) fail(`entry ${path} lies outside the requested path ${opts.path}`);
  const type = resourceTypeOf(opts.registry, path);

  if (e.t !== undefined && typeof e.t !== 'number' && typeof e.t !== 'bigint') fail(`${path}: "t" must be a number`);

  const rec: Lwm2mRecord = { path };
  try {
    const wire = entryValue(e, path, type, F);
    if (wire !== undefined) {
      if (path.length < 3) fail(`${path}: a value needs a resource or resource instance path`);
      rec.value = decodedToModel(wire, type, F, path);
    }
  } catch (err) {
    if (skipUndecoded(opts, path, err)) return undefined;
    throw err;
  }
  if (bt !== undefined || e.t !== undefined) {
    let time = (bt ?? 0) + Number(e.t ?? 0);
    if (!Number.isFinite(time)) fail(`${path}: time is not finite`);
    if (time < RELATIVE_TIME_LIMIT) time += now;
    rec.time = time;
  }
  return rec;
}

function decode(payload: Buffer, opts: CodecOptions, F: number): Lwm2mRecord[] {
  const fail: (reason: string) => never = failer(F);
  const text = utf8Text(payload, F);
  if (text.trim() === '') return [];
  const doc = parseJson(text, F);
  if (!isJsonObject(doc)) fail('an LwM2M JSON payload must be a JSON object');
  if (doc.bn !== undefined && typeof doc.bn !== 'string') fail('"bn" must be a string');
  if (doc.bt !== undefined && typeof doc.bt !== 'number' && typeof doc.bt !== 'bigint') fail('"bt" must be a number');
  if (!Array.isArray(doc.e)) fail('"e" (the entry array) is missing or not an array');
  const bn = (doc.bn as string | undefined) ?? '';
  const bt = doc.bt === undefined ? undefined : Number(doc.bt);
  const now = nowSeconds();
  const entries = doc.e as JsonValue[];
  const out: Lwm2mRecord[] = [];
  for (let i = 0; i < entries.length; i++) {
    const rec = decodeEntry(entries[i], i, bn, bt, opts, now, F);
    if (rec !== undefined) out.push(rec);
  }
  return out;
}

/**
 * Encodes like the 1.0.2 examples (TS 1.0.2 6.4.4): `bn` is the request path with a trailing slash, names are relative,
 * times are absolute `t` per entry. For a resource or resource-instance target the base name stops at the object
 * instance (`{"bn":"/3/0/","e":[{"n":"14","sv":"+02"}]}`): C clients (wakaama) build each entry's path from the
 * instance base and its `n`, and refuse a base name naming the resource with an empty `n` (4.04).
 */
function encode(records: readonly Lwm2mRecord[], opts: CodecOptions, F: number): Buffer {
  const laid = layoutSenml(records, F, opts);
  const target = opts.path;
  const base = target.length > 2 ? new Lwm2mPath(target.segments.slice(0, 2)) : target;
  const baseText = base.toString();
  const bn = base.isRoot() ? '/' : baseText + '/';
  const entries: string[] = new Array(laid.length);
  for (let i = 0; i < laid.length; i++) {
    const o = laid[i];
    const path = records[i].path;
    let s = '{';
    let sep = '';
    const full = path.toString();
    const rel = base.isRoot() ? full.slice(1) : full.slice(baseText.length + 1);
    if (rel !== '') { s += `"n":${JSON.stringify(rel)}`; sep = ','; }
    const f = o.field;
    if (f !== undefined) {
      switch (f.kind) {
        case 'v': s += `${sep}"v":${jsonNumber(f.value, F, path.toString())}`; break;
        case 'vs': s += `${sep}"sv":${JSON.stringify(f.value)}`; break;
        case 'vb': s += `${sep}"bv":${f.value}`; break;
        case 'vd': s += `${sep}"sv":"${f.value.toString('base64')}"`; break;
        case 'vlo': s += `${sep}"ov":"${f.value}"`; break;
      }
      sep = ',';
    }
    if (o.t !== undefined) s += `${sep}"t":${jsonNumber(o.t, F, 'time')}`;
    entries[i] = s + '}';
  }
  return Buffer.from(`{"bn":${JSON.stringify(bn)},"e":[${entries.join(',')}]}`, 'utf8');
}

function makeCodec(format: number, name: string): Codec {
  return {
    format,
    name,
    multiPath: true,
    singleValue: false,
    encode: (records, opts) => encode(records, opts, format),
    decode: (payload, opts) => decode(payload, opts, format),
  };
}

export const lwm2mJsonCodec: Codec = makeCodec(ContentFormat.LWM2M_JSON, 'application/vnd.oma.lwm2m+json');
/** The pre-registration number 1543 some LwM2M 1.0 devices use: same format. */
export const oldLwm2mJsonCodec: Codec = makeCodec(ContentFormat.OLD_JSON, 'application/vnd.oma.lwm2m+json (old)');
