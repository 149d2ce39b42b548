/**
 * OMA LwM2M TLV (content-format 11542, and the pre-registration number 1542 some 1.0 devices still send).
 *
 * OMA TS Core 1.0.2 section 6.4.3 / 1.1 section 7.4.3 / 1.2 section 7.4.3 "TLV". Each entry:
 *
 *   type byte:  bits 7-6  identifier type: 00 object instance, 01 resource instance, 10 multiple resource,
 *                         11 resource with value
 *               bit 5     identifier length: 0 = 8 bits, 1 = 16 bits
 *               bits 4-3  length type: 00 = the length is in bits 2-0, 01 = 8-bit, 10 = 16-bit, 11 = 24-bit length field
 *               bits 2-0  the length when bits 4-3 are 00
 *   identifier (8 or 16 bits), length field (0, 8, 16 or 24 bits), value.
 *
 * An object instance contains resources and multiple resources; a multiple resource contains resource instances.
 * Values (Appendix C): Integer and Time as 1, 2, 4 or 8 byte big-endian two's complement; Unsigned Integer as 1, 2, 4 or
 * 8 byte unsigned; Float as 4 or 8 byte IEEE 754; Boolean as one byte 0 or 1; String and Corelnk as UTF-8; Opaque raw;
 * Objlnk as two 16-bit unsigned integers (object id, instance id). TLV carries no type, so values of resources the
 * registry does not know decode as Opaque (Buffer).
 */
import { DecodeError, EncodeError } from '../errors';
import { Lwm2mPath } from '../model/path';
import { ResourceType } from '../model/types';
import { Codec, CodecOptions, skipUndecoded } from './codec';
import { ContentFormat } from './formats';
import {
  dateToSeconds, INT64_MAX, INT64_MIN, isFloat32, isMultipleResource, normalizeInteger, resourceTypeOf, secondsToDate,
  toModelValue, UINT64_MAX,
} from './typing';
import { isObjectLink, Lwm2mRecord, Lwm2mValue } from './values';

/** TLV identifier types (bits 7-6 of the type byte). */
export const TlvType = {
  OBJECT_INSTANCE: 0,
  RESOURCE_INSTANCE: 1,
  MULTIPLE_RESOURCE: 2,
  RESOURCE: 3,
} as const;
type Kind = 0 | 1 | 2 | 3;
const KIND_NAMES = ['object instance', 'resource instance', 'multiple resource', 'resource'];
/** The path length an entry of each kind names: instance /O/I, resource instance /O/I/R/RI, resource /O/I/R. */
const KIND_LEVEL = [2, 4, 3, 3];
/** Largest length a TLV length field can carry (24 bits). */
export const MAX_TLV_LENGTH = 0xffffff;

const utf8 = new TextDecoder('utf-8', { fatal: true });

// ---------------------------------------------------------------------------------------------------------------
// Values

/** Shortest two's complement big-endian encoding of a signed 64-bit integer (1, 2, 4 or 8 bytes). */
export function encodeTlvInteger(v: number | bigint): Buffer {
  if (typeof v === 'number' && Number.isSafeInteger(v)) {
    if (v >= -0x80 && v <= 0x7f) { const b = Buffer.allocUnsafe(1); b.writeInt8(v); return b; }
    if (v >= -0x8000 && v <= 0x7fff) { const b = Buffer.allocUnsafe(2); b.writeInt16BE(v); return b; }
    if (v >= -0x80000000 && v <= 0x7fffffff) { const b = Buffer.allocUnsafe(4); b.writeInt32BE(v); return b; }
  }
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(BigInt(v));
  return b;
}

/** Shortest big-endian encoding of an unsigned 64-bit integer (1, 2, 4 or 8 bytes). */
export function encodeTlvUnsigned(v: number | bigint): Buffer {
  if (typeof v === 'number' && Number.isSafeInteger(v)) {
    if (v <= 0xff) return Buffer.of(v);
    if (v <= 0xffff) { const b = Buffer.allocUnsafe(2); b.writeUInt16BE(v); return b; }
    if (v <= 0xffffffff) { const b = Buffer.allocUnsafe(4); b.writeUInt32BE(v); return b; }
  }
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(v));
  return b;
}

