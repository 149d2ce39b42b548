/**
 * A small, bounded CBOR reader and writer (RFC 8949) for the SenML CBOR (112) and LwM2M CBOR (11544) codecs.
 *
 * Why not cbor-x here: these two formats need integer map keys kept as keys (not stringified), array keys (LwM2M CBOR
 * path prefixes), indefinite-length items, half floats, and hard limits on hostile input (nesting depth, declared
 * lengths larger than the payload) that fail fast with a {@link DecodeError} instead of a RangeError or a huge
 * allocation. Every declared length is checked against the bytes left before anything is allocated, and nesting is
 * bounded, so decoding is linear in the payload size.
 */
import { DecodeError, EncodeError } from '../errors';

/** A CBOR map, entries kept in wire order (keys may be integers, strings, arrays...). */
export class CborMap {
  constructor(readonly entries: Array<[CborItem, CborItem]>) {}
}

/** A tagged item (RFC 8949 3.4), e.g. tag 1 epoch time. */
export class CborTag {
  constructor(readonly tag: number, readonly value: CborItem) {}
}

/** A decoded CBOR data item. Integers are numbers, or bigints beyond 2^53. Byte strings are (copied) Buffers. */
export type CborItem = number | bigint | string | boolean | null | undefined | Buffer | CborItem[] | CborMap | CborTag;

/** Default maximum nesting depth: LwM2M payloads need at most ~8 levels (array > map > array key...). */
export const DEFAULT_MAX_DEPTH = 16;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const BREAK = Symbol('break');

