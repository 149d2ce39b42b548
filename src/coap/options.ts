/**
 * Reading the options of a received message into a typed view (RFC 7252 5.4, 5.10; RFC 7641; RFC 7959), and building
 * the options of messages we send.
 */
import { CoapMessageError } from './errors';
import { CoapOption, decodeUint, encodeUint, Opt } from './message';

/** A Block1/Block2 option value (RFC 7959 2.2): block number, more flag, size exponent (size = 2^(szx+4)). */
export interface BlockOption {
  num: number;
  more: boolean;
  szx: number;
}

export interface MessageOptions {
  uriPath: string[];
  uriQuery: string[];
  locationPath: string[];
  contentFormat?: number;
  accept?: number;
  observe?: number;
  maxAge?: number;
  etag?: Buffer;
  block1?: BlockOption;
  block2?: BlockOption;
  size1?: number;
  size2?: number;
  /** Proxy-Uri or Proxy-Scheme present (we are no proxy: 5.05, RFC 7252 5.7.2). */
  proxy: boolean;
  /**
   * Number of the first critical option we do not recognize or whose value we must treat as unrecognized (wrong length,
   * a non-repeatable option repeated, RFC 7252 5.4.1, 5.4.3, 5.4.5); -1 when none.
   */
  badCritical: number;
}

const enum Fmt {
  Uint,
  String,
  Opaque,
  Empty,
}

interface OptionRule {
  fmt: Fmt;
  min: number;
  max: number;
  repeatable: boolean;
}

/**
 * Options we recognize, with RFC 7252 5.10 lengths. Critical options missing here (If-Match, If-None-Match, OSCORE,
 * Q-Block1/2, ...) are answered 4.02: we cannot honour them.
 */
const RULES: Record<number, OptionRule> = {
  [Opt.URI_HOST]: { fmt: Fmt.String, min: 1, max: 255, repeatable: false },
  [Opt.ETAG]: { fmt: Fmt.Opaque, min: 1, max: 8, repeatable: true },
  [Opt.OBSERVE]: { fmt: Fmt.Uint, min: 0, max: 3, repeatable: false },
  [Opt.URI_PORT]: { fmt: Fmt.Uint, min: 0, max: 2, repeatable: false },
  [Opt.LOCATION_PATH]: { fmt: Fmt.String, min: 0, max: 255, repeatable: true },
  [Opt.URI_PATH]: { fmt: Fmt.String, min: 0, max: 255, repeatable: true },
  [Opt.CONTENT_FORMAT]: { fmt: Fmt.Uint, min: 0, max: 2, repeatable: false },
  [Opt.MAX_AGE]: { fmt: Fmt.Uint, min: 0, max: 4, repeatable: false },
  [Opt.URI_QUERY]: { fmt: Fmt.String, min: 0, max: 255, repeatable: true },
  [Opt.ACCEPT]: { fmt: Fmt.Uint, min: 0, max: 2, repeatable: false },
  [Opt.LOCATION_QUERY]: { fmt: Fmt.String, min: 0, max: 255, repeatable: true },
  [Opt.BLOCK2]: { fmt: Fmt.Uint, min: 0, max: 3, repeatable: false },
  [Opt.BLOCK1]: { fmt: Fmt.Uint, min: 0, max: 3, repeatable: false },
  [Opt.SIZE2]: { fmt: Fmt.Uint, min: 0, max: 4, repeatable: false },
  [Opt.PROXY_URI]: { fmt: Fmt.String, min: 1, max: 1034, repeatable: false },
  [Opt.PROXY_SCHEME]: { fmt: Fmt.String, min: 1, max: 255, repeatable: false },
  [Opt.SIZE1]: { fmt: Fmt.Uint, min: 0, max: 4, repeatable: false },
  [Opt.NO_RESPONSE]: { fmt: Fmt.Uint, min: 0, max: 1, repeatable: false },
};

