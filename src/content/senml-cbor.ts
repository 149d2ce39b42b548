/**
 * SenML CBOR, content format 112 (application/senml+cbor): OMA TS Core 1.1 / 1.2 section 7.4.4, RFC 8428 section 6.
 *
 * Integer labels (RFC 8428 Table 6): bver -1, bn -2, bt -3, bu -4, bv -5, bs -6, n 0, u 1, v 2, vs 3, vb 4, s 5,
 * t 6, ut 7, vd 8; LwM2M's object link value uses the text label "vlo" (Core 1.1 7.4.4). Text labels spelled as in
 * SenML JSON ("bn", "v"...) are accepted too. Values may be tagged with tag 1 (epoch time, seen on `bt` in the field),
 * numbers may be bignums (tags 2/3) or decimal fractions / bigfloats (tags 4/5). Definite or indefinite-length pack.
 * Encoding: definite-length array of definite-length maps, integer labels, shortest integers, binary32 floats when
 * exact (binary64 otherwise); integral values as integers, as the spec examples do (Core 1.1 Table 7.4.4-8 writes
 * the Float Set Point Value 18 as `2: 18`); Time as integer seconds in `v`.
 */
import { DecodeError } from '../errors';
import { CborItem, CborMap, CborTag, CborWriter, cborNumber, decodeCbor } from './cbor-wire';
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

/** Parses a SenML CBOR payload into raw records. */
export function parseSenmlCbor(payload: Buffer): SenmlRaw[] {
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
        case 'v': w.int(SENML_LABELS.v).number(f.value); break;
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
