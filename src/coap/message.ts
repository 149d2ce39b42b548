/**
 * CoAP message wire format (RFC 7252 3): a strict decoder (validation and option walk in one pass), a direct encoder
 * into one Buffer, and the option numbers/value helpers the endpoint needs. Both produce and accept exactly what
 * coap-packet's `parse` / `generate` do for valid messages (test/coap/message.test.ts compares them over random
 * messages); they exist because the generic versions allocate per option (names, sort, one Buffer per option).
 */
import { CoapMessageError } from './errors';

/** Message types (RFC 7252 3, field T). */
export const CON = 0;
export const NON = 1;
export const ACK = 2;
export const RST = 3;
export type MessageType = 0 | 1 | 2 | 3;

/** Option numbers (RFC 7252 5.10, RFC 7641, RFC 7959, RFC 7967). */
export const Opt = {
  IF_MATCH: 1,
  URI_HOST: 3,
  ETAG: 4,
  IF_NONE_MATCH: 5,
  OBSERVE: 6,
  URI_PORT: 7,
  LOCATION_PATH: 8,
  OSCORE: 9,
  URI_PATH: 11,
  CONTENT_FORMAT: 12,
  MAX_AGE: 14,
  URI_QUERY: 15,
  HOP_LIMIT: 16,
  ACCEPT: 17,
  Q_BLOCK1: 19,
  LOCATION_QUERY: 20,
  BLOCK2: 23,
  BLOCK1: 27,
  SIZE2: 28,
  Q_BLOCK2: 31,
  PROXY_URI: 35,
  PROXY_SCHEME: 39,
  SIZE1: 60,
  NO_RESPONSE: 258,
} as const;

export interface CoapOption {
  number: number;
  value: Buffer;
}

/** A decoded CoAP message. `code` is `c.dd` ('0.00' empty, '0.01' GET, '2.05' Content...). */
export interface CoapMessage {
  type: MessageType;
  code: string;
  messageId: number;
  token: Buffer;
  /** In option-number order, as on the wire. */
  options: CoapOption[];
  payload: Buffer;
}

export const METHOD_CODES = {
  GET: '0.01', POST: '0.02', PUT: '0.03', DELETE: '0.04', FETCH: '0.05', PATCH: '0.06', iPATCH: '0.07',
} as const;
export const METHOD_BY_CODE: Record<string, keyof typeof METHOD_CODES> = {
  '0.01': 'GET', '0.02': 'POST', '0.03': 'PUT', '0.04': 'DELETE', '0.05': 'FETCH', '0.06': 'PATCH', '0.07': 'iPATCH',
};

/** Largest UDP payload (IPv4: 65535 - 8 - 20). Block-wise transfers keep real messages far below it. */
export const MAX_DATAGRAM = 65507;

/**
 * Checks the structure of a datagram without allocating (RFC 7252 3 and 3.1): version 1, token length 0-8, options within
 * the buffer, no reserved nibble 15 except in the payload marker, no payload marker in front of an empty payload, empty
 * messages (code 0.00) of exactly 4 bytes. Throws {@link CoapMessageError}; `header` is set when the 4-byte header is
 * readable so the caller can answer a Confirmable message with a Reset.
 */
export function validate(buf: Buffer): void {
  const len = buf.length;
  if (len < 4) throw new CoapMessageError(`datagram of ${len} bytes is shorter than the 4-byte header`);
  const b0 = buf[0];
  // RFC 7252 3: "Messages with unknown version numbers MUST be silently ignored" (no header: no Reset either).
  if (b0 >> 6 !== 1) throw new CoapMessageError(`unsupported version ${b0 >> 6}`);
  const header = { type: (b0 >> 4) & 3, messageId: (buf[2] << 8) | buf[3] };
  const tkl = b0 & 15;
  // Lengths 9-15 are reserved and "MUST be processed as a message format error".
  if (tkl > 8) throw new CoapMessageError(`reserved token length ${tkl}`, header);
  if (buf[1] === 0) {
    // RFC 7252 4.1: an Empty message has code 0.00, TKL 0 and nothing after the Message ID.
    if (len !== 4 || tkl !== 0) throw new CoapMessageError('empty message (code 0.00) with a token, options or payload', header);
    return;
  }
  let i = 4 + tkl;
  if (i > len) throw new CoapMessageError('token runs past the end of the datagram', header);
  let number = 0;
  while (i < len) {
    const b = buf[i];
    if (b === 0xff) {
      if (i + 1 === len) throw new CoapMessageError('payload marker followed by an empty payload', header);
      return;
    }
    i++;
    let delta = b >> 4;
    let olen = b & 15;
    if (delta === 13) {
      if (i + 1 > len) throw new CoapMessageError('truncated option delta', header);
      delta = buf[i] + 13;
      i += 1;
    } else if (delta === 14) {
      if (i + 2 > len) throw new CoapMessageError('truncated option delta', header);
      delta = ((buf[i] << 8) | buf[i + 1]) + 269;
      i += 2;
    } else if (delta === 15) {
      throw new CoapMessageError('reserved option delta 15', header);
    }
    if (olen === 13) {
      if (i + 1 > len) throw new CoapMessageError('truncated option length', header);
      olen = buf[i] + 13;
      i += 1;
    } else if (olen === 14) {
      if (i + 2 > len) throw new CoapMessageError('truncated option length', header);
      olen = ((buf[i] << 8) | buf[i + 1]) + 269;
      i += 2;
    } else if (olen === 15) {
      throw new CoapMessageError('reserved option length 15', header);
    }
    number += delta;
    if (number > 0xffff) throw new CoapMessageError(`option number ${number} above 65535`, header);
    i += olen;
    if (i > len) throw new CoapMessageError(`option ${number} runs past the end of the datagram`, header);
  }
}