/** Reads one complete CBOR item from `buf` (the whole buffer must be consumed). Throws DecodeError(format). */
export function decodeCbor(buf: Buffer, format: number, maxDepth = DEFAULT_MAX_DEPTH): CborItem {
  const r = new Reader(buf, format, maxDepth);
  const item = r.item(0);
  if (item === BREAK) r.fail('unexpected "break" byte');
  if (r.pos !== buf.length) r.fail(`${buf.length - r.pos} trailing byte(s) after the CBOR item`);
  return item as CborItem;
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer, private readonly format: number, private readonly maxDepth: number) {}

  fail(reason: string): never {
    throw new DecodeError(this.format, `CBOR: ${reason} (at byte ${this.pos})`);
  }

  private need(n: number): void {
    if (n > this.buf.length - this.pos) this.fail(`truncated: ${n} byte(s) needed, ${this.buf.length - this.pos} left`);
  }

  /** The argument of an initial byte: a number (or bigint for 64-bit values beyond 2^53); -1 for indefinite. */
  private argument(info: number): number | bigint {
    if (info < 24) return info;
    const b = this.buf;
    switch (info) {
      case 24: this.need(1); return b[this.pos++];
      case 25: { this.need(2); const v = b.readUInt16BE(this.pos); this.pos += 2; return v; }
      case 26: { this.need(4); const v = b.readUInt32BE(this.pos); this.pos += 4; return v; }
      case 27: {
        this.need(8);
        const v = b.readBigUInt64BE(this.pos);
        this.pos += 8;
        return v <= MAX_SAFE ? Number(v) : v;
      }
      case 31: return -1;
      default: return this.fail(`reserved additional information ${info}`);
    }
  }

  /** A length (strings, arrays, maps): must fit in the remaining bytes times `unit` bytes per element. */
  private length(arg: number | bigint, unit: number): number {
    const left = this.buf.length - this.pos;
    if (typeof arg === 'bigint' || arg * unit > left) {
      this.fail(`declared length ${arg} exceeds the ${left} byte(s) left`);
    }
    return arg as number;
  }

  item(depth: number): CborItem | typeof BREAK {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    this.need(1);
    const ib = this.buf[this.pos++];
    const major = ib >> 5;
    const info = ib & 0x1f;
    switch (major) {
      case 0: {
        if (info === 31) this.fail('indefinite length on an integer');
        return this.argument(info);
      }
      case 1: {
        if (info === 31) this.fail('indefinite length on an integer');
        const a = this.argument(info);
        if (typeof a === 'number') {
          const v = -1 - a;
          return Number.isSafeInteger(v) ? v : -1n - BigInt(a);
        }
        const v = -1n - a;
        return v >= -MAX_SAFE ? Number(v) : v;
      }
      case 2:
      case 3: {
        const a = this.argument(info);
        let bytes: Buffer;
        if (a === -1) {
          const chunks: Buffer[] = [];
          for (;;) {
            this.need(1);
            if (this.buf[this.pos] === 0xff) { this.pos++; break; }
            const cb = this.buf[this.pos++];
            if (cb >> 5 !== major || (cb & 0x1f) === 31) this.fail('indefinite string chunk of the wrong type');
            const n = this.length(this.argument(cb & 0x1f), 1);
            chunks.push(this.buf.subarray(this.pos, this.pos + n));
            this.pos += n;
          }
          bytes = Buffer.concat(chunks);
        } else {
          const n = this.length(a, 1);
          const start = this.pos;
          this.pos += n;
          if (major === 3) {
            // Text straight from the input: no intermediate Buffer view for the (usual) ASCII case.
            const b = this.buf;
            let k = start;
            while (k < start + n && b[k] <= 0x7f) k++;
            if (k === start + n) return latin1Text(b, start, start + n);
          }
          bytes = this.buf.subarray(start, start + n);
        }
        if (major === 2) return Buffer.from(bytes);
        let ascii = true;
        for (let i = 0; i < bytes.length; i++) if (bytes[i] > 0x7f) { ascii = false; break; }
        if (ascii) return bytes.toString('latin1');
        try {
          return utf8.decode(bytes);
        } catch {
          return this.fail('text string is not valid UTF-8');
        }
      }
      case 4: {
        const a = this.argument(info);
        const out: CborItem[] = [];
        if (a === -1) {
          for (;;) {
            const v = this.item(depth + 1);
            if (v === BREAK) break;
            out.push(v);
          }
        } else {
          const n = this.length(a, 1);
          for (let i = 0; i < n; i++) {
            const v = this.item(depth + 1);
            if (v === BREAK) this.fail('unexpected "break" in a definite-length array');
            out.push(v);
          }
        }
        return out;
      }
      case 5: {
        const a = this.argument(info);
        const entries: Array<[CborItem, CborItem]> = [];
        if (a === -1) {
          for (;;) {
            const k = this.item(depth + 1);
            if (k === BREAK) break;
            const v = this.item(depth + 1);
            if (v === BREAK) this.fail('map key without a value');
            entries.push([k, v]);
          }
        } else {
          const n = this.length(a, 2);
          for (let i = 0; i < n; i++) {
            const k = this.item(depth + 1);
            const v = k === BREAK ? k : this.item(depth + 1);
            if (k === BREAK || v === BREAK) this.fail('unexpected "break" in a definite-length map');
            entries.push([k as CborItem, v as CborItem]);
          }
        }
        return new CborMap(entries);
      }
      case 6: {
        if (info === 31) this.fail('indefinite length on a tag');
        const tag = this.argument(info);
        if (typeof tag === 'bigint') this.fail('tag number too large');
        const v = this.item(depth + 1);
        if (v === BREAK) this.fail('tag without content');
        return new CborTag(tag as number, v as CborItem);
      }
      default: { // major 7
        switch (info) {
          case 20: return false;
          case 21: return true;
          case 22: return null;
          case 23: return undefined;
          case 25: { this.need(2); const v = halfToNumber(this.buf.readUInt16BE(this.pos)); this.pos += 2; return v; }
          case 26: { this.need(4); const v = this.buf.readFloatBE(this.pos); this.pos += 4; return v; }
          case 27: { this.need(8); const v = this.buf.readDoubleBE(this.pos); this.pos += 8; return v; }
          case 31: return BREAK;
          default: return this.fail(`unsupported simple value ${info === 24 ? this.buf[this.pos] : info}`);
        }
      }
    }
  }
}

