import { HANDSHAKE_HEADER_LENGTH } from './constants';
import { DtlsDecodeError } from './errors';
import { Reader } from './reader';

/**
 * Handshake message formats (RFC 5246 7.4 with the DTLS changes of RFC 6347 4.2, 4.3.2; PSK messages of RFC 4279 2).
 * Decoders throw {@link DtlsDecodeError} on anything malformed; encoders return the message body (the handshake
 * header is added by {@link encodeHandshake}).
 */

/** One handshake fragment as it sits in a record (RFC 6347 4.2.2). `body` is the fragment's bytes. */
export interface HandshakeFragment {
  msgType: number;
  /** Length of the whole message. */
  length: number;
  messageSeq: number;
  fragmentOffset: number;
  fragmentLength: number;
  body: Buffer;
  /** Header + fragment as received (the whole message when unfragmented). */
  raw: Buffer;
}

/** A complete handshake message. `raw` is header + body as if sent unfragmented: what the transcript hashes (4.2.6). */
export interface HandshakeMessage {
  msgType: number;
  messageSeq: number;
  body: Buffer;
  raw: Buffer;
}

/**
 * Splits the plaintext of a handshake record into fragments (a record may carry several, RFC 6347 4.2.3).
 * Throws on a truncated header or a fragment past the end of the message it claims to be part of.
 */
export function parseHandshakeFragments(plain: Buffer): HandshakeFragment[] {
  const out: HandshakeFragment[] = [];
  let pos = 0;
  while (pos < plain.length) {
    if (plain.length - pos < HANDSHAKE_HEADER_LENGTH) throw new DtlsDecodeError('handshake header', 'truncated');
    const msgType = plain[pos];
    const length = plain.readUIntBE(pos + 1, 3);
    const messageSeq = plain.readUInt16BE(pos + 4);
    const fragmentOffset = plain.readUIntBE(pos + 6, 3);
    const fragmentLength = plain.readUIntBE(pos + 9, 3);
    const start = pos + HANDSHAKE_HEADER_LENGTH;
    if (fragmentLength > plain.length - start) throw new DtlsDecodeError('handshake fragment', 'longer than its record');
    if (fragmentOffset + fragmentLength > length) throw new DtlsDecodeError('handshake fragment', 'past the end of its message');
    out.push({
      msgType, length, messageSeq, fragmentOffset, fragmentLength,
      body: plain.subarray(start, start + fragmentLength),
      raw: plain.subarray(pos, start + fragmentLength),
    });
    pos = start + fragmentLength;
  }
  return out;
}

/** Writes a handshake header (12 bytes) at `offset`. */
export function writeHandshakeHeader(buf: Buffer, offset: number, msgType: number, length: number, messageSeq: number,
  fragmentOffset: number, fragmentLength: number): void {
  buf[offset] = msgType;
  buf.writeUIntBE(length, offset + 1, 3);
  buf.writeUInt16BE(messageSeq, offset + 4);
  buf.writeUIntBE(fragmentOffset, offset + 6, 3);
  buf.writeUIntBE(fragmentLength, offset + 9, 3);
}

/** A whole, unfragmented handshake message: header (offset 0, fragment_length = length) + body. */
export function encodeHandshake(msgType: number, messageSeq: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HANDSHAKE_HEADER_LENGTH + body.length);
  writeHandshakeHeader(out, 0, msgType, body.length, messageSeq, 0, body.length);
  body.copy(out, HANDSHAKE_HEADER_LENGTH);
  return out;
}

/**
 * Splits a whole message (from {@link encodeHandshake}) into fragments whose header + body fit `maxFragmentSize`
 * bytes (RFC 6347 4.2.3). A message that fits is returned as is.
 */
