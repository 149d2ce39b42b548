/**
 * application/cbor (content-format 60): one resource or resource-instance value as a single CBOR data item.
 *
 * OMA TS Core 1.1 / 1.2 section 7.4 "Data Formats", CBOR (and Appendix C): Integer as major type 0/1, Unsigned
 * Integer as major type 0, Float as major type 7 (half/single/double), Boolean as simple values 20/21, String and Corelnk as text strings,
 * Opaque as a byte string, Time as an integer number of seconds (tag 1 accepted on input), Objlnk as the text "O:I".
 * Encoding follows the preferred serialization of RFC 8949 section 4.1 (shortest argument); floats use single
 * precision when that is exact. Decoding uses our bounded reader (cbor-wire.ts); only a single non-container item is
 * accepted (after at most 8 tags), so no header can make the decoder allocate a container.
 */
import { DecodeError, EncodeError } from '../errors';
import { Lwm2mPath } from '../model/path';
import { ResourceType } from '../model/types';
import { CborTag, cborNumber, decodeCbor } from './cbor-wire';
import { Codec, CodecOptions } from './codec';
import { ContentFormat } from './formats';
import { singleRecord, singleValuePath } from './text';
import {
  dateToSeconds, decodedToModel, formatObjectLink, isFloat32, normalizeInteger, resourceTypeOf, secondsToDate, toModelValue,
} from './typing';
import { isObjectLink, Lwm2mRecord, Lwm2mValue } from './values';

const FORMAT = ContentFormat.CBOR;
/** Nesting allowed by the reader: the tags checkSingleItem lets through, and their content. */
const MAX_DEPTH = 10;

/** Writes a CBOR head (major type + argument) in its shortest form (RFC 8949 section 3). */
function head(major: number, arg: bigint | number): Buffer {
  const m = major << 5;
  if (arg < 24) return Buffer.of(m | Number(arg));
  const a = BigInt(arg);
  if (a < 0x100n) return Buffer.of(m | 24, Number(a));
  if (a < 0x10000n) { const b = Buffer.allocUnsafe(3); b[0] = m | 25; b.writeUInt16BE(Number(a), 1); return b; }
  if (a < 0x100000000n) { const b = Buffer.allocUnsafe(5); b[0] = m | 26; b.writeUInt32BE(Number(a), 1); return b; }
  const b = Buffer.allocUnsafe(9); b[0] = m | 27; b.writeBigUInt64BE(a, 1); return b;
}

function encodeInteger(v: number | bigint, path: Lwm2mPath): Buffer {
  const b = BigInt(v);
  if (b >= 0n) {
    if (b > 0xffffffffffffffffn) throw new EncodeError(FORMAT, `${path}: ${b} does not fit in 64 bits`);
    return head(0, typeof v === 'number' ? v : b);
  }
  const n = -1n - b;
  if (n > 0xffffffffffffffffn) throw new EncodeError(FORMAT, `${path}: ${b} does not fit in 64 bits`);
  return head(1, n);
}

function encodeFloat(n: number): Buffer {
  if (isFloat32(n)) { const b = Buffer.allocUnsafe(5); b[0] = 0xfa; b.writeFloatBE(n, 1); return b; }
  const b = Buffer.allocUnsafe(9); b[0] = 0xfb; b.writeDoubleBE(n, 1); return b;
}

/** Encodes one model value as a single CBOR data item. */
export function encodeCborValue(value: unknown, type: ResourceType | undefined, path: Lwm2mPath): Buffer {
  const v = toModelValue(value, type, FORMAT, path);
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    return Buffer.concat([head(3, s.length), s]);
  }
  if (typeof v === 'boolean') return Buffer.of(v ? 0xf5 : 0xf4);
  if (typeof v === 'bigint') return encodeInteger(v, path);
  if (typeof v === 'number') {
    if (type === 'float' || !Number.isInteger(v)) return encodeFloat(v);
    return encodeInteger(v, path);
  }
  if (Buffer.isBuffer(v)) return Buffer.concat([head(2, v.length), v]);
  if (v instanceof Date) return encodeInteger(dateToSeconds(v), path);
  if (isObjectLink(v)) {
    const s = Buffer.from(formatObjectLink(v), 'ascii');
    return Buffer.concat([head(3, s.length), s]);
  }
  throw new EncodeError(FORMAT, `${path}: unsupported value`);
}