function readSigned(buf: Buffer, start: number, len: number): number | bigint {
  switch (len) {
    case 1: return buf.readInt8(start);
    case 2: return buf.readInt16BE(start);
    case 4: return buf.readInt32BE(start);
    case 8: return normalizeInteger(buf.readBigInt64BE(start));
    default: {
      // Non-standard widths (3, 5, 6, 7 bytes) seen from some devices: still big-endian two's complement.
      return normalizeInteger(BigInt.asIntN(len * 8, BigInt('0x' + buf.toString('hex', start, start + len))));
    }
  }
}

function readUnsigned(buf: Buffer, start: number, len: number): number | bigint {
  switch (len) {
    case 1: return buf[start];
    case 2: return buf.readUInt16BE(start);
    case 4: return buf.readUInt32BE(start);
    case 8: return normalizeInteger(buf.readBigUInt64BE(start));
    default: return normalizeInteger(BigInt('0x' + buf.toString('hex', start, start + len)));
  }
}

/** Encodes one value as TLV value bytes for `type` (inferred from the JS value when the type is unknown). */
export function encodeTlvValue(value: unknown, type: ResourceType | undefined, path: Lwm2mPath, format: number = ContentFormat.TLV): Buffer {
  const v = toModelValue(value, type, format, path);
  switch (type) {
    case 'integer': return encodeTlvInteger(v as number | bigint);
    case 'unsigned': return encodeTlvUnsigned(v as number | bigint);
    case 'time': return encodeTlvInteger(dateToSeconds(v as Date));
    case 'float': {
      const n = v as number;
      if (isFloat32(n)) { const b = Buffer.allocUnsafe(4); b.writeFloatBE(n); return b; }
      const b = Buffer.allocUnsafe(8); b.writeDoubleBE(n); return b;
    }
    default: break;
  }
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (typeof v === 'boolean') return Buffer.of(v ? 1 : 0);
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Date) return encodeTlvInteger(dateToSeconds(v));
  if (isObjectLink(v)) {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt16BE(v.objectId, 0);
    b.writeUInt16BE(v.instanceId, 2);
    return b;
  }
  if (typeof v === 'bigint') {
    if (v > UINT64_MAX || v < INT64_MIN) throw new EncodeError(format, `${path}: ${v} does not fit in 64 bits`);
    if (v > INT64_MAX) return encodeTlvUnsigned(v);
    return encodeTlvInteger(v);
  }
  if (typeof v === 'number') {
    if (Number.isInteger(v)) {
      if (v > Number.MAX_SAFE_INTEGER || v < Number.MIN_SAFE_INTEGER) return encodeTlvValue(BigInt(v), undefined, path, format);
      return encodeTlvInteger(v);
    }
    return encodeTlvValue(v, 'float', path, format);
  }
  throw new EncodeError(format, `${path}: unsupported value`);
}

