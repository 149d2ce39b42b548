/**
 * The load generator's CoAP (RFC 7252 3): just enough to build and read messages without costing the load side much.
 * Templates are generated once with coap-packet; the hot path patches message ids and tokens in place and reads
 * header bytes directly. Independent of src/coap on purpose.
 */
import { generate } from 'coap-packet';

export const TYPE_CON = 0;
export const TYPE_NON = 1;
export const TYPE_ACK = 2;
export const TYPE_RST = 3;

/** 2.05 Content, as the code byte (class << 5 | detail). */
export const CODE_205 = (2 << 5) | 5;
export const CODE_201 = (2 << 5) | 1;
export const CODE_404 = (4 << 5) | 4;
export const CODE_406 = (4 << 5) | 6;

export const OPT_OBSERVE = 6;
export const OPT_URI_PATH = 11;
export const OPT_CONTENT_FORMAT = 12;
export const OPT_ACCEPT = 17;

export function typeOf(buf: Buffer): number { return (buf[0] >> 4) & 3; }
export function tklOf(buf: Buffer): number { return buf[0] & 0x0f; }
export function midOf(buf: Buffer): number { return (buf[2] << 8) | buf[3]; }
/** Code class: 0 request/empty, 2 success, 4 client error, 5 server error. */
export function codeClass(code: number): number { return code >> 5; }
export function codeString(code: number): string { return `${code >> 5}.${String(code & 31).padStart(2, '0')}`; }

/** An empty ACK (RFC 7252 4.2) for a CON message. */
export function emptyAck(mid: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b[0] = 0x60; b[1] = 0; b[2] = mid >> 8; b[3] = mid & 0xff;
  return b;
}

/** What the responder needs from a request: its path (`/3/0/0`), Accept and Observe. */
export interface RequestView {
  path: string;
  accept: number;
  /** -1 when absent */
  observe: number;
}

/** Reads the options of a request (RFC 7252 3.1). Returns false for a malformed message. */
export function readRequest(buf: Buffer, out: RequestView): boolean {
  out.path = '';
  out.accept = -1;
  out.observe = -1;
  let i = 4 + tklOf(buf);
  let num = 0;
  while (i < buf.length) {
    const b = buf[i++];
    if (b === 0xff) break;
    let delta = b >> 4;
    let len = b & 0x0f;
    if (delta === 13) delta = 13 + buf[i++];
    else if (delta === 14) { delta = 269 + ((buf[i] << 8) | buf[i + 1]); i += 2; } else if (delta === 15) return false;
    if (len === 13) len = 13 + buf[i++];
    else if (len === 14) { len = 269 + ((buf[i] << 8) | buf[i + 1]); i += 2; } else if (len === 15) return false;
    num += delta;
    if (i + len > buf.length) return false;
    if (num === OPT_URI_PATH) out.path += '/' + buf.toString('latin1', i, i + len);
    else if (num === OPT_ACCEPT || num === OPT_OBSERVE) {
      let v = 0;
      for (let k = 0; k < len; k++) v = v * 256 + buf[i + k];
      if (num === OPT_ACCEPT) out.accept = v; else out.observe = v;
    }
    i += len;
  }
  if (out.path === '') out.path = '/';
  return true;
}

function uintLen(v: number): number { return v === 0 ? 0 : v < 0x100 ? 1 : v < 0x10000 ? 2 : v < 0x1000000 ? 3 : 4; }

function writeUintOption(b: Buffer, at: number, delta: number, v: number): number {
  const len = uintLen(v);
  b[at++] = (delta << 4) | len; // deltas used here are below 13
  for (let k = len - 1; k >= 0; k--) b[at++] = (v >>> (8 * k)) & 0xff;
  return at;
}

/**
 * A response: `type` ACK (piggybacked, RFC 7252 5.2.1) or CON/NON (a notification, RFC 7641 4.2), with the token of
 * `src` (bytes `tokenAt .. tokenAt + tkl`), an optional Observe and Content-Format, and a payload.
 */
export function response(type: number, code: number, mid: number, src: Buffer, tokenAt: number, tkl: number,
  observe: number, contentFormat: number, payload: Buffer | undefined): Buffer {
  const plen = payload && payload.length > 0 ? payload.length + 1 : 0;
  const olen = (observe >= 0 ? 1 + uintLen(observe) : 0) + (contentFormat >= 0 ? 1 + uintLen(contentFormat) : 0);
  const b = Buffer.allocUnsafe(4 + tkl + olen + plen);
  b[0] = 0x40 | (type << 4) | tkl;
  b[1] = code;
  b[2] = mid >> 8;
  b[3] = mid & 0xff;
  src.copy(b, 4, tokenAt, tokenAt + tkl);
  let at = 4 + tkl;
  let last = 0;
  if (observe >= 0) { at = writeUintOption(b, at, OPT_OBSERVE - last, observe); last = OPT_OBSERVE; }
  if (contentFormat >= 0) { at = writeUintOption(b, at, OPT_CONTENT_FORMAT - last, contentFormat); last = OPT_CONTENT_FORMAT; }
  if (plen > 0) {
    b[at++] = 0xff;
    payload!.copy(b, at);
  }
  return b;
}

/**
 * A Register request template (OMA TS Core 1.1 6.2.1: `POST /rd?ep=..&lt=..&lwm2m=..&b=U`, link-format object list),
 * with a fixed-width endpoint name so that one template serves every device: {@link RegisterTemplate.make} copies it
 * and patches the name's digits, the token (4 bytes: the device index) and the message id.
 */
export class RegisterTemplate {
  private readonly base: Buffer;
  private readonly digitsAt: number;
  readonly digits: number;

  constructor(readonly prefix: string, digits: number, opts: { lifetime?: number; version?: string; links?: string } = {}) {
    this.digits = digits;
    const ep = prefix + '0'.repeat(digits);
    this.base = generate({
      confirmable: true,
      code: 'POST',
      messageId: 0,
      token: Buffer.alloc(4),
      options: [
        { name: 'Uri-Path', value: Buffer.from('rd') },
        { name: 'Content-Format', value: Buffer.from([40]) },
        { name: 'Uri-Query', value: Buffer.from(`ep=${ep}`) },
        { name: 'Uri-Query', value: Buffer.from(`lt=${opts.lifetime ?? 86400}`) },
        { name: 'Uri-Query', value: Buffer.from(`lwm2m=${opts.version ?? '1.1'}`) },
        { name: 'Uri-Query', value: Buffer.from('b=U') },
      ],
      payload: Buffer.from(opts.links ?? '</>;rt="oma.lwm2m";ct=112,</1/0>,</3/0>,</4/0>,</3303/0>'),
    });
    this.digitsAt = this.base.indexOf(Buffer.from(`ep=${ep}`)) + 3 + prefix.length;
  }

  endpointName(i: number): string {
    return this.prefix + String(i).padStart(this.digits, '0');
  }

  make(i: number, mid: number): Buffer {
    const b = Buffer.allocUnsafe(this.base.length);
    this.base.copy(b);
    b.writeUInt16BE(mid, 2);
    b.writeUInt32BE(i >>> 0, 4);
    let v = i;
    for (let k = this.digits - 1; k >= 0; k--) {
      b[this.digitsAt + k] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    }
    return b;
  }
}
