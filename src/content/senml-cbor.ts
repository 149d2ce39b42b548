/**
 * SenML CBOR, content format 112 (application/senml+cbor): OMA TS Core 1.1 / 1.2 section 7.4.4, RFC 8428 section 6.
 *
 * Integer labels (RFC 8428 Table 6): bver -1, bn -2, bt -3, bu -4, bv -5, bs -6, n 0, u 1, v 2, vs 3, vb 4, s 5,
 * t 6, ut 7, vd 8; LwM2M's object link value uses the text label "vlo" (Core 1.1 7.4.4). Text labels spelled as in
 * SenML JSON ("bn", "v"...) are accepted too. Values may be tagged with tag 1 (epoch time, seen on `bt` in the field),
 * numbers may be bignums (tags 2/3) or decimal fractions / bigfloats (tags 4/5). Definite or indefinite-length pack.
 * Encoding: definite-length array of definite-length maps, integer labels, shortest integers; a Float resource's value
 * as the shortest exact CBOR float (half, single or double, RFC 8949 4.1 preferred serialization) even when it is
 * whole (33.0 -> f9 5020: Leshan refuses an integer for a Float resource, so does the TLV/CBOR typing of Core
 * Appendix C); other numbers (Integer, Time as seconds, unknown resources) as integers when integral.
 */
import { DecodeError } from '../errors';
import { CborItem, CborMap, CborTag, CborWriter, cborNumber, decodeCbor, halfToNumber, latin1Text } from './cbor-wire';
import { Codec, CodecOptions } from './codec';
import { ContentFormat } from './formats';
import { layoutSenml, resolveSenml, SenmlRaw } from './senml-common';
import { Lwm2mRecord } from './values';

const F = ContentFormat.SENML_CBOR;

export const SENML_LABELS = { bver: -1, bn: -2, bt: -3, bu: -4, bv: -5, bs: -6, n: 0, u: 1, v: 2, vs: 3, vb: 4, s: 5, t: 6, ut: 7, vd: 8 } as const;
const LABEL_NAMES = new Map<number, string>(Object.entries(SENML_LABELS).map(([k, v]) => [v, k]));

function untag1(v: CborItem): CborItem {
  return v instanceof CborTag && v.tag === 1 ? v.value : v;
}

function num(v: CborItem, key: string, i: number): number {
  const n = cborNumber(untag1(v));
  if (n === undefined) throw new DecodeError(F, `record ${i}: "${key}" must be a number`);
  return Number(n);
}

function str(v: CborItem, key: string, i: number): string {
  if (typeof v === 'string') return v;
  throw new DecodeError(F, `record ${i}: "${key}" must be a text string`);
}

function readRecord(o: CborItem, i: number): SenmlRaw {
  if (!(o instanceof CborMap)) throw new DecodeError(F, `record ${i} is not a CBOR map`);
  const r: SenmlRaw = {};
  for (const [k, v] of o.entries) {
    let key: string | undefined;
    if (typeof k === 'number') key = LABEL_NAMES.get(k);
    else if (typeof k === 'string') key = k;
    else throw new DecodeError(F, `record ${i}: labels must be integers or text strings`);
    switch (key) {
      case 'bn': r.bn = str(v, key, i); break;
      case 'bt': r.bt = num(v, key, i); break;
      case 'bv': {
        const n = cborNumber(v);
        if (n === undefined) throw new DecodeError(F, `record ${i}: "bv" must be a number`);
        r.bv = n;
        break;
      }
      case 'n': r.n = str(v, key, i); break;
      case 't': r.t = num(v, key, i); break;
      case 'v': {
        // Core 1.1 Appendix C.2 describes Time in SenML CBOR as an RFC 7049 2.4.1 date/time: accept tag 0 strings too.
        if (v instanceof CborTag && v.tag === 0 && typeof v.value === 'string') {
          const ms = Date.parse(v.value);
          if (Number.isNaN(ms)) throw new DecodeError(F, `record ${i}: tag 0 must hold an RFC 3339 date/time`);
          r.v = Math.floor(ms / 1000);
          break;
        }
        const n = cborNumber(untag1(v));
        if (n === undefined) throw new DecodeError(F, `record ${i}: "v" must be a number`);
        r.v = n;
        break;
      }
      case 'vs': r.vs = str(v, key, i); break;
      case 'vb':
        if (typeof v !== 'boolean') throw new DecodeError(F, `record ${i}: "vb" must be true or false`);
        r.vb = v;
        break;
      case 'vd':
        if (!Buffer.isBuffer(v)) throw new DecodeError(F, `record ${i}: "vd" must be a byte string`);
        r.vd = v;
        break;
      case 'vlo': r.vlo = str(v, key, i); break;
      case 'bver': case 'bs': case 's': case 'ut': num(v, key, i); break;
      case 'bu': case 'u': str(v, key, i); break;
      default:
        if (key !== undefined && key.endsWith('_')) {
          throw new DecodeError(F, `record ${i}: unsupported must-understand field "${key}" (RFC 8428 4.4)`);
        }
    }
  }
  return r;
}

