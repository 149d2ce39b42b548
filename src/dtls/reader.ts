import { DtlsDecodeError } from './errors';

/**
 * A bounds-checked cursor over a buffer, for handshake messages. Every read past `end` throws {@link DtlsDecodeError}:
 * lengths come from the peer and are never trusted.
 */
export class Reader {
  private pos: number;
  constructor(private readonly buf: Buffer, private readonly what: string, start = 0, private readonly end = buf.length) {
    this.pos = start;
  }

  get offset(): number { return this.pos; }
  get remaining(): number { return this.end - this.pos; }

  private need(n: number): void {
    if (n > this.end - this.pos) throw new DtlsDecodeError(this.what, `truncated at byte ${this.pos}`);
  }

  u8(): number { this.need(1); return this.buf[this.pos++]; }
  u16(): number { this.need(2); const v = this.buf.readUInt16BE(this.pos); this.pos += 2; return v; }
  u24(): number { this.need(3); const v = this.buf.readUIntBE(this.pos, 3); this.pos += 3; return v; }
  bytes(n: number): Buffer { this.need(n); const v = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return v; }
  /** opaque<min..2^8-1> */
  vec8(min = 0, max = 255): Buffer { return this.checked(this.u8(), min, max); }
  /** opaque<min..2^16-1> */
  vec16(min = 0, max = 65535): Buffer { return this.checked(this.u16(), min, max); }
  skip(n: number): void { this.need(n); this.pos += n; }

  private checked(len: number, min: number, max: number): Buffer {
    if (len < min || len > max) throw new DtlsDecodeError(this.what, `vector length ${len} outside ${min}..${max}`);
    return this.bytes(len);
  }

  /** Throws unless every byte was consumed. */
  done(): void {
    if (this.pos !== this.end) throw new DtlsDecodeError(this.what, `${this.end - this.pos} trailing bytes`);
  }
}
