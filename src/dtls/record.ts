import { ContentType, DTLS_1_0, DTLS_1_2, HandshakeType, MAX_CIPHERTEXT_LENGTH, RECORD_HEADER_LENGTH } from './constants';

/**
 * The DTLS record layer framing (RFC 6347 4.1):
 *
 *   struct { ContentType type; ProtocolVersion version; uint16 epoch; uint48 sequence_number; uint16 length;
 *            opaque fragment[length]; } DTLSPlaintext / DTLSCiphertext;
 *
 * Several records may share one datagram; a record never spans two (4.1.1). This file only frames: protection lives in
 * the cipher files, replay protection in replay-window.ts.
 */

/** One parsed record header. Reused by the receive loop (one instance per socket), so read it before the next parse. */
export class RecordView {
  type = 0;
  version = 0;
  epoch = 0;
  seq = 0;
  /** Offset of the fragment in the datagram. */
  start = 0;
  /** Offset one past the fragment. */
  end = 0;
}

/**
 * Parses the record header at `offset` of `datagram` into `out`. Returns the offset of the next record, or -1 when the
 * rest of the datagram is not a record we take (too short, length beyond the datagram or beyond 2^14+2048, unknown
 * content type, a version we do not take): the caller drops the rest of the datagram (RFC 6347 4.1.2.7: invalid
 * records are discarded) and may ask {@link rejectReason} why.
 *
 * Records are DTLS 1.2 or 1.0, with one exception: an initial ClientHello (epoch 0, a handshake record starting with
 * a ClientHello) may carry any {254, xx} record version. This is the DTLS form of RFC 5246 Appendix E.1 ("a TLS
 * server MUST accept any value {03,XX} as the record layer version number for ClientHello"; the version is negotiated
 * from the handshake's client_version): mbedTLS 2.x sends its first ClientHello in a 0xFE00 record unless the
 * application pins TLS 1.2, and OpenSSL answers it.
 */
export function parseRecord(datagram: Buffer, offset: number, out: RecordView): number {
  if (datagram.length - offset < RECORD_HEADER_LENGTH) return -1;
  const type = datagram[offset];
  if (type < ContentType.ChangeCipherSpec || type > ContentType.ApplicationData) return -1;
  const version = (datagram[offset + 1] << 8) | datagram[offset + 2];
  const length = (datagram[offset + 11] << 8) | datagram[offset + 12];
  const start = offset + RECORD_HEADER_LENGTH;
  if (length > MAX_CIPHERTEXT_LENGTH || start + length > datagram.length) return -1;
  const epoch = (datagram[offset + 3] << 8) | datagram[offset + 4];
  if (version !== DTLS_1_2 && version !== DTLS_1_0) {
    if (version >>> 8 !== 0xfe) return -1;
    if (epoch !== 0 || type !== ContentType.Handshake || length === 0 || datagram[start] !== HandshakeType.ClientHello) {
      return -1;
    }
  }
  out.type = type;
  out.version = version;
  out.epoch = epoch;
  // 48-bit sequence number: exact in a double (< 2^53).
  out.seq = (datagram[offset + 5] * 2 ** 40) + (datagram[offset + 6] * 2 ** 32) + datagram.readUInt32BE(offset + 7);
  out.start = start;
  out.end = start + length;
  return start + length;
}

/**
 * Why {@link parseRecord} refused the record at `offset` (for drop statistics; a fixed set of reasons, so counters keyed
 * by it stay bounded). Called only on the refusal path.
 */
export function rejectReason(datagram: Buffer, offset: number): 'malformed record' | 'unsupported record version' {
  if (datagram.length - offset < RECORD_HEADER_LENGTH) return 'malformed record';
  const type = datagram[offset];
  if (type < ContentType.ChangeCipherSpec || type > ContentType.ApplicationData) return 'malformed record';
  const length = (datagram[offset + 11] << 8) | datagram[offset + 12];
  if (length > MAX_CIPHERTEXT_LENGTH || offset + RECORD_HEADER_LENGTH + length > datagram.length) return 'malformed record';
  // a DTLS version (major 254) we do not take here; any other is not DTLS at all
  const version = (datagram[offset + 1] << 8) | datagram[offset + 2];
  return version >>> 8 === 0xfe && version !== DTLS_1_2 && version !== DTLS_1_0 ? 'unsupported record version' : 'malformed record';
}

/** Writes a record header into `buf` at `offset`. */
export function writeRecordHeader(buf: Buffer, offset: number, type: number, version: number, epoch: number, seq: number,
  length: number): void {
  buf[offset] = type;
  buf[offset + 1] = version >>> 8;
  buf[offset + 2] = version & 0xff;
  buf[offset + 3] = epoch >>> 8;
  buf[offset + 4] = epoch & 0xff;
  writeSeq48(buf, offset + 5, seq);
  buf[offset + 11] = length >>> 8;
  buf[offset + 12] = length & 0xff;
}

/** Writes a 48-bit sequence number big-endian. */
export function writeSeq48(buf: Buffer, offset: number, seq: number): void {
  const hi = Math.floor(seq / 2 ** 32);
  buf[offset] = (hi >>> 8) & 0xff;
  buf[offset + 1] = hi & 0xff;
  buf.writeUInt32BE(seq >>> 0, offset + 2);
}

/** A whole unprotected record (epoch 0). */
export function encodePlainRecord(type: number, version: number, epoch: number, seq: number, fragment: Buffer): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER_LENGTH + fragment.length);
  writeRecordHeader(out, 0, type, version, epoch, seq, fragment.length);
  fragment.copy(out, RECORD_HEADER_LENGTH);
  return out;
}