/** Field codes of the direct reader: the label number (RFC 8428 Table 6), and VLO for the text label "vlo". */
const VLO = 100;
/** Text labels the direct reader knows (SenML JSON spellings, accepted in CBOR too) and their codes. */
const TEXT_LABELS = new Map<string, number>([...Object.entries(SENML_LABELS), ['vlo', VLO]]);

/**
 * The usual SenML CBOR pack read straight into records, without building CBOR items first: a definite-length array of
 * definite-length maps whose labels are known integers or text, and whose values are ASCII text, integers of up to 32
 * bits, floats, booleans or byte strings. Anything else (tags, indefinite lengths, 64-bit integers, non-ASCII text,
 * unknown labels, wrong types, truncation) returns undefined: the general reader then decodes it, or names the error.
 * For the packs it accepts, the result is exactly the general reader's.
 */
function parseDirect(b: Buffer): SenmlRaw[] | undefined {
  const end = b.length;
  let pos = 0;
  /** Argument of a definite head (info < 27), or -1. */
  const arg = (info: number): number => {
    if (info < 24) return info;
    if (info === 24) return pos < end ? b[pos++] : -1;
    if (info === 25) {
      if (pos + 2 > end) return -1;
      const v = (b[pos] << 8) | b[pos + 1];
      pos += 2;
      return v;
    }
    if (info === 26) {
      if (pos + 4 > end) return -1;
      const v = b.readUInt32BE(pos);
      pos += 4;
      return v;
    }
    return -1;
  };
  /** A number item (integer up to 32 bits, or float), or undefined. */
  const number = (): number | undefined => {
    if (pos >= end) return undefined;
    const ib = b[pos++];
    const major = ib >> 5;
    const info = ib & 31;
    if (major === 0 || major === 1) {
      const a = arg(info);
      if (a < 0) return undefined;
      return major === 0 ? a : -1 - a;
    }
    if (major !== 7) return undefined;
    if (info === 25 && pos + 2 <= end) { const v = halfToNumber((b[pos] << 8) | b[pos + 1]); pos += 2; return v; }
    if (info === 26 && pos + 4 <= end) { const v = b.readFloatBE(pos); pos += 4; return v; }
    if (info === 27 && pos + 8 <= end) { const v = b.readDoubleBE(pos); pos += 8; return v; }
    return undefined;
  };
  /** An ASCII text item, or undefined. */
  const text = (): string | undefined => {
    if (pos >= end || b[pos] >> 5 !== 3) return undefined;
    const n = arg(b[pos++] & 31);
    if (n < 0 || pos + n > end) return undefined;
    for (let k = pos; k < pos + n; k++) if (b[k] > 0x7f) return undefined;
    const t = latin1Text(b, pos, pos + n);
    pos += n;
    return t;
  };
  if (end === 0 || b[0] >> 5 !== 4) return undefined;
  pos = 1;
  const count = arg(b[0] & 31);
  if (count < 0 || count > end - pos) return undefined;
  const out: SenmlRaw[] = new Array(count);
  for (let i = 0; i < count; i++) {
    if (pos >= end || b[pos] >> 5 !== 5) return undefined;
    const fields = arg(b[pos++] & 31);
    if (fields < 0 || fields * 2 > end - pos) return undefined;
    const r: SenmlRaw = {};
    for (let f = 0; f < fields; f++) {
      if (pos >= end) return undefined;
      const kb = b[pos];
      let label: number | undefined;
      if (kb < 0x18) { label = kb; pos++; } // 0..23
      else if (kb >= 0x20 && kb < 0x38) { label = -1 - (kb & 31); pos++; } // -1..-24
      else if (kb >> 5 === 3) { const t = text(); label = t === undefined ? undefined : TEXT_LABELS.get(t); }
      if (label === undefined) return undefined;
      switch (label) {
        case SENML_LABELS.bn: { const v = text(); if (v === undefined) return undefined; r.bn = v; break; }
        case SENML_LABELS.n: { const v = text(); if (v === undefined) return undefined; r.n = v; break; }
        case SENML_LABELS.vs: { const v = text(); if (v === undefined) return undefined; r.vs = v; break; }
        case VLO: { const v = text(); if (v === undefined) return undefined; r.vlo = v; break; }
        case SENML_LABELS.bu: case SENML_LABELS.u: if (text() === undefined) return undefined; break;
        case SENML_LABELS.bt: { const v = number(); if (v === undefined) return undefined; r.bt = v; break; }
        case SENML_LABELS.t: { const v = number(); if (v === undefined) return undefined; r.t = v; break; }
        case SENML_LABELS.v: { const v = number(); if (v === undefined) return undefined; r.v = v; break; }
        case SENML_LABELS.bv: { const v = number(); if (v === undefined) return undefined; r.bv = v; break; }
        case SENML_LABELS.bver: case SENML_LABELS.bs: case SENML_LABELS.s: case SENML_LABELS.ut:
          if (number() === undefined) return undefined;
          break;
        case SENML_LABELS.vb: {
          const v = pos < end ? b[pos] : 0;
          if (v !== 0xf4 && v !== 0xf5) return undefined;
          pos++;
          r.vb = v === 0xf5;
          break;
        }
        case SENML_LABELS.vd: {
          if (pos >= end || b[pos] >> 5 !== 2) return undefined;
          const n = arg(b[pos++] & 31);
          if (n < 0 || pos + n > end) return undefined;
          r.vd = Buffer.from(b.subarray(pos, pos + n));
          pos += n;
          break;
        }
        default:
          return undefined; // an integer label SenML does not define: the general reader ignores it
      }
    }
    out[i] = r;
  }
  return pos === end ? out : undefined;
}

