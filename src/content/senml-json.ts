/**
 * SenML JSON, content format 110 (application/senml+json): OMA TS Core 1.1 / 1.2 section 7.4.5, RFC 8428.
 *
 * `[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"9","v":95},{"n":"6/0","v":1}]`
 *
 * Decoding accepts every RFC 8428 base field (bn, bt, bv, bver, bu, bs are checked; bu/bs/u/s/ut are ignored), rejects
 * unknown "must understand" fields (names ending in `_`, RFC 8428 4.4), resolves relative times (4.5.3), takes `vd`
 * as base64url with or without padding and also standard base64, and returns integers beyond 2^53 as bigint.
 * An empty payload decodes to no records (as Leshan does for an empty Read answer).
 */
import { DecodeError } from '../errors';
import { Codec, CodecOptions } from './codec';
import { ContentFormat } from './formats';
import { isJsonObject, jsonNumber, JsonValue, parseJson, utf8Text } from './json-text';
import { decodeBase64Loose, layoutSenml, resolveSenml, SenmlRaw } from './senml-common';
import { Lwm2mRecord } from './values';

const F = ContentFormat.SENML_JSON;

/**
 * A JSON number literal too large for a double (`1e400`) parses as Infinity; JSON has no infinities (RFC 8259 6), and
 * the text format refuses such a value too, so it is a decode error rather than a Float of Infinity.
 */
function finite(v: number, key: string, i: number): number {
  if (!Number.isFinite(v)) throw new DecodeError(F, `record ${i}: "${key}" is out of the range of a double`);
  return v;
}

function num(v: JsonValue, key: string, i: number): number {
  if (typeof v === 'number') return finite(v, key, i);
  if (typeof v === 'bigint') return Number(v);
  throw new DecodeError(F, `record ${i}: "${key}" must be a number`);
}

function str(v: JsonValue, key: string, i: number): string {
  if (typeof v === 'string') return v;
  throw new DecodeError(F, `record ${i}: "${key}" must be a string`);
}

/** Type-checks one JSON record into a SenmlRaw. */
function readRecord(o: JsonValue, i: number): SenmlRaw {
  if (!isJsonObject(o)) throw new DecodeError(F, `record ${i} is not a JSON object`);
  const r: SenmlRaw = {};
  for (const key of Object.keys(o)) {
    const v = o[key];
    switch (key) {
      case 'bn': r.bn = str(v, key, i); break;
      case 'bt': r.bt = num(v, key, i); break;
      case 'bv':
        if (typeof v !== 'number' && typeof v !== 'bigint') throw new DecodeError(F, `record ${i}: "bv" must be a number`);
        r.bv = typeof v === 'number' ? finite(v, key, i) : v;
        break;
      case 'n': r.n = str(v, key, i); break;
      case 't': r.t = num(v, key, i); break;
      case 'v':
        if (typeof v !== 'number' && typeof v !== 'bigint') throw new DecodeError(F, `record ${i}: "v" must be a number`);
        r.v = typeof v === 'number' ? finite(v, key, i) : v;
        break;
      case 'vs': r.vs = str(v, key, i); break;
      case 'vb':
        if (typeof v !== 'boolean') throw new DecodeError(F, `record ${i}: "vb" must be true or false`);
        r.vb = v;
        break;
      case 'vd': {
        const b = decodeBase64Loose(str(v, key, i));
        if (b === undefined) throw new DecodeError(F, `record ${i}: "vd" is not base64url`);
        r.vd = b;
        break;
      }
      case 'vlo': r.vlo = str(v, key, i); break;
      case 'bver': num(v, key, i); break;
      case 'bs': case 's': case 'ut': num(v, key, i); break;
      case 'bu': case 'u': str(v, key, i); break;
      default:
        if (key.endsWith('_')) throw new DecodeError(F, `record ${i}: unsupported must-understand field "${key}" (RFC 8428 4.4)`);
    }
  }
  return r;
}

/** Parses a SenML JSON payload into raw records (exported for the fuzz tests and the LwM2M JSON codec's tooling). */
export function parseSenmlJson(payload: Buffer): SenmlRaw[] {
  const text = utf8Text(payload, F);
  if (text.trim() === '') return [];
  const doc = parseJson(text, F);
  if (!Array.isArray(doc)) throw new DecodeError(F, 'a SenML pack must be a JSON array');
  const out: SenmlRaw[] = new Array(doc.length);
  for (let i = 0; i < doc.length; i++) out[i] = readRecord(doc[i], i);
  return out;
}

function encode(records: readonly Lwm2mRecord[], opts: CodecOptions): Buffer {
  const laid = layoutSenml(records, F, opts);
  const parts: string[] = new Array(laid.length);
  for (let i = 0; i < laid.length; i++) {
    const o = laid[i];
    let s = '{';
    let sep = '';
    if (o.bn !== undefined) { s += `"bn":${JSON.stringify(o.bn)}`; sep = ','; }
    if (o.n !== undefined) { s += `${sep}"n":${JSON.stringify(o.n)}`; sep = ','; }
    if (o.t !== undefined) { s += `${sep}"t":${jsonNumber(o.t, F, 'time')}`; sep = ','; }
    const f = o.field;
    if (f !== undefined) {
      const where = records[i].path.toString();
      switch (f.kind) {
        case 'v': s += `${sep}"v":${jsonNumber(f.value, F, where)}`; break;
        case 'vs': s += `${sep}"vs":${JSON.stringify(f.value)}`; break;
        case 'vb': s += `${sep}"vb":${f.value}`; break;
        case 'vd': s += `${sep}"vd":"${f.value.toString('base64url')}"`; break;
        case 'vlo': s += `${sep}"vlo":"${f.value}"`; break;
      }
    }
    parts[i] = s + '}';
  }
  return Buffer.from('[' + parts.join(',') + ']', 'utf8');
}

function decode(payload: Buffer, opts: CodecOptions): Lwm2mRecord[] {
  return resolveSenml(parseSenmlJson(payload), F, opts);
}

export const senmlJsonCodec: Codec = {
  format: F,
  name: 'application/senml+json',
  multiPath: true,
  singleValue: false,
  encode,
  decode,
};