/** Decodes TLV value bytes `buf[start, end)` for `type` (Opaque when the type is unknown). */
export function decodeTlvValue(buf: Buffer, start: number, end: number, type: ResourceType | undefined, path: Lwm2mPath,
  format: number = ContentFormat.TLV): Lwm2mValue {
  const len = end - start;
  const fail = (why: string): never => { throw new DecodeError(format, `${path}: invalid ${type} value (${why})`); };
  switch (type) {
    case undefined:
    case 'opaque':
      return Buffer.from(buf.subarray(start, end));
    case 'string':
    case 'corelnk':
      try {
        return utf8.decode(buf.subarray(start, end));
      } catch (e) {
        throw new DecodeError(format, `${path}: string is not valid UTF-8`, { cause: e });
      }
    case 'integer':
      if (len < 1 || len > 8) return fail(`${len} bytes; expected 1, 2, 4 or 8`);
      return readSigned(buf, start, len);
    case 'unsigned':
      if (len < 1 || len > 8) return fail(`${len} bytes; expected 1, 2, 4 or 8`);
      return readUnsigned(buf, start, len);
    case 'time': {
      if (len < 1 || len > 8) return fail(`${len} bytes; expected 1, 2, 4 or 8`);
      return secondsToDate(readSigned(buf, start, len)) ?? fail('out of range');
    }
    case 'float':
      if (len === 4) return buf.readFloatBE(start);
      if (len === 8) return buf.readDoubleBE(start);
      return fail(`${len} bytes; expected 4 or 8`);
    case 'boolean':
      if (len !== 1) return fail(`${len} bytes; expected 1`);
      if (buf[start] > 1) return fail(`byte ${buf[start]}; expected 0 or 1`);
      return buf[start] === 1;
    case 'objlnk':
      if (len !== 4) return fail(`${len} bytes; expected 4`);
      return { objectId: buf.readUInt16BE(start), instanceId: buf.readUInt16BE(start + 2) };
    case 'none':
      return fail('executable resources carry no value');
    default:
      return fail('unknown type');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

class TlvDecoder {
  readonly out: Lwm2mRecord[] = [];
  constructor(readonly buf: Buffer, readonly opts: CodecOptions, readonly format: number) {}

  fail(at: number, why: string): never {
    throw new DecodeError(this.format, `${why} (at byte ${at})`);
  }

  /**
   * Walks the entries in [start, end) under `base` (the path the enclosing entry or the request names).
   * `parent` is the kind of the enclosing entry, or -1 at the top level.
   */
  entries(start: number, end: number, base: readonly number[], parent: number): void {
    const buf = this.buf;
    let i = start;
    while (i < end) {
      const at = i;
      const t = buf[i++];
      const kind = (t >> 6) as Kind;
      const idLen = t & 0x20 ? 2 : 1;
      const lenType = (t >> 3) & 3;
      if (i + idLen + lenType > end) this.fail(at, `truncated ${KIND_NAMES[kind]} header`);
      const id = idLen === 2 ? buf.readUInt16BE(i) : buf[i];
      i += idLen;
      let len: number;
      switch (lenType) {
        case 0: len = t & 7; break;
        case 1: len = buf[i]; break;
        case 2: len = buf.readUInt16BE(i); break;
        default: len = buf.readUIntBE(i, 3); break;
      }
      i += lenType;
      if (len > end - i) this.fail(at, `${KIND_NAMES[kind]} ${id} announces ${len} bytes, only ${end - i} left`);
      this.entry(kind, id, i, i + len, base, parent, at);
      i += len;
    }
  }

  private entry(kind: Kind, id: number, start: number, end: number, base: readonly number[], parent: number, at: number): void {
    // Nesting rules: object instance > (multiple) resource; multiple resource > resource instance.
    if (parent === TlvType.OBJECT_INSTANCE && kind !== TlvType.RESOURCE && kind !== TlvType.MULTIPLE_RESOURCE) {
      this.fail(at, `${KIND_NAMES[kind]} inside an object instance`);
    }
    if (parent === TlvType.MULTIPLE_RESOURCE && kind !== TlvType.RESOURCE_INSTANCE) {
      this.fail(at, `${KIND_NAMES[kind]} inside a multiple resource`);
    }
    const level = KIND_LEVEL[kind];
    let path: number[];
    if (base.length === level - 1) {
      path = [...base, id];
    } else if (base.length >= level) {
      // The entry restates a segment the request path already names (e.g. an object-instance wrapper around the
      // resources of a Read on /3/0, or the resource TLV of a Read on /3/0/7): its id must match.
      if (base[level - 1] !== id) {
        this.fail(at, `${KIND_NAMES[kind]} ${id} does not match the target path /${base.join('/')}`);
      }
      if (kind === TlvType.RESOURCE && base.length === 4) this.fail(at, `resource ${id} given for a resource-instance path`);
      path = base.slice();
    } else if (base.length === 1 && level === 3 && parent === -1) {
      // Resources right under an object path, without the object-instance entry: some single-instance clients answer
      // a Read on /O like this. They belong to instance 0.
      path = [base[0], 0, id];
    } else if (base.length === 0) {
      this.fail(at, 'TLV carries no object id: a TLV payload needs at least an object path');
    } else {
      this.fail(at, `${KIND_NAMES[kind]} ${id} cannot appear under /${base.join('/')}`);
    }
    if (kind === TlvType.OBJECT_INSTANCE || kind === TlvType.MULTIPLE_RESOURCE) {
      if (kind === TlvType.MULTIPLE_RESOURCE && start === end) {
        // An empty multiple resource: a resource with no instances. Reported as a path-only record.
        if (path.length !== 3) this.fail(at, `empty multiple resource ${id} given for a resource-instance path`);
        this.out.push({ path: this.makePath(path, at) });
        return;
      }
      this.entries(start, end, path, kind);
      return;
    }
    const p = this.makePath(path, at);
    const type = resourceTypeOf(this.opts.registry, p);
    let value: Lwm2mValue;
    try {
      value = decodeTlvValue(this.buf, start, end, type, p, this.format);
    } catch (e) {
      // The entry's bounds are sound (checked above), so a bad value skips just this resource when decoding leniently.
      if (skipUndecoded(this.opts, p, e)) return;
      throw e;
    }
    this.out.push({ path: p, value });
  }

  private makePath(ids: number[], at: number): Lwm2mPath {
    if (ids[1] === 65535) this.fail(at, 'object instance id 65535 is reserved');
    return new Lwm2mPath(ids);
  }
}

/** Decodes a TLV payload for the request path into records with absolute paths. Throws DecodeError only. */
export function decodeTlv(payload: Buffer, opts: CodecOptions, format: number = ContentFormat.TLV): Lwm2mRecord[] {
  const d = new TlvDecoder(payload, opts, format);
  try {
    d.entries(0, payload.length, opts.path.segments, -1);
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError(format, e instanceof Error ? e.message : String(e), { cause: e });
  }
  return d.out;
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

interface Node {
  kind: Kind;
  id: number;
  value?: Buffer;
  children?: Node[];
  /** Length of the value or of the encoded children. */
  len: number;
}

function headerSize(n: Node): number {
  return 1 + (n.id > 0xff ? 2 : 1) + (n.len < 8 ? 0 : n.len <= 0xff ? 1 : n.len <= 0xffff ? 2 : 3);
}

function measure(n: Node, format: number): number {
  if (n.children !== undefined) {
    let len = 0;
    for (const c of n.children) len += measure(c, format);
    n.len = len;
  } else {
    n.len = n.value === undefined ? 0 : n.value.length;
  }
  if (n.len > MAX_TLV_LENGTH) throw new EncodeError(format, `${KIND_NAMES[n.kind]} ${n.id} is longer than 16 MiB`);
  return headerSize(n) + n.len;
}

function write(n: Node, out: Buffer, pos: number): number {
  const wide = n.id > 0xff;
  const lenType = n.len < 8 ? 0 : n.len <= 0xff ? 1 : n.len <= 0xffff ? 2 : 3;
  out[pos++] = (n.kind << 6) | (wide ? 0x20 : 0) | (lenType << 3) | (lenType === 0 ? n.len : 0);
  if (wide) { out.writeUInt16BE(n.id, pos); pos += 2; } else out[pos++] = n.id;
  if (lenType > 0) { out.writeUIntBE(n.len, pos, lenType); pos += lenType; }
  if (n.children !== undefined) {
    for (const c of n.children) pos = write(c, out, pos);
  } else if (n.value !== undefined) {
    n.value.copy(out, pos);
    pos += n.value.length;
  }
  return pos;
}

/** Encodes records (paths at or below `opts.path`) as TLV shaped for the request path. Throws EncodeError only. */
export function encodeTlv(records: readonly Lwm2mRecord[], opts: CodecOptions, format: number = ContentFormat.TLV): Buffer {
  const target = opts.path;
  if (target.length === 0) throw new EncodeError(format, 'TLV carries no object id: a TLV payload needs at least an object path');
  const sorted = records.map((r) => {
    if (!(r.path instanceof Lwm2mPath)) throw new EncodeError(format, 'record path is not an Lwm2mPath');
    if (r.path.length < 3) throw new EncodeError(format, `${r.path}: TLV records need resource or resource-instance paths`);
    if (!target.contains(r.path)) throw new EncodeError(format, `${r.path} is not below the target ${target}`);
    return r;
  }).sort((a, b) => Lwm2mPath.compare(a.path, b.path));

  // Build the tree: instances > resources > resource instances.
  const instances: Node[] = [];
  let inst: Node | undefined;
  let res: Node | undefined;
  let prev: Lwm2mPath | undefined;
  for (const r of sorted) {
    const p = r.path;
    if (prev !== undefined && prev.equals(p)) throw new EncodeError(format, `${p} appears twice`);
    if (prev !== undefined && prev.length === 3 && prev.contains(p) && res?.kind === TlvType.RESOURCE) {
      throw new EncodeError(format, `${prev} has a single value and resource instances`);
    }
    prev = p;
    const i = p.instanceId as number;
    const rid = p.resourceId as number;
    if (inst === undefined || inst.id !== i) {
      inst = { kind: TlvType.OBJECT_INSTANCE, id: i, children: [], len: 0 };
      instances.push(inst);
      res = undefined;
    }
    const type = resourceTypeOf(opts.registry, p);
    if (p.length === 4) {
      if (res === undefined || res.id !== rid) {
        res = { kind: TlvType.MULTIPLE_RESOURCE, id: rid, children: [], len: 0 };
        inst.children!.push(res);
      }
      if (r.value === undefined) throw new EncodeError(format, `${p}: no value`);
      res.children!.push({ kind: TlvType.RESOURCE_INSTANCE, id: p.resourceInstanceId as number,
        value: encodeTlvValue(r.value, type, p, format), len: 0 });
      continue;
    }
    const multiple = isMultipleResource(opts.registry, p);
    if (multiple) {
      if (r.value !== undefined) {
        throw new EncodeError(format, `${p} is a multiple resource: give its values as resource-instance records`);
      }
      res = { kind: TlvType.MULTIPLE_RESOURCE, id: rid, children: [], len: 0 };
    } else {
      if (r.value === undefined) throw new EncodeError(format, `${p}: no value`);
      res = { kind: TlvType.RESOURCE, id: rid, value: encodeTlvValue(r.value, type, p, format), len: 0 };
    }
    inst.children!.push(res);
  }

  // Shape for the request path (Core 7.4.3): /O -> object instances, /O/I -> resources, /O/I/R -> the resource,
  // /O/I/R/RI -> the resource instance.
  let top: Node[];
  switch (target.length) {
    case 1: top = instances; break;
    case 2: top = instances.flatMap((n) => n.children!); break;
    case 3: top = instances.flatMap((n) => n.children!); break;
    default: top = instances.flatMap((n) => n.children!).flatMap((n) => n.children ?? [n]); break;
  }
  let size = 0;
  for (const n of top) size += measure(n, format);
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const n of top) pos = write(n, out, pos);
  return out;
}

function makeCodec(format: number, name: string): Codec {
  return {
    format,
    name,
    multiPath: false,
    singleValue: false,
    encode: (records, opts) => encodeTlv(records, opts, format),
    decode: (payload, opts) => decodeTlv(payload, opts, format),
  };
}

export const tlvCodec: Codec = makeCodec(ContentFormat.TLV, 'application/vnd.oma.lwm2m+tlv');
/** The pre-registration number (1542) LwM2M 1.0 devices may still use; same format. */
export const oldTlvCodec: Codec = makeCodec(ContentFormat.OLD_TLV, 'application/vnd.oma.lwm2m+tlv (old)');