/** Parses a SenML CBOR payload into raw records. */
export function parseSenmlCbor(payload: Buffer): SenmlRaw[] {
  if (payload.length === 0) return [];
  const direct = parseDirect(payload);
  if (direct !== undefined) return direct;
  return parseSenmlCborItems(payload);
}

/** The general reader: any SenML CBOR pack through CBOR items (what {@link parseSenmlCbor} falls back to). */
export function parseSenmlCborItems(payload: Buffer): SenmlRaw[] {
  if (payload.length === 0) return [];
  const doc = decodeCbor(payload, F);
  if (!Array.isArray(doc)) throw new DecodeError(F, 'a SenML pack must be a CBOR array');
  const out: SenmlRaw[] = new Array(doc.length);
  for (let i = 0; i < doc.length; i++) out[i] = readRecord(doc[i], i);
  return out;
}

function encode(records: readonly Lwm2mRecord[], opts: CodecOptions): Buffer {
  const laid = layoutSenml(records, F, opts);
  const w = new CborWriter(F);
  w.array(laid.length);
  for (const o of laid) {
    w.map((o.bn !== undefined ? 1 : 0) + (o.n !== undefined ? 1 : 0) + (o.t !== undefined ? 1 : 0) + (o.field ? 1 : 0));
    if (o.bn !== undefined) w.int(SENML_LABELS.bn).text(o.bn);
    if (o.n !== undefined) w.int(SENML_LABELS.n).text(o.n);
    if (o.t !== undefined) w.int(SENML_LABELS.t).number(o.t);
    const f = o.field;
    if (f !== undefined) {
      switch (f.kind) {
        case 'v': w.int(SENML_LABELS.v); if (f.float) w.shortestFloat(Number(f.value)); else w.number(f.value); break;
        case 'vs': w.int(SENML_LABELS.vs).text(f.value); break;
        case 'vb': w.int(SENML_LABELS.vb).bool(f.value); break;
        case 'vd': w.int(SENML_LABELS.vd).bytes(f.value); break;
        case 'vlo': w.text('vlo').text(f.value); break;
      }
    }
  }
  return w.finish();
}

function decode(payload: Buffer, opts: CodecOptions): Lwm2mRecord[] {
  return resolveSenml(parseSenmlCbor(payload), F, opts);
}

export const senmlCborCodec: Codec = {
  format: F,
  name: 'application/senml+cbor',
  multiPath: true,
  singleValue: false,
  encode,
  decode,
};