/**
 * Bytes start..end as a latin1 (here: ASCII) string. Short strings (names like "6/1") are built in JS, which is about
 * twice as fast as the native call below 9 characters; longer ones through Buffer#toString.
 */
export function latin1Text(b: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n > 8) return b.toString('latin1', start, end);
  let s = '';
  for (let k = start; k < end; k++) s += String.fromCharCode(b[k]);
  return s;
}

/** IEEE 754 binary16 -> number (RFC 8949 Appendix D). */
export function halfToNumber(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  let v: number;
  if (exp === 0) v = mant * 2 ** -24;
  else if (exp !== 31) v = (mant + 1024) * 2 ** (exp - 25);
  else v = mant === 0 ? Infinity : NaN;
  return h & 0x8000 ? -v : v;
}

/** number -> IEEE 754 binary16 bits when the conversion is exact (NaN, infinities, -0 included); else undefined. */
export function numberToHalf(v: number): number | undefined {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  if (a === 0) return sign;
  if (a < 2 ** -24 || a > 65504) return undefined;
  let h: number;
  if (a < 2 ** -14) {
    // Subnormal: a = m * 2^-24, m < 1024.
    const m = a * 2 ** 24;
    if (!Number.isInteger(m)) return undefined;
    h = m;
  } else {
    const e = Math.floor(Math.log2(a));
    // Math.log2 may be off by one ulp near powers of two: fix the exponent so 1 <= a / 2^e < 2.
    const exp = a / 2 ** e >= 2 ? e + 1 : a / 2 ** e < 1 ? e - 1 : e;
    const m = (a / 2 ** exp - 1) * 1024;
    if (!Number.isInteger(m)) return undefined;
    h = ((exp + 15) << 10) | m;
  }
  return halfToNumber(sign | h) === v ? sign | h : undefined;
}

/**
 * Numeric value of an item: plain numbers, bignums (tags 2/3), decimal fractions (tag 4) and bigfloats (tag 5);
 * undefined when the item is not a number. Other tags are not unwrapped.
 */