export function fragmentHandshake(message: Buffer, maxFragmentSize: number): Buffer[] {
  if (message.length <= maxFragmentSize) return [message];
  const chunk = maxFragmentSize - HANDSHAKE_HEADER_LENGTH;
  if (chunk < 1) throw new RangeError('fragment size too small for a handshake header');
  const msgType = message[0];
  const length = message.readUIntBE(1, 3);
  const seq = message.readUInt16BE(4);
  const out: Buffer[] = [];
  for (let off = 0; off < length; off += chunk) {
    const n = Math.min(chunk, length - off);
    const frag = Buffer.allocUnsafe(HANDSHAKE_HEADER_LENGTH + n);
    writeHandshakeHeader(frag, 0, msgType, length, seq, off, n);
    message.copy(frag, HANDSHAKE_HEADER_LENGTH, HANDSHAKE_HEADER_LENGTH + off, HANDSHAKE_HEADER_LENGTH + off + n);
    out.push(frag);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Hello extensions (RFC 5246 7.4.1.4)

export interface Extension {
  type: number;
  data: Buffer;
}

function parseExtensions(r: Reader, what: string): Extension[] {
  if (r.remaining === 0) return [];
  const block = r.vec16();
  const er = new Reader(block, what);
  const out: Extension[] = [];
  while (er.remaining > 0) {
    const type = er.u16();
    const data = er.vec16();
    // "There MUST NOT be more than one extension of the same type" (RFC 5246 7.4.1.4)
    for (const e of out) if (e.type === type) throw new DtlsDecodeError(what, `duplicate extension ${type}`);
    out.push({ type, data });
  }
  return out;
}

function extensionsLength(exts: readonly Extension[]): number {
  let n = 0;
  for (const e of exts) n += 4 + e.data.length;
  return n;
}

function writeExtensions(buf: Buffer, pos: number, exts: readonly Extension[]): number {
  if (exts.length === 0) return pos;
  pos = buf.writeUInt16BE(extensionsLength(exts), pos);
  for (const e of exts) {
    pos = buf.writeUInt16BE(e.type, pos);
    pos = buf.writeUInt16BE(e.data.length, pos);
    pos += e.data.copy(buf, pos);
  }
  return pos;
}

export function findExtension(exts: readonly Extension[], type: number): Extension | undefined {
  for (const e of exts) if (e.type === type) return e;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------------
// ClientHello (RFC 6347 4.2.1 adds the cookie)

export interface ClientHello {
  clientVersion: number;
  random: Buffer;
  sessionId: Buffer;
  cookie: Buffer;
  cipherSuites: number[];
  compressionMethods: Buffer;
  extensions: Extension[];
}

/**
 * The ClientHello and, for the stateless cookie check, the two byte ranges of the body the cookie is computed over:
 * [0, cookieStart) = version + random + session_id, and [cookieEnd, paramsEnd) = cipher_suites + compression_methods.
 */
export interface ParsedClientHello extends ClientHello {
  cookieStart: number;
  cookieEnd: number;
  paramsEnd: number;
}

export function decodeClientHello(body: Buffer): ParsedClientHello {
  const r = new Reader(body, 'ClientHello');
  const clientVersion = r.u16();
  const random = r.bytes(32);
  const sessionId = r.vec8(0, 32);
  const cookieStart = r.offset;
  const cookie = r.vec8(0, 255);
  const cookieEnd = r.offset;
  const suitesBytes = r.vec16(2, 65534);
  if (suitesBytes.length % 2 !== 0) throw new DtlsDecodeError('ClientHello', 'odd cipher_suites length');
  const cipherSuites: number[] = [];
  for (let i = 0; i < suitesBytes.length; i += 2) cipherSuites.push(suitesBytes.readUInt16BE(i));
  const compressionMethods = r.vec8(1, 255);
  const paramsEnd = r.offset;
  const extensions = parseExtensions(r, 'ClientHello extensions');
  r.done();
  return { clientVersion, random, sessionId, cookie, cipherSuites, compressionMethods, extensions, cookieStart, cookieEnd, paramsEnd };
}

export function encodeClientHello(ch: ClientHello): Buffer {
  const extLen = ch.extensions.length ? 2 + extensionsLength(ch.extensions) : 0;
  const len = 2 + 32 + 1 + ch.sessionId.length + 1 + ch.cookie.length + 2 + 2 * ch.cipherSuites.length + 1 +
    ch.compressionMethods.length + extLen;
  const out = Buffer.allocUnsafe(len);
  let pos = out.writeUInt16BE(ch.clientVersion, 0);
  pos += ch.random.copy(out, pos);
  out[pos++] = ch.sessionId.length;
  pos += ch.sessionId.copy(out, pos);
  out[pos++] = ch.cookie.length;
  pos += ch.cookie.copy(out, pos);
  pos = out.writeUInt16BE(2 * ch.cipherSuites.length, pos);
  for (const s of ch.cipherSuites) pos = out.writeUInt16BE(s, pos);
  out[pos++] = ch.compressionMethods.length;
  pos += ch.compressionMethods.copy(out, pos);
  writeExtensions(out, pos, ch.extensions);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// HelloVerifyRequest (RFC 6347 4.2.1)

export interface HelloVerifyRequest {
  serverVersion: number;
  cookie: Buffer;
}

export function decodeHelloVerifyRequest(body: Buffer): HelloVerifyRequest {
  const r = new Reader(body, 'HelloVerifyRequest');
  const serverVersion = r.u16();
  const cookie = r.vec8(0, 255);
  r.done();
  return { serverVersion, cookie };
}

export function encodeHelloVerifyRequest(hvr: HelloVerifyRequest): Buffer {
  const out = Buffer.allocUnsafe(3 + hvr.cookie.length);
  out.writeUInt16BE(hvr.serverVersion, 0);
  out[2] = hvr.cookie.length;
  hvr.cookie.copy(out, 3);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// ServerHello (RFC 5246 7.4.1.3)

export interface ServerHello {
  serverVersion: number;
  random: Buffer;
  sessionId: Buffer;
  cipherSuite: number;
  compressionMethod: number;
  extensions: Extension[];
}

export function decodeServerHello(body: Buffer): ServerHello {
  const r = new Reader(body, 'ServerHello');
  const serverVersion = r.u16();
  const random = r.bytes(32);
  const sessionId = r.vec8(0, 32);
  const cipherSuite = r.u16();
  const compressionMethod = r.u8();
  const extensions = parseExtensions(r, 'ServerHello extensions');
  r.done();
  return { serverVersion, random, sessionId, cipherSuite, compressionMethod, extensions };
}

export function encodeServerHello(sh: ServerHello): Buffer {
  const extLen = sh.extensions.length ? 2 + extensionsLength(sh.extensions) : 0;
  const out = Buffer.allocUnsafe(2 + 32 + 1 + sh.sessionId.length + 2 + 1 + extLen);
  let pos = out.writeUInt16BE(sh.serverVersion, 0);
  pos += sh.random.copy(out, pos);
  out[pos++] = sh.sessionId.length;
  pos += sh.sessionId.copy(out, pos);
  pos = out.writeUInt16BE(sh.cipherSuite, pos);
  out[pos++] = sh.compressionMethod;
  writeExtensions(out, pos, sh.extensions);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// PSK key exchange (RFC 4279 2): ServerKeyExchange carries psk_identity_hint<0..2^16-1>, ClientKeyExchange psk_identity.

/** Longest PSK identity we accept or send. RFC 4279 5.3 asks for at least 128 bytes; the vector allows 2^16-1. */
export const MAX_PSK_IDENTITY_LENGTH = 1024;

export function decodePskServerKeyExchange(body: Buffer): Buffer {
  const r = new Reader(body, 'ServerKeyExchange');
  const hint = r.vec16(0, MAX_PSK_IDENTITY_LENGTH);
  r.done();
  return hint;
}

export function decodePskClientKeyExchange(body: Buffer): Buffer {
  const r = new Reader(body, 'ClientKeyExchange');
  const identity = r.vec16(0, MAX_PSK_IDENTITY_LENGTH);
  r.done();
  return identity;
}

/** opaque<0..2^16-1>: ServerKeyExchange (hint) and ClientKeyExchange (identity) of the PSK key exchange. */
export function encodeVec16(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + data.length);
  out.writeUInt16BE(data.length, 0);
  data.copy(out, 2);
  return out;
}

export function decodeFinished(body: Buffer): Buffer {
  if (body.length !== 12) throw new DtlsDecodeError('Finished', `verify_data of ${body.length} bytes, expected 12`);
  return body;
}

/** The empty renegotiation_info of an initial handshake: renegotiated_connection<0..255> of length 0 (RFC 5746 3.2). */
export const EMPTY_RENEGOTIATION_INFO = Buffer.from([0]);

