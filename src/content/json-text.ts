/**
 * JSON text in and out for the JSON-based formats (SenML JSON 110, LwM2M JSON 11543).
 *
 * Parsing: strict UTF-8 (RFC 8259 8.1), then `JSON.parse` (native, iterative: no stack overflow on deep nesting) for
 * the common case. JSON numbers are IEEE doubles in JS, so integers beyond 2^53 would silently lose precision: when the
 * text holds a run of 16 or more digits, a small bounded parser runs instead that returns integer literals beyond
 * 2^53 as bigint (e.g. an Unsigned Integer 18446744073709551615). Both paths throw only {@link DecodeError}.
 */
import { DecodeError, EncodeError } from '../errors';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const LONG_DIGITS = /\d{16}/;
/** Nesting limit of the careful parser (SenML needs 2 levels, LwM2M JSON 3). */
const MAX_DEPTH = 64;

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [k: string]: JsonValue };

/** Decodes UTF-8 strictly (invalid sequences -> DecodeError); a leading BOM is dropped. */
export function utf8Text(payload: Buffer, format: number): string {
  try {
    return utf8.decode(payload);
  } catch {
    throw new DecodeError(format, 'payload is not valid UTF-8');
  }
}

/** Parses JSON text; integers beyond 2^53 come back as bigint. Throws DecodeError(format). */
export function parseJson(text: string, format: number): JsonValue {
  if (!LONG_DIGITS.test(text)) {
    try {
      return JSON.parse(text) as JsonValue;
    } catch (e) {
      throw new DecodeError(format, `invalid JSON: ${(e as Error).message}`);
    }
  }
  return new CarefulParser(text, format).document();
}

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class CarefulParser {
  private pos = 0;
  constructor(private readonly s: string, private readonly format: number) {}

  private fail(reason: string): never {
    throw new DecodeError(this.format, `invalid JSON: ${reason} at position ${this.pos}`);
  }

  private ws(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  document(): JsonValue {
    this.ws();
    const v = this.value(0);
    this.ws();
    if (this.pos !== this.s.length) this.fail('unexpected trailing characters');
    return v;
  }

  private value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    const s = this.s;
    const c = s[this.pos];
    switch (c) {
      case '{': {
        this.pos++;
        const obj: { [k: string]: JsonValue } = {};
        this.ws();
        if (s[this.pos] === '}') { this.pos++; return obj; }
        for (;;) {
          this.ws();
          if (s[this.pos] !== '"') this.fail('expected a string key');
          const k = this.string();
          this.ws();
          if (s[this.pos] !== ':') this.fail('expected ":"');
          this.pos++;
          this.ws();
          const v = this.value(depth + 1);
          Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
          this.ws();
          if (s[this.pos] === ',') { this.pos++; continue; }
          if (s[this.pos] === '}') { this.pos++; return obj; }
          this.fail('expected "," or "}"');
        }
      }
      // eslint-disable-next-line no-fallthrough
      case '[': {
        this.pos++;
        const arr: JsonValue[] = [];
        this.ws();
        if (s[this.pos] === ']') { this.pos++; return arr; }
        for (;;) {
          this.ws();
          arr.push(this.value(depth + 1));
          this.ws();
          if (s[this.pos] === ',') { this.pos++; continue; }
          if (s[this.pos] === ']') { this.pos++; return arr; }
          this.fail('expected "," or "]"');
        }
      }
      // eslint-disable-next-line no-fallthrough
      case '"': return this.string();
      case 't': return this.literal('true', true);
      case 'f': return this.literal('false', false);
      case 'n': return this.literal('null', null);
      default: return this.number();
    }
  }

  private literal<T extends JsonValue>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.pos)) this.fail('unexpected token');
    this.pos += word.length;
    return v;
  }

  private string(): string {
    const s = this.s;
    const start = this.pos;
    let escaped = false;
    this.pos++;
    for (;;) {
      if (this.pos >= s.length) this.fail('unterminated string');
      const c = s.charCodeAt(this.pos);
      if (c === 0x22) break;
      if (c < 0x20) this.fail('control character in a string');
      if (c === 0x5c) { escaped = true; this.pos += 2; continue; }
      this.pos++;
    }
    this.pos++;
    if (!escaped) return s.slice(start + 1, this.pos - 1);
    try {
      return JSON.parse(s.slice(start, this.pos)) as string;
    } catch {
      return this.fail('bad escape in a string');
    }
  }

  private number(): number | bigint {
    NUMBER_RE.lastIndex = this.pos;
    const m = NUMBER_RE.exec(this.s);
    if (m === null || m[0] === '' || m[0] === '-') this.fail('unexpected token');
    const lit = m[0];
    this.pos += lit.length;
    if (/^-?\d+$/.test(lit) && lit.length > 15) {
      const b = BigInt(lit);
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
    }
    return Number(lit);
  }
}

/** A JSON number literal for a finite number or bigint (NaN and infinities have none: EncodeError). */
export function jsonNumber(v: number | bigint, format: number, what: string): string {
  if (typeof v === 'bigint') return v.toString();
  if (!Number.isFinite(v)) throw new EncodeError(format, `${what}: ${v} cannot be represented in JSON`);
  return String(v);
}

/** True for a non-null, non-array object (a JSON object). */
export function isJsonObject(v: unknown): v is { [k: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