/**
 * Checks the outer structure before decoding: after any tags, the item must not be an array or a map (a single value
 * carries neither), so a header announcing a container is refused before anything is read.
 */
function checkSingleItem(payload: Buffer, path: Lwm2mPath): void {
  let i = 0;
  for (let tags = 0; ; tags++) {
    if (i >= payload.length) throw new DecodeError(FORMAT, `${path}: ${payload.length === 0 ? 'empty payload' : 'truncated tag'}`);
    if (tags > 8) throw new DecodeError(FORMAT, `${path}: too many nested tags`);
    const ib = payload[i];
    const major = ib >> 5;
    if (major === 4 || major === 5) throw new DecodeError(FORMAT, `${path}: expected a single value, got an ${major === 4 ? 'array' : 'map'}`);
    if (major !== 6) return;
    const ai = ib & 0x1f;
    if (ai < 24) i += 1;
    else if (ai <= 27) i += 1 + (1 << (ai - 24));
    else throw new DecodeError(FORMAT, `${path}: malformed tag`);
  }
}

/** Decodes a single CBOR data item into a model value of `type` (the CBOR type itself when unknown). */
export function decodeCborValue(payload: Buffer, type: ResourceType | undefined, path: Lwm2mPath): Lwm2mValue {
  checkSingleItem(payload, path);
  let raw;
  try {
    raw = decodeCbor(payload, FORMAT, MAX_DEPTH);
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^cannot decode content format \d+: /, '') : String(e);
    throw new DecodeError(FORMAT, `${path}: malformed CBOR (${why})`, { cause: e });
  }
  let v: Lwm2mValue;
  if (typeof raw === 'number' || typeof raw === 'string' || typeof raw === 'boolean') v = raw;
  else if (typeof raw === 'bigint') v = normalizeInteger(raw);
  else if (Buffer.isBuffer(raw)) v = raw;
  else if (raw instanceof CborTag && (raw.tag === 0 || raw.tag === 1)) {
    // RFC 8949 3.4.1 / 3.4.2: tag 0 an RFC 3339 date/time string, tag 1 epoch seconds (integer or float).
    let d: Date | undefined;
    if (raw.tag === 0 && typeof raw.value === 'string') d = new Date(Date.parse(raw.value));
    else if (raw.tag === 1) {
      const n = cborNumber(raw.value);
      // LwM2M Time is whole seconds (Core Appendix C): a fractional epoch time is floored, as in the other formats.
      if (n !== undefined) d = secondsToDate(typeof n === 'number' ? Math.floor(n) : normalizeInteger(n));
    }
    if (d === undefined || Number.isNaN(d.getTime())) throw new DecodeError(FORMAT, `${path}: invalid date (tag ${raw.tag})`);
    v = d;
  } else if (raw instanceof CborTag && cborNumber(raw) !== undefined) {
    v = normalizeInteger(cborNumber(raw)!); // bignum (tags 2/3; 4/5 hold an array, refused above)
  } else {
    const what = raw === null ? 'null' : raw === undefined ? 'undefined' : raw instanceof CborTag ? `tag ${raw.tag}` : 'a structure';
    throw new DecodeError(FORMAT, `${path}: expected a single value, got ${what}`);
  }
  if (type === 'time' && typeof v === 'number' && !Number.isInteger(v)) v = Math.floor(v);
  return decodedToModel(v, type, FORMAT, path);
}

export const cborCodec: Codec = {
  format: FORMAT,
  name: 'application/cbor',
  multiPath: false,
  singleValue: true,
  encode(records: readonly Lwm2mRecord[], opts: CodecOptions): Buffer {
    const r = singleRecord(records, opts, FORMAT);
    return encodeCborValue(r.value, resourceTypeOf(opts.registry, r.path), r.path);
  },
  decode(payload: Buffer, opts: CodecOptions): Lwm2mRecord[] {
    const path = singleValuePath(opts, FORMAT);
    return [{ path, value: decodeCborValue(payload, resourceTypeOf(opts.registry, path), path) }];
  },
};
