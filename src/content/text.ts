/**
 * text/plain (content-format 0): one resource or resource-instance value as UTF-8 text.
 *
 * OMA TS Core 1.1 / 1.2 section 7.4.1 "Plain Text" and Appendix C "Data Types": Integer, Unsigned Integer and Float in
 * decimal, Boolean as "0"/"1", Time as an integer number of seconds since the epoch, Opaque as base64 (RFC 4648
 * section 4, since 1.1), Objlnk as "objectId:instanceId", String and Corelnk as they are.
 */
import { DecodeError, EncodeError } from '../errors';
import { Lwm2mPath } from '../model/path';
import { ResourceType } from '../model/types';
import { Codec, CodecOptions } from './codec';
import { latin1Text } from './cbor-wire';
import { ContentFormat } from './formats';
import {
  dateToSeconds, decodedToModel, formatObjectLink, INT64_MAX, INT64_MIN, normalizeInteger, parseObjectLink,
  resourceTypeOf, secondsToDate, toModelValue, UINT64_MAX,
} from './typing';
import { isObjectLink, Lwm2mRecord, Lwm2mValue } from './values';

const FORMAT = ContentFormat.TEXT;
const INTEGER_RE = /^[+-]?\d{1,25}$/;
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?$/;
/** Base64 (RFC 4648 section 4); the final padding is optional, as some devices leave it out. */
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Checks that exactly one record lies at or below `opts.path` at resource or resource-instance level. */
export function singleRecord(records: readonly Lwm2mRecord[], opts: CodecOptions, format: number): Lwm2mRecord {
  if (records.length !== 1) throw new EncodeError(format, `exactly one value expected, got ${records.length}`);
  const r = records[0];
  if (!(r.path instanceof Lwm2mPath)) throw new EncodeError(format, 'record path is not an Lwm2mPath');
  if (r.path.length < 3) throw new EncodeError(format, `${r.path}: a single value needs a resource or resource-instance path`);
  if (!opts.path.contains(r.path)) throw new EncodeError(format, `${r.path} is not below the target ${opts.path}`);
  if (r.value === undefined) throw new EncodeError(format, `${r.path}: no value`);
  return r;
}

/** The path a single-value payload belongs to: the request's resource or resource-instance path. */
export function singleValuePath(opts: CodecOptions, format: number): Lwm2mPath {
  if (opts.path.length < 3) {
    throw new DecodeError(format, `${opts.path}: a single-value format needs a resource or resource-instance path`);
  }
  return opts.path;
}

/** Renders one model value as LwM2M plain text. */
export function valueToText(value: Lwm2mValue, type: ResourceType | undefined, path: Lwm2mPath): string {
  const v = toModelValue(value, type, FORMAT, path);
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new EncodeError(FORMAT, `${path}: ${v} has no plain-text representation`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (v instanceof Date) return String(dateToSeconds(v));
  if (isObjectLink(v)) return formatObjectLink(v);
  throw new EncodeError(FORMAT, `${path}: unsupported value`);
}

/** Parses LwM2M plain text into a model value of `type` (a string when the type is unknown). */
export function textToValue(text: string, type: ResourceType | undefined, path: Lwm2mPath): Lwm2mValue {
  const fail = (why: string): never => {
    const shown = text.length > 40 ? text.slice(0, 40) + '...' : text;
    throw new DecodeError(FORMAT, `${path}: ${JSON.stringify(shown)} is not a valid ${type} (${why})`);
  };
  switch (type) {
    case undefined:
    case 'string':
    case 'corelnk':
      return text;
    case 'integer':
    case 'unsigned': {
      const t = text.trim();
      if (!INTEGER_RE.test(t)) return fail('expected a decimal integer');
      if (t.length <= 15) {
        // At most 15 digits: exact as a number, within both 64-bit ranges (-0 reads as 0, as through BigInt).
        const n = Number(t);
        if (n >= 0 || type === 'integer') return n === 0 ? 0 : n;
      }
      const b = BigInt(t);
      if (type === 'integer' && (b < INT64_MIN || b > INT64_MAX)) return fail('outside the signed 64-bit range');
      if (type === 'unsigned' && (b < 0n || b > UINT64_MAX)) return fail('outside the unsigned 64-bit range');
      return normalizeInteger(b);
    }
    case 'float': {
      const t = text.trim();
      if (!FLOAT_RE.test(t)) return fail('expected a decimal number');
      const n = Number(t);
      return Number.isFinite(n) ? n : fail('out of range');
    }
    case 'boolean': {
      const t = text.trim();
      if (t === '1' || t === 'true') return true;
      if (t === '0' || t === 'false') return false;
      return fail('expected "0" or "1"');
    }
    case 'opaque': {
      const t = text.trim();
      if (!BASE64_RE.test(t)) return fail('expected base64');
      return Buffer.from(t, 'base64');
    }
    case 'time': {
      const t = text.trim();
      if (!INTEGER_RE.test(t)) return fail('expected integer seconds since the epoch');
      return secondsToDate(BigInt(t)) ?? fail('out of range');
    }
    case 'objlnk':
      return parseObjectLink(text.trim()) ?? fail('expected "objectId:instanceId"');
    case 'none':
      return fail('executable resources carry no value');
    default:
      return decodedToModel(text, type, FORMAT, path);
  }
}

function isAscii(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] > 0x7f) return false;
  return true;
}

export const textCodec: Codec = {
  format: FORMAT,
  name: 'text/plain',
  multiPath: false,
  singleValue: true,
  encode(records: readonly Lwm2mRecord[], opts: CodecOptions): Buffer {
    const r = singleRecord(records, opts, FORMAT);
    return Buffer.from(valueToText(r.value as Lwm2mValue, resourceTypeOf(opts.registry, r.path), r.path), 'utf8');
  },
  decode(payload: Buffer, opts: CodecOptions): Lwm2mRecord[] {
    const path = singleValuePath(opts, FORMAT);
    let text: string;
    if (isAscii(payload)) text = latin1Text(payload, 0, payload.length);
    else {
      try {
        text = utf8.decode(payload);
      } catch (e) {
        throw new DecodeError(FORMAT, `${path}: payload is not valid UTF-8`, { cause: e });
      }
    }
    return [{ path, value: textToValue(text, resourceTypeOf(opts.registry, path), path) }];
  },
};