/** 'c.dd' strings of the 256 code bytes (no string built per message). */
const CODE_STRINGS: string[] = Array.from({ length: 256 }, (_, b) => codeString(b >> 5, b & 31));
const NO_OPTIONS: CoapOption[] = [];

/**
 * Decodes a datagram; throws {@link CoapMessageError} for anything malformed (see {@link validate}). Token, option
 * values and payload are views into `buf` (no copies).
 */
export function decode(buf: Buffer): CoapMessage {
  validate(buf);
  const b0 = buf[0];
  const type = ((b0 >> 4) & 3) as MessageType;
  const messageId = (buf[2] << 8) | buf[3];
  const tkl = b0 & 15;
  if (buf[1] === 0) {
    // validate() checked: exactly the 4-byte header
    return { type, code: '0.00', messageId, token: buf.subarray(4, 4), options: [], payload: EMPTY };
  }
  const len = buf.length;
  const options: CoapOption[] = [];
  let i = 4 + tkl;
  let number = 0;
  let payload = EMPTY;
  // Bounds and reserved values were checked by validate(): this walk only reads.
  while (i < len) {
    const b = buf[i];
    if (b === 0xff) {
      payload = buf.subarray(i + 1, len);
      break;
    }
    i++;
    let delta = b >> 4;
    let olen = b & 15;
    if (delta === 13) delta = buf[i++] + 13;
    else if (delta === 14) {
      delta = ((buf[i] << 8) | buf[i + 1]) + 269;
      i += 2;
    }
    if (olen === 13) olen = buf[i++] + 13;
    else if (olen === 14) {
      olen = ((buf[i] << 8) | buf[i + 1]) + 269;
      i += 2;
    }
    number += delta;
    options.push({ number, value: buf.subarray(i, i + olen) });
    i += olen;
  }
  return { type, code: CODE_STRINGS[buf[1]], messageId, token: buf.subarray(4, 4 + tkl), options, payload };
}

/** A message to encode. Options need not be sorted. */
export interface OutMessage {
  type: MessageType;
  code: string;
  messageId: number;
  token?: Buffer;
  options?: CoapOption[];
  payload?: Buffer;
}

const CODE_RE = /^[0-7]\.[0-3][0-9]$/;

/** Size of an option's header: 1 byte, plus 1 or 2 for an extended delta and for an extended length (RFC 7252 3.1). */
function optionHeaderSize(delta: number, len: number): number {
  return 1 + (delta < 13 ? 0 : delta < 269 ? 1 : 2) + (len < 13 ? 0 : len < 269 ? 1 : 2);
}

function byNumber(a: CoapOption, b: CoapOption): number {
  return a.number - b.number;
}

/**
 * Encodes a message into one exactly sized Buffer; throws {@link CoapMessageError} when it cannot be (bad code, token
 * over 8 bytes, bad option, too large). Options are written in number order (a stable sort when they are not given in
 * order: repeated options keep their relative order, RFC 7252 5.4.5).
 */