export function cborNumber(item: CborItem): number | bigint | undefined {
  if (typeof item === 'number' || typeof item === 'bigint') return item;
  if (!(item instanceof CborTag)) return undefined;
  const v = item.value;
  if ((item.tag === 2 || item.tag === 3) && Buffer.isBuffer(v)) {
    if (v.length > 16) return undefined;
    let n = 0n;
    for (const b of v) n = (n << 8n) | BigInt(b);
    if (item.tag === 3) n = -1n - n;
    return n >= -MAX_SAFE && n <= MAX_SAFE ? Number(n) : n;
  }
  if ((item.tag === 4 || item.tag === 5) && Array.isArray(v) && v.length === 2) {
    const e = v[0];
    const m = cborNumber(v[1]);
    if (typeof e !== 'number' || !Number.isInteger(e) || Math.abs(e) > 400 || m === undefined) return undefined;
    const r = Number(m) * (item.tag === 4 ? 10 : 2) ** e;
    return Number.isFinite(r) ? r : undefined;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------------
// Writer

const INITIAL = 512;
/** Scratch buffer shared by encoders (JS is single-threaded and encoders never yield): one copy-out per payload. */
let scratch = Buffer.allocUnsafe(INITIAL);

/** Appends CBOR items to a growable buffer; `finish()` returns an exact-size copy. */
export class CborWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(private readonly format: number) {
    this.buf = scratch;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    if (size <= 1 << 20) scratch = next; // keep a bigger scratch for next time, but not a huge one
  }

  private head(major: number, arg: number | bigint): void {
    const m = major << 5;
    if (typeof arg === 'bigint') {
      if (arg < 0n || arg > 0xffffffffffffffffn) throw new EncodeError(this.format, `integer ${arg} beyond 64 bits`);
      if (arg <= MAX_SAFE) { this.head(major, Number(arg)); return; }
      this.ensure(9);
      this.buf[this.pos++] = m | 27;
      this.buf.writeBigUInt64BE(arg, this.pos);
      this.pos += 8;
      return;
    }
    if (arg < 24) { this.ensure(1); this.buf[this.pos++] = m | arg; }
    else if (arg < 0x100) { this.ensure(2); this.buf[this.pos++] = m | 24; this.buf[this.pos++] = arg; }
    else if (arg < 0x10000) { this.ensure(3); this.buf[this.pos++] = m | 25; this.buf.writeUInt16BE(arg, this.pos); this.pos += 2; }
    else if (arg < 0x100000000) { this.ensure(5); this.buf[this.pos++] = m | 26; this.buf.writeUInt32BE(arg, this.pos); this.pos += 4; }
    else {
      this.ensure(9);
      this.buf[this.pos++] = m | 27;
      this.buf.writeBigUInt64BE(BigInt(arg), this.pos);
      this.pos += 8;
    }
  }

  /** An integer (major type 0 or 1). */
  int(v: number | bigint): this {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) {
        if (!Number.isInteger(v)) throw new EncodeError(this.format, `${v} is not an integer`);
        v = BigInt(v);
      } else {
        if (v >= 0) this.head(0, v); else this.head(1, -1 - v);
        return this;
      }
    }
    if (v >= 0n) this.head(0, v); else this.head(1, -1n - v);
    return this;
  }

  /** A float: binary32 when exact (RFC 8949 4.1 preferred serialization for non-half values), else binary64. */
  float(v: number): this {
    if (Number.isNaN(v)) { this.ensure(3); this.buf[this.pos++] = 0xf9; this.buf.writeUInt16BE(0x7e00, this.pos); this.pos += 2; return this; }
    if (Math.fround(v) === v) {
      this.ensure(5); this.buf[this.pos++] = 0xfa; this.buf.writeFloatBE(v, this.pos); this.pos += 4;
    } else {
      this.ensure(9); this.buf[this.pos++] = 0xfb; this.buf.writeDoubleBE(v, this.pos); this.pos += 8;
    }
    return this;
  }

  /**
   * The shortest float that holds `v` exactly (RFC 8949 4.1 preferred serialization): binary16, binary32 or binary64.
   * For Float resources in SenML CBOR / LwM2M CBOR (a whole 33.0 stays a float: f9 5020).
   */
  shortestFloat(v: number): this {
    const h = numberToHalf(v);
    if (h !== undefined) { this.ensure(3); this.buf[this.pos++] = 0xf9; this.buf.writeUInt16BE(h, this.pos); this.pos += 2; return this; }
    return this.float(v);
  }

  /** A number: integer encoding for integral values unless `asFloat`. */
  number(v: number | bigint, asFloat = false): this {
    if (typeof v === 'bigint') return asFloat ? this.float(Number(v)) : this.int(v);
    if (!asFloat && Number.isInteger(v) && Number.isSafeInteger(v)) return this.int(v);
    return this.float(v);
  }

  text(s: string): this {
    const n = Buffer.byteLength(s, 'utf8');
    this.head(3, n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    return this;
  }

  bytes(b: Buffer): this {
    this.head(2, b.length);
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
    return this;
  }

  bool(v: boolean): this { this.ensure(1); this.buf[this.pos++] = v ? 0xf5 : 0xf4; return this; }
  nul(): this { this.ensure(1); this.buf[this.pos++] = 0xf6; return this; }
  array(n: number): this { this.head(4, n); return this; }
  map(n: number): this { this.head(5, n); return this; }
  tag(t: number): this { this.head(6, t); return this; }

  /** An exact-size copy of what was written. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