/** Reads a message's options. Never throws: problems end up in `badCritical` or are ignored (elective options). */
export function readOptions(options: readonly CoapOption[]): MessageOptions {
  const out: MessageOptions = { uriPath: [], uriQuery: [], locationPath: [], proxy: false, badCritical: -1 };
  let prev = -1;
  for (let i = 0; i < options.length; i++) {
    const { number, value } = options[i];
    const critical = (number & 1) === 1;
    const rule = RULES[number];
    const repeated = number === prev;
    prev = number;
    if (!rule || value.length < rule.min || value.length > rule.max || (repeated && !rule.repeatable)) {
      // RFC 7252 5.4.1/5.4.3/5.4.5: treat as unrecognized. Elective: ignore. Critical: the caller rejects the message.
      if (critical && out.badCritical < 0) out.badCritical = number;
      continue;
    }
    switch (number) {
      case Opt.URI_PATH:
        out.uriPath.push(value.toString('utf8'));
        break;
      case Opt.URI_QUERY:
        out.uriQuery.push(value.toString('utf8'));
        break;
      case Opt.LOCATION_PATH:
        out.locationPath.push(value.toString('utf8'));
        break;
      case Opt.CONTENT_FORMAT:
        out.contentFormat = decodeUint(value);
        break;
      case Opt.ACCEPT:
        out.accept = decodeUint(value);
        break;
      case Opt.OBSERVE:
        out.observe = decodeUint(value);
        break;
      case Opt.MAX_AGE:
        out.maxAge = decodeUint(value);
        break;
      case Opt.ETAG:
        if (!repeated) out.etag = value;
        break;
      case Opt.BLOCK1:
        out.block1 = decodeBlock(value);
        break;
      case Opt.BLOCK2:
        out.block2 = decodeBlock(value);
        break;
      case Opt.SIZE1:
        out.size1 = decodeUint(value);
        break;
      case Opt.SIZE2:
        out.size2 = decodeUint(value);
        break;
      case Opt.PROXY_URI:
      case Opt.PROXY_SCHEME:
        out.proxy = true;
        break;
      default:
        // Uri-Host, Uri-Port (we are the addressed endpoint), No-Response (elective, not implemented): accepted, unused.
        break;
    }
  }
  return out;
}

export function decodeBlock(value: Buffer): BlockOption {
  const v = decodeUint(value);
  return { num: Math.floor(v / 16), more: (v & 8) !== 0, szx: v & 7 };
}

/** Block option value; `num` up to 2^20-1 (RFC 7959 2.2). */
export function encodeBlock(num: number, more: boolean, szx: number): Buffer {
  if (!Number.isInteger(num) || num < 0 || num > 0xfffff) throw new CoapMessageError(`block number ${num} out of range (0..1048575)`);
  if (!Number.isInteger(szx) || szx < 0 || szx > 6) throw new CoapMessageError(`block size exponent ${szx} out of range (0..6)`);
  return encodeUint(num * 16 + (more ? 8 : 0) + szx);
}

/** Block size of a size exponent: 2^(szx+4), 16..1024. */
export function blockSize(szx: number): number {
  return 1 << (szx + 4);
}

/** Size exponent of a block size (16, 32, ... 1024). Throws for other sizes. */
export function szxOf(size: number): number {
  for (let szx = 0; szx <= 6; szx++) if (1 << (szx + 4) === size) return szx;
  throw new CoapMessageError(`block size ${size} is not a power of two from 16 to 1024`);
}

/**
 * Bytes of short segments ('3', '0', '5700', 'rd'...: LwM2M path segments recur in nearly every request), shared by
 * every option made from them: option values are only read (copied into the message by encode). Bounded: cleared when
 * full.
 */
const SEGMENT_CACHE_MAX = 4096;
const segmentBytes = new Map<string, Buffer>();

function segmentValue(s: string): Buffer {
  if (s.length > 5) return Buffer.from(s, 'utf8');
  let b = segmentBytes.get(s);
  if (b === undefined) {
    b = Buffer.from(s, 'utf8');
    if (segmentBytes.size >= SEGMENT_CACHE_MAX) segmentBytes.clear();
    segmentBytes.set(s, b);
  }
  return b;
}

/** Encodes string segments (Uri-Path, Uri-Query, Location-Path) as options, each at most 255 bytes. */
export function stringOptions(number: number, segments: readonly string[], into: CoapOption[]): void {
  for (const s of segments) {
    if (typeof s !== 'string') throw new CoapMessageError(`option ${number}: segment ${String(s)} is not a string`);
    const value = segmentValue(s);
    if (value.length > 255) throw new CoapMessageError(`option ${number}: segment of ${value.length} bytes (at most 255)`);
    into.push({ number, value });
  }
}

/** Splits '/3/0/1' (or ['3','0','1']) into Uri-Path segments; '/' is the root (no segment). */
export function pathSegments(path: string[] | string): string[] {
  if (Array.isArray(path)) return path;
  if (typeof path !== 'string') throw new CoapMessageError(`path ${String(path)} is neither a string nor an array`);
  const body = path.startsWith('/') ? path.slice(1) : path;
  if (body === '') return [];
  return body.split('/');
}

/** Uint option pushed when defined; validated against the option's maximum length in bytes. */
export function uintOption(number: number, value: number | undefined, maxBytes: number, into: CoapOption[]): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** (8 * maxBytes)) {
    throw new CoapMessageError(`option ${number}: value ${value} is not an unsigned integer of at most ${maxBytes} bytes`);
  }
  into.push({ number, value: value < 0x10000 ? smallUintBytes(value) : encodeUint(value) });
}

/** Shared bytes of small option values (Content-Format, Accept: a handful of values in every message), like segmentValue. */
const uintCache = new Map<number, Buffer>();

function smallUintBytes(n: number): Buffer {
  let b = uintCache.get(n);
  if (b === undefined) {
    b = encodeUint(n);
    if (uintCache.size >= SEGMENT_CACHE_MAX) uintCache.clear();
    uintCache.set(n, b);
  }
  return b;
}