export function encode(msg: OutMessage): Buffer {
  const code = msg.code;
  if (!CODE_RE.test(code) || Number(code.slice(2)) > 31) throw new CoapMessageError(`invalid code "${code}"`);
  const token = msg.token;
  if (token && token.length > 8) throw new CoapMessageError(`token of ${token.length} bytes (at most 8)`);
  const mid = msg.messageId;
  if (!(mid >= 0 && mid <= 0xffff)) throw new CoapMessageError(`invalid message id ${mid}`);
  if (code === '0.00') return emptyMessage(msg.type, mid);
  let opts = msg.options ?? NO_OPTIONS;
  const tkl = token ? token.length : 0;
  let size = 4 + tkl;
  let prev = 0;
  let sorted = true;
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i];
    const n = o.number;
    if (!(Number.isInteger(n) && n > 0 && n <= 0xffff)) throw new CoapMessageError(`invalid option number ${n}`);
    const v = o.value;
    if (!(v instanceof Uint8Array)) throw new CoapMessageError(`option ${n}: value is not a Buffer`);
    if (v.length > 65535 + 269) throw new CoapMessageError(`option ${n} value of ${v.length} bytes`);
    if (n < prev) sorted = false;
    prev = n;
  }
  if (!sorted) opts = opts.slice().sort(byNumber); // Array.prototype.sort is stable
  prev = 0;
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i];
    size += optionHeaderSize(o.number - prev, o.value.length) + o.value.length;
    prev = o.number;
  }
  const payload = msg.payload;
  if (payload && !(payload instanceof Uint8Array)) throw new CoapMessageError('payload is not a Buffer');
  const plen = payload ? payload.length : 0;
  if (plen > 0) size += 1 + plen;
  if (size > MAX_DATAGRAM) throw new CoapMessageError(`cannot encode: Max packet size is ${MAX_DATAGRAM}: current is ${size}`);
  const out = Buffer.allocUnsafe(size);
  // RFC 7252 3: Ver 1, T, TKL | Code (class << 5 | detail) | Message ID
  const t = msg.type;
  out[0] = 0x40 | ((t === CON || t === ACK || t === RST ? t : NON) << 4) | tkl;
  out[1] = ((code.charCodeAt(0) - 48) << 5) | ((code.charCodeAt(2) - 48) * 10 + (code.charCodeAt(3) - 48));
  out[2] = (mid >> 8) & 0xff;
  out[3] = mid & 0xff;
  let pos = 4;
  if (tkl > 0) {
    out.set(token!, pos);
    pos += tkl;
  }
  prev = 0;
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i];
    const v = o.value;
    const vlen = v.length;
    const delta = o.number - prev;
    prev = o.number;
    const at = pos++;
    let head: number;
    if (delta < 13) head = delta << 4;
    else if (delta < 269) {
      head = 13 << 4;
      out[pos++] = delta - 13;
    } else {
      head = 14 << 4;
      out[pos++] = (delta - 269) >> 8;
      out[pos++] = (delta - 269) & 0xff;
    }
    if (vlen < 13) head |= vlen;
    else if (vlen < 269) {
      head |= 13;
      out[pos++] = vlen - 13;
    } else {
      head |= 14;
      out[pos++] = (vlen - 269) >> 8;
      out[pos++] = (vlen - 269) & 0xff;
    }
    out[at] = head;
    if (vlen === 1) out[pos] = v[0];
    else if (vlen > 0) out.set(v, pos);
    pos += vlen;
  }
  if (plen > 0) {
    out[pos++] = 0xff;
    out.set(payload!, pos);
  }
  return out;
}

/** A 4-byte Empty message (ACK, RST, or a CoAP ping when CON), RFC 7252 4.1. */
export function emptyMessage(type: MessageType, messageId: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b[0] = 0x40 | (type << 4);
  b[1] = 0;
  b[2] = (messageId >> 8) & 0xff;
  b[3] = messageId & 0xff;
  return b;
}

/** Reads type and message id of a datagram that passed at least the header check. */
export function headerOf(buf: Buffer): { type: MessageType; messageId: number } {
  return { type: ((buf[0] >> 4) & 3) as MessageType, messageId: (buf[2] << 8) | buf[3] };
}

/** Minimal-length unsigned integer option value (RFC 7252 3.2: leading zero bytes are not sent; 0 is empty). */
export function encodeUint(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new CoapMessageError(`option value ${n} is not a 32-bit unsigned integer`);
  if (n === 0) return EMPTY;
  if (n < 0x100) return Buffer.from([n]);
  if (n < 0x10000) return Buffer.from([n >> 8, n & 0xff]);
  if (n < 0x1000000) return Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.from([n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

/** Reads an unsigned integer option value of 0-4 bytes (callers check the per-option maximum length first). */
export function decodeUint(b: Buffer): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) n = n * 256 + b[i];
  return n;
}

export const EMPTY: Buffer = Buffer.alloc(0);

/** 'c.dd' of a code byte. */
export function codeString(cls: number, detail: number): string {
  return `${cls}.${detail < 10 ? '0' : ''}${detail}`;
}

/** Class of a 'c.dd' code (0 request/empty, 2 success, 4 client error, 5 server error). */
export function codeClass(code: string): number {
  return code.charCodeAt(0) - 48;
}

/** True for a response code we may send: 2.xx, 4.xx, 5.xx with a detail 00-31. */
export function isResponseCode(code: string): boolean {
  if (typeof code !== 'string' || !CODE_RE.test(code)) return false;
  const c = codeClass(code);
  return (c === 2 || c === 4 || c === 5) && Number(code.slice(2)) <= 31;
}
